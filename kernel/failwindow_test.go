package kernel

import "testing"

// [F3] The poison rule counts the failures within the window: limit
// failures within window ticks poison, failures that left the window do
// not count, and a huge limit (poisoning all but off) costs memory for the
// window's failures only — it used to allocate limit ticks up front (8 GiB
// for 1<<30), which stalled a kernel at its first failure.
func TestF3_FailWindowCountsWithinTheWindow(t *testing.T) {
	var f failWindow
	for i, c := range []struct {
		now  uint64
		want bool
	}{{0, false}, {5, false}, {9, true}, {20, false}, {21, false}, {29, true}, {40, false}} {
		if got := f.record(c.now, 3, 10); got != c.want {
			t.Fatalf("failure %d at tick %d: poisoned %v, want %v", i, c.now, got, c.want)
		}
	}
	f.reset()
	if f.record(41, 3, 10) || f.record(42, 3, 10) || !f.record(43, 3, 10) {
		t.Fatal("after reset the count does not start over")
	}
	var big failWindow
	for i := range uint64(10_000) {
		if big.record(i, 1<<30, 1<<40) {
			t.Fatalf("poisoned after %d failures with a limit of 1<<30", i+1)
		}
	}
	if n := cap(big.ticks); n > 4*10_000 {
		t.Fatalf("%d ticks kept for 10000 failures", n)
	}
}
