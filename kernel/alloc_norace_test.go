//go:build !race

package kernel

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// Zero heap allocations per task on the hot path (DESIGN.md performance
// rules; issue acceptance 2). AllocsPerRun counts every allocation of the
// process, workers included. Not under -race, which allocates on its own.

func waitFor(c *atomic.Int64, n int64) {
	for c.Load() < n {
		runtime.Gosched()
	}
}

// TestT1_ZeroAllocSubmitDispatch: Submit + dispatch of an inline task.
func TestT1_ZeroAllocSubmitDispatch(t *testing.T) {
	var done atomic.Int64
	k, err := Boot(BootConfig{Workers: 2, ArenaSize: 1 << 20, MaxTypes: 8},
		Module{Name: "m", Handlers: []Handler{{Type: 1, Fn: func(c *Ctx) Status { done.Add(1); return OK }}}})
	if err != nil {
		t.Fatal(err)
	}
	defer haltOK(t, k)
	var n int64
	allocs := testing.AllocsPerRun(10000, func() {
		n++
		if err := k.Submit(Task{Type: 1, Meta0: uint64(n)}); err != nil {
			t.Fatal(err)
		}
		waitFor(&done, n)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per submit+dispatch, want 0", allocs)
	}
}

// TestC4_ZeroAllocP2PEmitDelivery: a handler emits on a lossless P2P channel
// and the consumer's handler runs.
func TestC4_ZeroAllocP2PEmitDelivery(t *testing.T) {
	var done atomic.Int64
	prod := stageModule("prod", "", "z.p2p", 1, nil)
	cons := stageModule("cons", "z.p2p", "", 2, &done)
	k, err := Boot(BootConfig{Workers: 2, ArenaSize: 1 << 20, MaxTypes: 8}, prod, cons)
	if err != nil {
		t.Fatal(err)
	}
	defer haltOK(t, k)
	var n int64
	allocs := testing.AllocsPerRun(10000, func() {
		n++
		if err := k.Submit(Task{Type: 1, Meta0: uint64(n)}); err != nil {
			t.Fatal(err)
		}
		waitFor(&done, n)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per P2P emit+delivery, want 0", allocs)
	}
}

// TestC5_ZeroAllocFanoutSharedPayload: a handler allocates a payload in the
// arena and emits it on a lossless fan-out channel to 3 subscribers, which
// share it read-only; the last release frees it.
func TestC5_ZeroAllocFanoutSharedPayload(t *testing.T) {
	var done atomic.Int64
	var bytes atomic.Uint64
	var out ChanID
	prod := Module{Name: "prod",
		Handlers: []Handler{{Type: 1, Fn: func(c *Ctx) Status {
			h, b, err := c.Alloc(64)
			if err != nil {
				return Retry
			}
			b[0] = byte(c.Task().Meta0)
			if c.ChanEmit(out, Task{Type: 2, Payload: h, PayloadLen: 64}) != nil {
				_ = c.Free(h)
				return Retry
			}
			return OK
		}}},
		Channels: []ChanDecl{{Name: "z.fan", Dir: Produce, Type: 2, Mode: FanOut, Guarantee: Lossless}},
		Init:     func(c *Ctx) (err error) { out, err = c.Kernel().Chan("z.fan"); return err },
	}
	mods := []Module{prod}
	for _, name := range []string{"s0", "s1", "s2"} {
		mods = append(mods, Module{Name: name,
			Handlers: []Handler{{Type: 2, Fn: func(c *Ctx) Status {
				bytes.Add(uint64(len(c.Payload())))
				done.Add(1)
				return OK
			}}},
			Channels: []ChanDecl{{Name: "z.fan", Dir: Consume, Type: 2, Mode: FanOut, Guarantee: Lossless}},
		})
	}
	k, err := Boot(BootConfig{Workers: 2, ArenaSize: 1 << 20, MaxTypes: 8}, mods...)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	allocs := testing.AllocsPerRun(10000, func() {
		n++
		if err := k.Submit(Task{Type: 1, Meta0: uint64(n)}); err != nil {
			t.Fatal(err)
		}
		waitFor(&done, 3*n)
	})
	r := haltOK(t, k)
	if allocs != 0 {
		t.Fatalf("%v allocations per fan-out emit to 3 subscribers, want 0", allocs)
	}
	if bytes.Load() != uint64(3*64*n) || k.LivePayloads() != 0 || r.Stats.PayloadMisuse != 0 {
		t.Fatalf("bytes %d (want %d), live payloads %d, misuse %d", bytes.Load(), 3*64*n, k.LivePayloads(), r.Stats.PayloadMisuse)
	}
}
