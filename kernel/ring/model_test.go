package ring

import (
	"fmt"
	"testing"
	"testing/quick"
)

// [R1] Reference model: a single goroutine's sequence of Push, Pop, PushBatch
// and PopBatch gives the same results on every ring as on a plain slice queue
// of the same capacity, and Len always equals the slice's length.
func TestR1_ModelQuick(t *testing.T) {
	prop := func(kind, capLog uint8, start uint64, ops []byte) bool {
		if err := checkModel(kind, capLog, start, ops); err != nil {
			t.Log(err)
			return false
		}
		return true
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 3000}); err != nil {
		t.Error(err)
	}
}

// FuzzR1_Model runs the reference-model check on fuzzed op sequences; its seeds
// run as a unit test.
func FuzzR1_Model(f *testing.F) {
	f.Add(uint8(0), uint8(1), nearWrap, []byte{0, 0, 0, 1, 2 | 9<<2, 3 | 4<<2, 1, 1, 1})
	f.Add(uint8(1), uint8(3), nearWrap, []byte{2 | 63<<2, 3 | 5<<2, 2 | 7<<2, 3 | 63<<2, 1})
	f.Add(uint8(2), uint8(2), uint64(0), []byte{0, 2 | 3<<2, 0, 1, 3 | 8<<2, 0, 0})
	f.Fuzz(func(t *testing.T, kind, capLog uint8, start uint64, ops []byte) {
		if err := checkModel(kind, capLog, start, ops); err != nil {
			t.Fatal(err)
		}
	})
}

// checkModel runs ops on a ring of kind ringKinds[kind%3] with capacity
// 2<<(capLog%5) and, when start is odd, a start position just below the
// uint64 wrap-around. Each op byte is an operation (low 2 bits: push, pop,
// push batch, pop batch) and a batch size (high 6 bits).
func checkModel(kind, capLog uint8, start uint64, ops []byte) error {
	if start&1 == 1 {
		start = ^uint64(0) - start>>1%128
	}
	k := ringKinds[int(kind)%len(ringKinds)]
	r := k.new(2<<(capLog%5), start)
	m := &sliceQueue{capacity: r.Cap()}
	for i, op := range ops {
		if err := modelStep(r, m, op); err != nil {
			return fmt.Errorf("%s cap %d start %d op #%d (%#x): %w", k.name, r.Cap(), start, i, op, err)
		}
		if r.Len() != len(m.vals) {
			return fmt.Errorf("%s op #%d: Len() = %d, model %d", k.name, i, r.Len(), len(m.vals))
		}
	}
	return nil
}

// sliceQueue is the reference: a bounded FIFO over a slice.
type sliceQueue struct {
	vals     []uint64
	capacity int
	next     uint64 // next value to push
}

// pushN pushes up to n new values and returns them.
func (q *sliceQueue) pushN(n int) []uint64 {
	n = min(n, q.capacity-len(q.vals))
	out := make([]uint64, n)
	for i := range out {
		out[i] = q.next
		q.next++
	}
	q.vals = append(q.vals, out...)
	return out
}

// popN pops up to n values and returns them.
func (q *sliceQueue) popN(n int) []uint64 {
	n = min(n, len(q.vals))
	out := append([]uint64(nil), q.vals[:n]...)
	q.vals = q.vals[n:]
	return out
}

func modelStep(r queue[uint64], m *sliceQueue, op byte) error {
	n := int(op >> 2)
	switch op & 3 {
	case 0:
		v := m.next
		want := m.pushN(1)
		if got := r.Push(&v); got != (len(want) == 1) {
			return fmt.Errorf("Push = %v, model %v", got, want)
		}
	case 1:
		want, v := m.popN(1), uint64(1<<63)
		got := r.Pop(&v)
		if got != (len(want) == 1) || got && v != want[0] || !got && v != 1<<63 {
			return fmt.Errorf("Pop = %v, %d; model %v", got, v, want)
		}
	case 2:
		next := m.next
		want := m.pushN(n)
		vs := make([]uint64, n)
		for i := range vs {
			vs[i] = next + uint64(i)
		}
		if got := r.PushBatch(vs); got != len(want) {
			return fmt.Errorf("PushBatch(%d) = %d, model %d", n, got, len(want))
		}
	case 3:
		want, dst := m.popN(n), make([]uint64, n)
		got := r.PopBatch(dst)
		if fmt.Sprint(dst[:got]) != fmt.Sprint(want) {
			return fmt.Errorf("PopBatch(%d) = %v, model %v", n, dst[:got], want)
		}
	}
	return nil
}
