package alloc

import (
	"errors"
	"testing"
)

// refModel is the simple reference the block allocator is checked against: a map
// of every handle ever issued to its reference count, and the number of free
// blocks per bin.
type refModel struct {
	refs          map[Handle]int
	issued        []Handle
	free          [NumBins]int
	allocs, frees int
	misuse, fails int
}

// alloc predicts Alloc: the first bin at or above the fitting one with a free
// block, or a failure.
func (m *refModel) alloc(n int) (bin int, ok bool) {
	for b := binFor(n); b < NumBins; b++ {
		if m.free[b] > 0 {
			m.free[b]--
			m.allocs++
			return b, true
		}
	}
	m.fails++
	return 0, false
}

// addRefs predicts AddRefs (and Retain) on h; false means ErrStale.
func (m *refModel) addRefs(h Handle, d int) bool {
	if m.refs[h] == 0 {
		m.misuse++
		return false
	}
	m.refs[h] += d
	return true
}

// release predicts Release of h; false means ErrStale.
func (m *refModel) release(h Handle) bool {
	if m.refs[h] == 0 {
		m.misuse++
		return false
	}
	if m.refs[h]--; m.refs[h] == 0 {
		m.free[h.Bin()]++
		m.frees++
	}
	return true
}

// [A4][A5] Any single-goroutine sequence of Alloc, Retain, AddRefs and Release,
// stale handles included, behaves like the reference model: same successes and
// failures, same reference counts, same bins, same stats.
func FuzzA4_ReferenceModel(f *testing.F) {
	f.Add([]byte{0, 10, 1, 0, 2, 0, 2, 0, 2, 0, 3, 0, 5})
	f.Add([]byte{0, 255, 0, 255, 0, 255, 0, 255, 0, 1, 0, 1, 0, 1, 2, 1, 2, 1, 0, 1})
	f.Add([]byte{0, 3, 3, 0, 3, 2, 2, 0, 2, 0, 2, 0, 2, 0, 0, 3, 1, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		a := newTestArena(t, Config{Size: MinSize})
		m := &refModel{refs: make(map[Handle]int)}
		for b, s := range a.Stats(0).Bins {
			m.free[b] = int(s.Total) / BinSize(b)
		}
		for len(ops) >= 2 {
			op, arg := ops[0]%4, int(ops[1])
			ops = ops[2:]
			if op == 0 {
				modelAlloc(t, a, m, arg*arg*2)
				continue
			}
			if len(m.issued) == 0 {
				continue
			}
			modelRef(t, a, m, op, arg)
		}
		s := a.Stats(0).Block
		if a.Live() != m.allocs-m.frees || s.Allocs != uint64(m.allocs) || s.Frees != uint64(m.frees) ||
			s.Misuse != uint64(m.misuse) || s.Fails != uint64(m.fails) {
			t.Fatalf("stats %+v, Live %d; model %+v", s, a.Live(), m)
		}
	})
}

// modelAlloc allocates n bytes from a and m and compares the outcomes.
func modelAlloc(t *testing.T, a *Arena, m *refModel, n int) {
	t.Helper()
	h, _, err := a.Alloc(0, n)
	bin, ok := m.alloc(n)
	if (err == nil) != ok || (ok && h.Bin() != bin) {
		t.Fatalf("Alloc(%d) = %v, %v; model: bin %d ok=%v", n, h, err, bin, ok)
	}
	if ok {
		if m.refs[h] != 0 {
			t.Fatalf("Alloc(%d) issued %v, which is still live", n, h)
		}
		m.refs[h] = 1
		m.issued = append(m.issued, h)
	}
}

// modelRef applies reference operation op (1 Retain, 2 Release, 3 AddRefs) to an
// issued handle chosen by arg, on a and m, and compares the outcomes.
func modelRef(t *testing.T, a *Arena, m *refModel, op byte, arg int) {
	t.Helper()
	h := m.issued[arg%len(m.issued)]
	var err error
	var want bool
	switch op {
	case 1:
		err, want = a.Retain(h), m.addRefs(h, 1)
	case 2:
		err, want = a.Release(h), m.release(h)
	case 3:
		err, want = a.AddRefs(h, arg%4), m.addRefs(h, arg%4)
	}
	if (err == nil) != want || (err != nil && !errors.Is(err, ErrStale)) {
		t.Fatalf("op %d on %v: %v, model says ok=%v", op, h, err, want)
	}
	if a.Refs(h) != m.refs[h] {
		t.Fatalf("Refs(%v) = %d, model %d", h, a.Refs(h), m.refs[h])
	}
}
