package ring_test

import (
	"fmt"
	"runtime"

	"github.com/gmkernel/gmk/kernel/ring"
	"github.com/gmkernel/gmk/kernel/task"
)

// An MPMC ring as a ready queue: any goroutine may push and pop. Tasks are
// copied in and out by value; Push reports false instead of blocking when the
// ring is full.
func ExampleMPMC() {
	q := ring.NewMPMC[task.Task](3) // rounded up to 4
	for i := range 5 {
		t := task.Task{Type: 1, Meta0: uint64(i)}
		fmt.Println("push", i, q.Push(&t))
	}
	batch := make([]task.Task, 8)
	n := q.PopBatch(batch)
	fmt.Println("popped", n, "of", q.Cap(), "first", batch[0].Meta0, "last", batch[n-1].Meta0)
	// Output:
	// push 0 true
	// push 1 true
	// push 2 true
	// push 3 true
	// push 4 false
	// popped 4 of 4 first 0 last 3
}

// An SPSC ring between one producer and one consumer goroutine.
func ExampleSPSC() {
	q := ring.NewSPSC[task.Task](64)
	done := make(chan struct{})
	go func() { // the only producer
		defer close(done)
		for i := range 100 {
			t := task.Task{Meta0: uint64(i)}
			for !q.Push(&t) { // full: let the consumer run (a real worker would park)
				runtime.Gosched()
			}
		}
	}()
	var sum uint64
	for got := 0; got < 100; { // the only consumer
		var t task.Task
		if !q.Pop(&t) { // empty: let the producer run
			runtime.Gosched()
			continue
		}
		sum += t.Meta0
		got++
	}
	<-done
	fmt.Println("sum", sum, "left", q.Len())
	// Output: sum 4950 left 0
}

// NewSPSCIn places the cells in memory the caller owns, such as an arena
// region; the element type must hold no Go pointers.
func ExampleNewSPSCIn() {
	region := make([]byte, 10*task.Size) // room for 10 tasks
	q := ring.NewSPSCIn[task.Task](region)
	in := []task.Task{{Type: 1}, {Type: 2}, {Type: 3}}
	fmt.Println("cap", q.Cap(), "pushed", q.PushBatch(in), "len", q.Len())
	// Output: cap 8 pushed 3 len 3
}
