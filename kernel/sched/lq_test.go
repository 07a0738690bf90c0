package sched

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// [S4] Capacity rounds up to a power of two (at least 4); the watermark
// leaves the last ReservePct (25 %) for yields.
func TestS4_LQCapacityAndWatermark(t *testing.T) {
	for _, tc := range []struct{ in, cap, water int }{
		{0, 4, 3}, {3, 4, 3}, {4, 4, 3}, {5, 8, 6}, {8, 8, 6}, {100, 128, 96}, {256, 256, 192},
	} {
		q := NewLQ(tc.in)
		if q.Cap() != tc.cap || q.Water() != tc.water || q.Room() != tc.water || q.Len() != 0 {
			t.Errorf("NewLQ(%d): cap %d water %d room %d, want %d, %d, %d",
				tc.in, q.Cap(), q.Water(), q.Room(), tc.cap, tc.water, tc.water)
		}
	}
}

// [S4] [Y2] Push stops at the watermark; PushReserve fills the queue to its
// capacity and then refuses; Room counts what Push still takes.
func TestS4_LQPushWatermarkAndReserve(t *testing.T) {
	q := NewLQ(16)
	n := 0
	for ; n < q.Cap(); n++ {
		tk := mkTask(0, 0, uint64(n))
		if !q.Push(&tk) {
			break
		}
		if q.Room() != q.Water()-n-1 {
			t.Fatalf("Room after %d pushes = %d", n+1, q.Room())
		}
	}
	if n != 12 || q.Room() != 0 {
		t.Fatalf("Push took %d (room %d), want the watermark 12", n, q.Room())
	}
	for ; q.PushReserve(&task.Task{Meta0: uint64(n)}); n++ {
	}
	if n != q.Cap() || q.Len() != q.Cap() || q.Room() != 0 {
		t.Errorf("PushReserve filled to %d (len %d), want %d", n, q.Len(), q.Cap())
	}
	if q.Push(&task.Task{}) || q.PushReserve(&task.Task{}) {
		t.Error("push into a full LQ succeeded")
	}
}

// [S4] PopBatch returns the oldest tasks first, across the wrap-around of the
// circular buffer; Drain removes the rest in order.
func TestS4_LQPopBatchAndDrainOrder(t *testing.T) {
	q := NewLQ(8)
	next, want := uint64(0), uint64(0)
	buf := make([]task.Task, 3)
	for round := range 10 { // 10 rounds of 5 pushes and 5 pops cross the 8-slot wrap several times
		for range 5 {
			if !q.PushReserve(&task.Task{Meta0: next}) {
				t.Fatalf("round %d: push %d refused", round, next)
			}
			next++
		}
		for got := 0; got < 5; {
			n := q.PopBatch(buf[:min(3, 5-got)])
			for _, tk := range buf[:n] {
				if tk.Meta0 != want {
					t.Fatalf("round %d: popped %d, want %d", round, tk.Meta0, want)
				}
				want++
			}
			got += n
		}
	}
	for range 6 {
		q.PushReserve(&task.Task{Meta0: next})
		next++
	}
	var rest []uint64
	q.Drain(func(tk *task.Task) { rest = append(rest, tk.Meta0) })
	if !slices.Equal(rest, []uint64{50, 51, 52, 53, 54, 55}) || q.Len() != 0 || q.PopBatch(buf) != 0 {
		t.Errorf("Drain = %v (len after %d), want 50..55", rest, q.Len())
	}
}

// [S4] The LQ behaves like a bounded FIFO slice with a watermark, under a
// random sequence of operations.
func TestS4_LQMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	q := NewLQ(16)
	var ref []uint64
	id := uint64(0)
	buf := make([]task.Task, 5)
	for step := range 20000 {
		switch op := rng.IntN(3); op {
		case 0, 1:
			tk := task.Task{Meta0: id}
			reserve := op == 1
			var ok bool
			if reserve {
				ok = q.PushReserve(&tk)
			} else {
				ok = q.Push(&tk)
			}
			limit := q.Water()
			if reserve {
				limit = q.Cap()
			}
			if want := len(ref) < limit; ok != want {
				t.Fatalf("step %d: push (reserve %v) at len %d = %v, want %v", step, reserve, len(ref), ok, want)
			}
			if ok {
				ref = append(ref, id)
				id++
			}
		case 2:
			n := q.PopBatch(buf[:rng.IntN(len(buf)+1)])
			for _, tk := range buf[:n] {
				if len(ref) == 0 || tk.Meta0 != ref[0] {
					t.Fatalf("step %d: popped %d, reference %v", step, tk.Meta0, ref)
				}
				ref = ref[1:]
			}
		}
		if q.Len() != len(ref) || q.Room() != max(q.Water()-len(ref), 0) {
			t.Fatalf("step %d: len %d room %d, reference len %d", step, q.Len(), q.Room(), len(ref))
		}
	}
}
