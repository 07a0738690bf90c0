package metrics

import (
	"sync"
	"testing"
	"unsafe"
)

// [O1] Counters from several goroutine-owned shards, plus shared adds from other
// goroutines, sum exactly once every shard has flushed.
func TestO1_ShardsSumExactlyAfterFlush(t *testing.T) {
	const workers, counters, rounds = 4, 16, 2000
	s := NewSet(counters, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { // worker w owns shard w
			sh := s.Shard(w)
			for r := range rounds {
				sh.Add(r%counters, uint64(w+1))
				sh.Inc(0)
				if r%32 == 31 { // a loop iteration ends
					sh.Flush()
				}
			}
			sh.Flush() // park / halt
		})
	}
	for range 2 { // control-plane goroutines without a shard
		wg.Go(func() {
			for r := range rounds {
				s.AddShared(r%counters, 10)
			}
		})
	}
	stop := pollMonotonic(t, s, 0)
	wg.Wait()
	stop()

	// Reference: per counter, the sum over what each goroutine added.
	perCounter := rounds / counters
	sumW := 0
	for w := range workers {
		sumW += w + 1
	}
	vals := s.Values(nil)
	for idx := range counters {
		want := uint64(perCounter*sumW + 2*perCounter*10)
		if idx == 0 {
			want += workers * rounds
		}
		if got := s.Value(idx); got != want || vals[idx] != want {
			t.Errorf("counter %d: Value %d, Values %d, want %d", idx, got, vals[idx], want)
		}
	}
}

// pollMonotonic reads counter idx in a loop on another goroutine until the
// returned stop is called, and fails t if the total ever goes back.
func pollMonotonic(t *testing.T, s *Set, idx int) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var last uint64
		for {
			select {
			case <-done:
				return
			default:
			}
			v := s.Value(idx)
			if v < last {
				t.Errorf("Value(%d) went back from %d to %d", idx, last, v)
				return
			}
			last = v
		}
	})
	return func() { close(done); wg.Wait() }
}

// [O1] The dirty list holds each changed counter once, Flush publishes exactly
// those, and nothing is visible before a Flush.
func TestO1_DirtyList(t *testing.T) {
	s := NewSet(8, 2)
	sh := s.Shard(1)
	sh.Add(3, 5)
	sh.Add(3, 2)
	sh.Add(6, 1)
	sh.Add(3, 0)
	if sh.Dirty() != 2 || sh.Local(3) != 7 {
		t.Fatalf("Dirty %d Local(3) %d, want 2, 7", sh.Dirty(), sh.Local(3))
	}
	if s.Value(3) != 0 {
		t.Fatalf("Value(3) = %d before Flush, want 0", s.Value(3))
	}
	sh.Flush()
	if sh.Dirty() != 0 || s.Value(3) != 7 || s.Value(6) != 1 || s.Value(0) != 0 {
		t.Fatalf("after Flush: Dirty %d, values %v", sh.Dirty(), s.Values(nil))
	}
	sh.Flush() // nothing dirty: nothing changes
	sh.Add(6, 4)
	if sh.Dirty() != 1 {
		t.Fatalf("Dirty = %d after a re-touch, want 1", sh.Dirty())
	}
	sh.Flush()
	if s.Value(6) != 5 {
		t.Errorf("Value(6) = %d, want 5", s.Value(6))
	}
	// Touching every counter many times never grows the list past Len.
	for range 10 {
		for idx := range s.Len() {
			sh.Add(idx, 1)
		}
	}
	if sh.Dirty() != s.Len() || cap(sh.dirty) != s.Len() {
		t.Errorf("Dirty %d cap %d, want %d", sh.Dirty(), cap(sh.dirty), s.Len())
	}
}

// [O1] The shared shard is visible at once and sums with the worker shards.
func TestO1_AddShared(t *testing.T) {
	s := NewSet(2, 1)
	s.AddShared(1, 3)
	if s.Value(1) != 3 {
		t.Fatalf("Value(1) = %d, want 3", s.Value(1))
	}
	s.Shard(0).Add(1, 4)
	s.Shard(0).Flush()
	if s.Value(1) != 7 || s.Shards() != 1 || s.Len() != 2 {
		t.Errorf("Value(1) %d Shards %d Len %d", s.Value(1), s.Shards(), s.Len())
	}
	// Values reuses a large enough slice.
	buf := make([]uint64, 0, 8)
	if got := s.Values(buf); &got[0] != &buf[:1][0] || len(got) != 2 {
		t.Error("Values did not reuse dst")
	}
}

// Worker shards never share a cache line: neither their headers nor the cells
// and published arrays the owners write.
func TestO1_ShardsPadded(t *testing.T) {
	s := NewSet(3, 3)
	lineOf := func(p unsafe.Pointer) uintptr { return uintptr(p) / cacheLinePad }
	for i := range 2 {
		a, b := s.Shard(i), s.Shard(i+1)
		if lineOf(unsafe.Pointer(&a.dirty)) == lineOf(unsafe.Pointer(&b.dirty)) ||
			unsafe.Offsetof(a.cells) < cacheLinePad {
			t.Errorf("shard %d and %d headers are not padded", i, i+1)
		}
		lastA := unsafe.Pointer(&a.cells[len(a.cells)-1])
		if uintptr(unsafe.Pointer(&b.cells[0]))-uintptr(lastA) < cacheLinePad {
			t.Errorf("cells of shards %d and %d are closer than a pad", i, i+1)
		}
		lastP := unsafe.Pointer(&a.pub[len(a.pub)-1])
		if uintptr(unsafe.Pointer(&b.pub[0]))-uintptr(lastP) < cacheLinePad {
			t.Errorf("published values of shards %d and %d are closer than a pad", i, i+1)
		}
	}
}
