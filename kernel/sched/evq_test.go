package sched

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/quick"
)

// [S5] Events leave in due order, FIFO among equal due times.
func TestS5_EVQOrder(t *testing.T) {
	q := NewEVQ[string](16)
	for _, e := range []struct {
		due int64
		v   string
	}{{5, "a"}, {3, "b"}, {5, "c"}, {3, "d"}, {1, "e"}, {5, "f"}, {-2, "g"}} {
		q.Push(e.due, e.v)
	}
	dst := make([]string, 16)
	n := q.PopDue(5, dst)
	if got, want := dst[:n], []string{"g", "e", "b", "d", "a", "c", "f"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

// [S5] The EVQ is bounded: Push reports false when full and changes nothing.
func TestS5_EVQBounded(t *testing.T) {
	q := NewEVQ[uint32](3)
	for i := range uint32(3) {
		if !q.Push(int64(10-i), i) {
			t.Fatalf("push %d rejected below capacity", i)
		}
	}
	if q.Push(0, 99) {
		t.Fatal("push into a full EVQ accepted")
	}
	if q.Len() != 3 || q.Cap() != 3 {
		t.Fatalf("Len %d Cap %d, want 3 3", q.Len(), q.Cap())
	}
	if due, _ := q.PeekDue(); due != 8 {
		t.Fatalf("PeekDue = %d after a rejected push, want 8", due)
	}
	dst := make([]uint32, 1)
	if q.PopDue(8, dst) != 1 || !q.Push(0, 99) {
		t.Fatal("no room after a pop")
	}
	if NewEVQ[uint32](0).Cap() != DefaultEVQCapacity {
		t.Fatal("NewEVQ(0) does not select DefaultEVQCapacity")
	}
}

// [S5] PopDue takes only events due at or before now, at most len(dst) of them.
func TestS5_EVQPopDueRespectsNowAndMax(t *testing.T) {
	q := NewEVQ[int](32)
	for due := 10; due >= 1; due-- {
		q.Push(int64(due), due)
	}
	dst := make([]int, 10)
	steps := []struct {
		now, limit int
		want       []int
	}{
		{0, 10, nil},           // nothing due
		{5, 3, []int{1, 2, 3}}, // the max bounds the batch
		{5, 10, []int{4, 5}},   // now bounds it
		{5, 10, nil},           // nothing more due at 5
		{20, 0, nil},           // empty dst
		{20, 10, []int{6, 7, 8, 9, 10}},
	}
	for i, s := range steps {
		n := q.PopDue(int64(s.now), dst[:s.limit])
		if !slices.Equal(dst[:n], s.want) {
			t.Fatalf("step %d: PopDue(%d, max %d) = %v, want %v", i, s.now, s.limit, dst[:n], s.want)
		}
	}
	if _, ok := q.PeekDue(); ok || q.Len() != 0 {
		t.Fatal("queue not empty at the end")
	}
}

// [S5] Drain removes everything, in (due, insertion) order.
func TestS5_EVQDrain(t *testing.T) {
	q := NewEVQ[int](8)
	for i, due := range []int64{7, 2, 7, 1, 2} {
		q.Push(due, i)
	}
	var got []int
	q.Drain(func(due int64, v int) { got = append(got, v) })
	if want := []int{3, 1, 4, 0, 2}; !slices.Equal(got, want) || q.Len() != 0 {
		t.Fatalf("Drain gave %v (Len %d), want %v", got, q.Len(), want)
	}
}

// refEVQ is the reference for the property test: a slice kept in push order,
// sorted stably by due on every pop (stable = FIFO among equal dues).
type refEVQ struct {
	cap int
	evs []refEvent
}

type refEvent struct {
	due int64
	v   uint32
}

func (r *refEVQ) push(due int64, v uint32) bool {
	if len(r.evs) == r.cap {
		return false
	}
	r.evs = append(r.evs, refEvent{due, v})
	return true
}

func (r *refEVQ) popDue(now int64, limit int) []uint32 {
	slices.SortStableFunc(r.evs, func(a, b refEvent) int { return cmp.Compare(a.due, b.due) })
	var out []uint32
	for len(out) < limit && len(r.evs) > 0 && r.evs[0].due <= now {
		out = append(out, r.evs[0].v)
		r.evs = r.evs[1:]
	}
	return out
}

// [S5] Property: for any sequence of pushes and pops, the EVQ returns exactly
// what a stably sorted slice returns. Due times are drawn from a small range so
// that ties (FIFO) are common, and the capacity is small so that full is too.
func TestS5_EVQMatchesSortedSliceReference(t *testing.T) {
	prop := func(seed uint64, capacity uint8) bool {
		rng := rand.New(rand.NewPCG(seed, 0))
		c := int(capacity)%40 + 1
		q, ref := NewEVQ[uint32](c), &refEVQ{cap: c}
		dst := make([]uint32, 8)
		now := int64(0)
		for v := range uint32(300) {
			if rng.IntN(3) > 0 {
				due := now + rng.Int64N(10) - 2
				if q.Push(due, v) != ref.push(due, v) {
					return false
				}
				continue
			}
			now += rng.Int64N(4)
			limit := rng.IntN(len(dst) + 1)
			n := q.PopDue(now, dst[:limit])
			if !slices.Equal(dst[:n], ref.popDue(now, limit)) || q.Len() != len(ref.evs) {
				return false
			}
		}
		return true
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 300}); err != nil {
		t.Fatal(err)
	}
}
