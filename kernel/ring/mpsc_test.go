package ring

import (
	"slices"
	"sync"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// [R1] [R2] MPSC: several producers (single and batch pushes), one consumer,
// indices started near the uint64 wrap; every value is received exactly once
// and each producer's values arrive in order.
func TestR1_MPSCStress(t *testing.T) {
	const producers, per = 4, 20000
	for _, start := range []uint64{0, ^uint64(0) - 100} {
		r := newMPSCAt[task.Task](16, start)
		var wg sync.WaitGroup
		for p := range producers {
			wg.Go(func() {
				var batch [5]task.Task
				for i := 0; i < per; {
					if i%3 == 0 {
						m := min(len(batch), per-i)
						for j := range batch[:m] {
							batch[j] = task.Task{Meta0: uint64(p), Meta1: uint64(i + j)}
						}
						i += r.PushBatch(batch[:m])
						continue
					}
					v := task.Task{Meta0: uint64(p), Meta1: uint64(i)}
					if r.Push(&v) {
						i++
					}
				}
			})
		}
		next := make([]uint64, producers)
		got := 0
		buf := make([]task.Task, 7)
		for got < producers*per {
			n := r.PopBatch(buf)
			for _, v := range buf[:n] {
				if v.Meta1 != next[v.Meta0] {
					t.Fatalf("producer %d: got %d, want %d", v.Meta0, v.Meta1, next[v.Meta0])
				}
				next[v.Meta0]++
			}
			got += n
			if l := r.Len(); l < 0 || l > r.Cap() {
				t.Fatalf("Len %d", l)
			}
		}
		wg.Wait()
		if r.Len() != 0 || r.PopBatch(buf) != 0 {
			t.Fatalf("ring not empty at the end")
		}
	}
}

// [R1] MPSC against a slice queue: full and empty edges, partial batches.
func TestR1_MPSCModel(t *testing.T) {
	r := newMPSCAt[int](4, ^uint64(0)-5)
	var model []int
	next := 0
	buf := make([]int, 3)
	for step := range 2000 {
		switch step % 5 {
		case 0, 1:
			v := next
			ok := r.Push(&v)
			if ok != (len(model) < 4) {
				t.Fatalf("step %d: Push = %v with %d queued", step, ok, len(model))
			}
			if ok {
				model = append(model, v)
				next++
			}
		case 2:
			vs := []int{next, next + 1, next + 2}
			n := r.PushBatch(vs)
			if n != min(3, 4-len(model)) {
				t.Fatalf("step %d: PushBatch = %d with %d queued", step, n, len(model))
			}
			model = append(model, vs[:n]...)
			next += n
		default:
			n := r.PopBatch(buf[:1+step%3])
			if n != min(1+step%3, len(model)) {
				t.Fatalf("step %d: PopBatch = %d with %d queued", step, n, len(model))
			}
			for i := range n {
				if buf[i] != model[i] {
					t.Fatalf("step %d: popped %d, want %d", step, buf[i], model[i])
				}
			}
			model = model[n:]
		}
		if r.Len() != len(model) {
			t.Fatalf("step %d: Len %d, want %d", step, r.Len(), len(model))
		}
	}
}

// [R1] MPSC runs: a run claimed but not yet published holds back the
// runs pushed after it, and its one sequence store publishes all of it; a
// consumer popping less than a run at a time gets the rest of the run on its
// next pops without a check of the inner cells.
func TestR1_MPSCRunPublishedAsOne(t *testing.T) {
	r := NewMPSC[int](16)
	if n := r.PushBatch([]int{0, 1, 2}); n != 3 {
		t.Fatalf("PushBatch = %d", n)
	}
	// A producer between its claim (tail CAS) and its publication.
	pos := r.tail.Load()
	if !r.tail.CompareAndSwap(pos, pos+4) {
		t.Fatal("claim failed")
	}
	if n := r.PushBatch([]int{7, 8}); n != 2 {
		t.Fatalf("PushBatch after the claim = %d", n)
	}
	buf := make([]int, 2)
	var got []int
	for range 3 { // the first run, two at a time, then nothing: the claim blocks
		n := r.PopBatch(buf)
		got = append(got, buf[:n]...)
	}
	if want := []int{0, 1, 2}; !slices.Equal(got, want) {
		t.Fatalf("before the claimed run is published: popped %v, want %v", got, want)
	}
	for i := range uint64(4) {
		r.vals[(pos+i)&r.mask] = 3 + int(i)
	}
	r.runs[pos&r.mask].run = 4
	r.runs[pos&r.mask].seq.Store(pos + 1)
	for range 4 {
		n := r.PopBatch(buf[:1+len(got)%2])
		got = append(got, buf[:n]...)
	}
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(got, want) {
		t.Fatalf("popped %v, want %v", got, want)
	}
	if r.Len() != 0 || r.PopBatch(buf) != 0 {
		t.Fatal("ring not empty at the end")
	}
}
