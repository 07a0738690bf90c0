package ring

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/gmkernel/gmk/kernel/task"
)

// [R1] Power-of-two capacity: rounded up, at least 2.
func TestR1_CapacityRounding(t *testing.T) {
	for _, tc := range []struct{ in, want int }{
		{0, 2}, {1, 2}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {1000, 1024}, {1024, 1024}, {1025, 2048},
	} {
		if got := NewMPMC[task.Task](tc.in).Cap(); got != tc.want {
			t.Errorf("NewMPMC(%d).Cap() = %d, want %d", tc.in, got, tc.want)
		}
		if got := NewSPSC[task.Task](tc.in).Cap(); got != tc.want {
			t.Errorf("NewSPSC(%d).Cap() = %d, want %d", tc.in, got, tc.want)
		}
	}
	for _, c := range []int{-1, maxCapacity + 1} {
		mustPanic(t, fmt.Sprintf("NewMPMC(%d)", c), func() { NewMPMC[int](c) })
		mustPanic(t, fmt.Sprintf("NewSPSC(%d)", c), func() { NewSPSC[int](c) })
	}
}

// [R1] Producer and consumer indices are at least a padded cache line apart,
// and apart from the read-mostly fields in front of them.
func TestR1_IndexPadding(t *testing.T) {
	var m MPMC[task.Task]
	var s SPSC[task.Task]
	for _, tc := range []struct {
		name             string
		tail, head, size uintptr
	}{
		{"MPMC", unsafe.Offsetof(m.tail), unsafe.Offsetof(m.head), unsafe.Sizeof(m)},
		{"SPSC", unsafe.Offsetof(s.tail), unsafe.Offsetof(s.head), unsafe.Sizeof(s)},
	} {
		if tc.tail < cacheLinePad || tc.head-tc.tail < cacheLinePad || tc.size-tc.head < cacheLinePad {
			t.Errorf("%s: tail at %d, head at %d, size %d; want them %d bytes apart and from the ends",
				tc.name, tc.tail, tc.head, tc.size, cacheLinePad)
		}
	}
}

// [R1] Full and empty rings, FIFO order, Len, over several laps across the
// uint64 wrap-around.
func TestR1_FullEmpty(t *testing.T) {
	for _, k := range ringKinds {
		for _, start := range []uint64{0, nearWrap} {
			t.Run(fmt.Sprintf("%s/start=%d", k.name, start), func(t *testing.T) {
				r := k.new(5, start)
				if r.Cap() != 8 {
					t.Fatalf("Cap() = %d, want 8", r.Cap())
				}
				next := uint64(0)
				for lap := range 40 { // 40 laps of 8 cross the wrap from nearWrap
					fillAndDrain(t, r, &next, lap)
				}
			})
		}
	}
}

// fillAndDrain fills r with single pushes, checks that it is full, and drains it
// with single pops, checking the order and that it is empty.
func fillAndDrain(t *testing.T, r queue[uint64], next *uint64, lap int) {
	t.Helper()
	v := uint64(999)
	if r.Pop(&v) || v != 999 || r.Len() != 0 || r.PopBatch(make([]uint64, 4)) != 0 {
		t.Fatalf("lap %d: empty ring: Pop = true or wrote %d, Len = %d", lap, v, r.Len())
	}
	first := *next
	for i := range r.Cap() {
		v := *next
		if !r.Push(&v) {
			t.Fatalf("lap %d: Push %d into a ring of %d failed", lap, i, r.Len())
		}
		*next++
		if r.Len() != i+1 {
			t.Fatalf("lap %d: Len() = %d after %d pushes", lap, r.Len(), i+1)
		}
	}
	if v := uint64(1); r.Push(&v) || r.PushBatch([]uint64{1, 2}) != 0 || r.Len() != r.Cap() {
		t.Fatalf("lap %d: full ring accepted a push (Len = %d)", lap, r.Len())
	}
	for i := range r.Cap() {
		if !r.Pop(&v) || v != first+uint64(i) {
			t.Fatalf("lap %d: Pop #%d = %d, want %d", lap, i, v, first+uint64(i))
		}
	}
}

// [R1] Batch push and pop move a prefix: as many as fit, as many as there are.
func TestR1_BatchPartial(t *testing.T) {
	for _, k := range ringKinds {
		for _, start := range []uint64{0, nearWrap + 96} { // +96: wrap inside a batch
			t.Run(fmt.Sprintf("%s/start=%d", k.name, start), func(t *testing.T) {
				r := k.new(8, start)
				steps := []struct {
					op      string
					n, want int
					wantLen int
				}{
					{"push", 5, 5, 5},
					{"push", 10, 3, 8}, // only 3 free
					{"push", 1, 0, 8},  // full
					{"pop", 6, 6, 2},
					{"push", 0, 0, 2}, // empty batch
					{"pop", 0, 0, 2},
					{"pop", 6, 2, 0},   // only 2 left
					{"pop", 1, 0, 0},   // empty
					{"push", 20, 8, 8}, // more than capacity
					{"pop", 20, 8, 0},
				}
				next, popped := uint64(0), uint64(0)
				for i, s := range steps {
					got := batchStep(r, s.op, s.n, &next, &popped, t)
					if got != s.want || r.Len() != s.wantLen {
						t.Fatalf("step %d %s(%d) = %d, Len %d; want %d, Len %d",
							i, s.op, s.n, got, r.Len(), s.want, s.wantLen)
					}
				}
			})
		}
	}
}

// batchStep runs one PushBatch of consecutive values or one PopBatch, checking
// that pops return consecutive values.
func batchStep(r queue[uint64], op string, n int, next, popped *uint64, t *testing.T) int {
	t.Helper()
	buf := make([]uint64, n)
	if op == "push" {
		for i := range buf {
			buf[i] = *next + uint64(i)
		}
		k := r.PushBatch(buf)
		*next += uint64(k)
		return k
	}
	k := r.PopBatch(buf)
	for i, v := range buf[:k] {
		if v != *popped+uint64(i) {
			t.Fatalf("PopBatch[%d] = %d, want %d", i, v, *popped+uint64(i))
		}
	}
	*popped += uint64(k)
	return k
}

// [R1] Rings over pointer-holding types clear popped cells, so a ring does not
// keep garbage alive for a lap.
func TestR1_PopClearsPointers(t *testing.T) {
	x := 42
	m, s := NewMPMC[*int](2), NewSPSC[*int](2)
	p := &x
	var got *int
	m.Push(&p)
	s.Push(&p)
	if !m.Pop(&got) || got != p || m.cells[0].val != nil {
		t.Errorf("MPMC: popped %v, cell still %v", got, m.cells[0].val)
	}
	if !s.Pop(&got) || got != p || s.cells[0] != nil {
		t.Errorf("SPSC: popped %v, cell still %v", got, s.cells[0])
	}
	m.PushBatch([]*int{p, p})
	s.PushBatch([]*int{p, p})
	m.PopBatch(make([]*int, 2))
	s.PopBatch(make([]*int, 2))
	if m.cells[1].val != nil || s.cells[1] != nil {
		t.Errorf("PopBatch left pointers behind")
	}
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}
