//go:build !race

// Allocation tests run without the race detector, which changes allocation
// behaviour (STYLE.md rule 9).

package sdk_test

import (
	"testing"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// The SDK's task-path operations allocate nothing from the Go heap: typed
// views, inline, payload, typed and forwarded sends (payloads come from the
// arena), the full channel's Retry path, log records, counters and gates. Measured inside a
// handler on a one-worker kernel, where nothing else runs.
func TestU1_HotPathZeroAlloc(t *testing.T) {
	const tRun, tSink, tFull = 1, 2, 3
	var sink, full sdk.Port
	var hits sdk.Counter
	res := make(chan map[string]float64, 1)
	gate := sdk.NewGate(3)
	m := kernel.Module{Name: "m", Handlers: []kernel.Handler{
		{Type: tRun, Fn: func(c *kernel.Ctx) kernel.Status {
			log := sdk.Logger{Port: sink}
			msg := []byte("0123456789abcdef")
			if st := sdk.SendBytes(c, full, 1, 2, msg); st != kernel.Retry {
				res <- map[string]float64{"za.full is not full": 1}
				return kernel.OK
			}
			r := map[string]float64{
				"View": testing.AllocsPerRun(100, func() { _, _ = sdk.View[[2]uint64](c) }),
				"SendInline": testing.AllocsPerRun(100, func() {
					_ = sdk.SendInline(c, sink, 1, 2)
				}),
				"SendBytes": testing.AllocsPerRun(100, func() { _ = sdk.SendBytes(c, sink, 1, 2, msg) }),
				"SendFull":  testing.AllocsPerRun(100, func() { _ = sdk.SendBytes(c, full, 1, 2, msg) }),
				"SendValue": testing.AllocsPerRun(100, func() { _ = sdk.SendValue(c, sink, 1, 2, &[2]uint64{3, 4}) }),
				"Forward":   testing.AllocsPerRun(100, func() { _ = sdk.Forward(c, sink) }),
				"Log":       testing.AllocsPerRun(100, func() { log.Info(c, "x=%d y=%f", 1, sdk.F(2)) }),
				"Counter":   testing.AllocsPerRun(100, func() { hits.Add(c, 1) }),
				"Gate":      testing.AllocsPerRun(100, func() { gate.Arrive() }),
			}
			res <- r
			return kernel.OK
		}},
		{Type: tSink, Fn: func(*kernel.Ctx) kernel.Status { return kernel.OK }},
		{Type: tFull, Fn: func(*kernel.Ctx) kernel.Status { return kernel.OK }},
	}, Channels: []kernel.ChanDecl{
		{Name: "za.sink", Dir: kernel.Consume, Type: tSink, Guarantee: kernel.Lossy, Slots: 4096},
		// za.full's only subscription is paused below, so it fills and stays full.
		{Name: "za.full", Dir: kernel.Consume, Type: tFull, Guarantee: kernel.Lossless, Slots: 2},
	}}
	k := boot(t, kernel.BootConfig{Workers: 1, ArenaSize: 16 << 20}, m)
	var err error
	if sink, err = sdk.Dial(k, "za.sink"); err != nil {
		t.Fatal(err)
	}
	if full, err = sdk.Dial(k, "za.full"); err != nil {
		t.Fatal(err)
	}
	if hits, err = sdk.NewStats(k).Counter("hits"); err != nil {
		t.Fatal(err)
	}
	if err := k.ChanPause(full.Chan, 0, true); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := k.ChanEmit(full.Chan, kernel.Task{Type: tFull}); err != nil {
			t.Fatal(err)
		}
	}
	h, b, err := k.Alloc(0, 16)
	if err != nil {
		t.Fatal(err)
	}
	copy(b, "0123456789abcdef")
	submit(t, k, kernel.Task{Type: tRun, Payload: h, PayloadLen: 16})
	for name, n := range <-res {
		if n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, n)
		}
	}
	if err := k.ChanPause(full.Chan, 0, false); err != nil {
		t.Fatal(err)
	}
}
