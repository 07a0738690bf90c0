//go:build !race

package bridge

import "testing"

// TestB2_NoAllocPerTask: staging, publishing, peeking and releasing — inline
// and with a payload — and the Batcher's Add and Poll allocate nothing
// (DESIGN.md performance rules). Not under -race, which changes allocation.
func TestB2_NoAllocPerTask(t *testing.T) { forModes(t, testNoAllocPerTask) }

// testNoAllocPerTask is TestB2_NoAllocPerTask in one slot format (ll: LL rings).
func testNoAllocPerTask(t *testing.T, ll bool) {
	a, b := newMem(t, Config{Capacity: 64, Staging: 64 << 10, LL: ll})
	in, p := withPayload(1, 4096)
	dst := make([]Msg, 8)
	peeked := 0
	if n := testing.AllocsPerRun(1000, func() {
		tk := inline(0)
		a.tx.Stage(&tk, nil)
		a.tx.Stage(&in, p)
		a.tx.Publish()
		k, _ := b.rx.Peek(dst)
		peeked += k
		b.rx.Release()
	}); n != 0 {
		t.Fatalf("ring round trip: %v allocs, want 0", n)
	}
	if peeked != 2*1001 { // AllocsPerRun makes one warm-up run
		t.Fatalf("ring round trip moved %d tasks, want %d", peeked, 2*1001)
	}
	tx, _ := NewBatcher(a, BatchConfig{Size: 4})
	rx, _ := NewBatcher(b, BatchConfig{Size: 4})
	var sum uint64
	fn := func(ms []Msg) {
		for i := range ms {
			sum += ms[i].Task.Meta0
		}
	}
	if n := testing.AllocsPerRun(1000, func() {
		for range 4 {
			tx.Add(&in, p)
		}
		rx.Poll(fn)
	}); n != 0 {
		t.Fatalf("Batcher round trip: %v allocs, want 0", n)
	}
	if sum == 0 {
		t.Fatal("Poll saw nothing")
	}
}
