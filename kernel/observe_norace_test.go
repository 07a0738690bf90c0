//go:build !race

package kernel

import (
	"sync/atomic"
	"testing"
)

// TestC9_ZeroAllocObservedDelivery: a delivery of an observed channel
// (ChanObserve with completions, as a bridge endpoint's acknowledging
// channel) costs no allocation: the observer hears of it on the short
// path's slow branch, after the worker's counters are published.
func TestC9_ZeroAllocObservedDelivery(t *testing.T) {
	var done, heard atomic.Int64
	var id ChanID
	cons := Module{Name: "cons", Handlers: []Handler{{Type: 1, Fn: func(*Ctx) Status { done.Add(1); return OK }}},
		Channels: []ChanDecl{{Name: "obs.in", Dir: Consume, Type: 1, Guarantee: Lossless}},
		Init: func(c *Ctx) (err error) {
			if id, err = c.Kernel().Chan("obs.in"); err != nil {
				return err
			}
			return c.Kernel().ChanObserve(id, func(int, uint32, Status) { heard.Add(1) }, true)
		}}
	k, err := Boot(BootConfig{Workers: 2, ArenaSize: 1 << 20, MaxTypes: 8}, cons)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	allocs := testing.AllocsPerRun(10000, func() {
		n++
		if err := k.ChanEmit(id, Task{Type: 1, Meta0: uint64(n)}); err != nil {
			t.Fatal(err)
		}
		waitFor(&done, n)
	})
	haltOK(t, k)
	if allocs != 0 {
		t.Fatalf("%v allocations per observed delivery, want 0", allocs)
	}
	if heard.Load() != n {
		t.Fatalf("the observer heard of %d deliveries, want %d", heard.Load(), n)
	}
}
