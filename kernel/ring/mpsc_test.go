package ring

import (
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
