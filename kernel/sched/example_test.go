package sched_test

import (
	"fmt"

	"github.com/gmkernel/gmk/kernel/sched"
	"github.com/gmkernel/gmk/kernel/task"
)

// A worker pops weighted batches from the RQ: 8/4/2/1 over the four priorities.
func ExampleRQ() {
	q := sched.NewRQ(64)
	for p := range task.NumPriorities {
		for range 16 {
			t := task.Task{Type: 1}
			t.SetPriority(p)
			q.Push(&t)
		}
	}
	var c sched.Cursor // one per worker
	dst := make([]task.Task, 2)
	for range 8 {
		n := q.PopBatch(dst, &c)
		fmt.Print(dst[0].Priority(), "×", n, " ")
	}
	fmt.Println()
	// Output: 0×2 1×2 0×2 2×2 0×2 1×2 0×2 3×2
}

// A worker pops homogeneous batches from the GRQ, one handler type at a time.
func ExampleGRQ() {
	g := sched.NewGRQ([]uint32{10, 20}, 64, 20)
	now := int64(0) // the caller's clock (ns or ticks)
	for i := range 6 {
		t := task.Task{Type: uint32(10 + 10*(i%2)), Meta0: uint64(i)}
		g.Push(&t, now)
	}
	var c sched.GCursor
	c.Reset(0) // worker 0
	dst := make([]task.Task, 4)
	for {
		n := g.PopBatch(dst, &c, now)
		if n == 0 {
			break
		}
		fmt.Print("type ", dst[0].Type, ":")
		for _, t := range dst[:n] {
			fmt.Print(" ", t.Meta0)
		}
		fmt.Println()
	}
	// Output:
	// type 10: 0 2 4
	// type 20: 1 3 5
}

// A worker's EVQ fires the events that are due, earliest first.
func ExampleEVQ() {
	q := sched.NewEVQ[string](16)
	q.Push(30, "retry")
	q.Push(10, "timer A")
	q.Push(10, "timer B") // same due time: FIFO
	dst := make([]string, sched.DefaultEVQDrain)
	for _, now := range []int64{5, 10, 40} {
		n := q.PopDue(now, dst)
		fmt.Println(now, dst[:n])
	}
	// Output:
	// 5 []
	// 10 [timer A timer B]
	// 40 [retry]
}
