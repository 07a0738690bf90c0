package kernel

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// [B3] PayloadBytes reads a payload the caller holds from outside a handler;
// a released handle is reported stale and counted as misuse ([A5]).
func TestB3_PayloadBytesFromOutside(t *testing.T) {
	k := fxBoot(t, BootConfig{Workers: 1})
	h, b, err := k.Alloc(0, 5)
	if err != nil {
		t.Fatal(err)
	}
	copy(b, "bytes")
	got, err := k.PayloadBytes(h, 5)
	if err != nil || string(got) != "bytes" {
		t.Fatalf("PayloadBytes = %q, %v", got, err)
	}
	if err := k.Release(h); err != nil {
		t.Fatal(err)
	}
	if _, err := k.PayloadBytes(h, 5); !errors.Is(err, ErrStalePayload) {
		t.Fatalf("stale handle: err = %v, want ErrStalePayload", err)
	}
	haltOK(t, k)
	if k.Stats().PayloadMisuse == 0 {
		t.Fatal("a stale PayloadBytes was not counted as misuse")
	}
}

// [C9] [B4] Drop hands a task to sys.dropped from outside the workers and
// from a handler: counted as created and dropped, its payload reaching the
// report and freed after; the accounting identity holds, and after Halt
// Drop refuses with ErrClosed.
func TestB4_DropCountsToSysDropped(t *testing.T) {
	sink := &fxSink{}
	fromHandler := Module{Name: "strander", Handlers: []Handler{{Type: 2, Fn: func(c *Ctx) Status {
		x := *c.Task()
		x.Type = 3
		c.Drop(x, task.ChanClosed)
		return OK
	}}}}
	k := fxBoot(t, BootConfig{Workers: 2}, sink.module("sink", 9, SysDropped), fromHandler)
	h, b, _ := k.Alloc(0, 4)
	copy(b, "lost")
	if err := k.Drop(Task{Type: 1, Payload: h, PayloadLen: 4}, task.ChanClosed); err != nil {
		t.Fatal(err)
	}
	if err := k.Submit(Task{Type: 2}); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "two reports", func() bool { return sink.n.Load() == 2 })
	r := haltOK(t, k)
	checkIdentity(t, r)
	if r.Stats.Dropped != 2 {
		t.Fatalf("dropped %d, want 2", r.Stats.Dropped)
	}
	if got := sink.byCode(task.ChanClosed); len(got) != 2 {
		t.Fatalf("%d CHAN_CLOSED reports, want 2", len(got))
	}
	if k.LivePayloads() != 0 {
		t.Fatalf("%d payloads live after halt", k.LivePayloads())
	}
	if err := k.Drop(Task{Type: 1}, task.ChanClosed); !errors.Is(err, ErrClosed) {
		t.Fatalf("Drop after halt: %v, want ErrClosed", err)
	}
}

// [K2] Quiescent is false while a handler runs and true once every worker
// parked with nothing queued.
func TestK2_Quiescent(t *testing.T) {
	release := make(chan struct{})
	var ran atomic.Int64
	m := Module{Name: "block", Handlers: []Handler{{Type: 1, Fn: func(*Ctx) Status {
		ran.Add(1)
		<-release
		return OK
	}}}}
	k := fxBoot(t, BootConfig{Workers: 2}, m)
	if err := k.Submit(Task{Type: 1}); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "the handler", func() bool { return ran.Load() == 1 })
	if k.Quiescent() {
		t.Fatal("quiescent while a handler runs")
	}
	close(release)
	fxWait(t, "quiescence", k.Quiescent)
	haltOK(t, k)
}

// [C7] ChanPause holds back emits made on the paused subscription's home
// worker too: the home-worker fast path must not slip deliveries past the
// pause into the worker's local queue. One worker makes every emit a
// home-worker emit; while paused the lossless channel fills and reports
// CHAN_FULL, and the consumer runs nothing until the pause ends.
func TestC7_PauseHoldsHomeWorkerEmits(t *testing.T) {
	const slots = 16
	var consumed, accepted atomic.Int64
	var full, done atomic.Bool
	var out ChanID
	prod := Module{Name: "prod", Handlers: []Handler{{Type: 1, Fn: func(c *Ctx) Status {
		defer done.Store(true)
		for range 4 * slots {
			if err := c.ChanEmit(out, Task{Type: 2}); err != nil {
				full.Store(errors.Is(err, ErrChanFull))
				return OK
			}
			accepted.Add(1)
		}
		return OK
	}}}, Channels: []ChanDecl{{Name: "p.out", Dir: Produce, Type: 2, Guarantee: Lossless, Slots: slots}},
		Init: func(c *Ctx) (err error) { out, err = c.Kernel().Chan("p.out"); return err }}
	cons := Module{Name: "cons", Handlers: []Handler{{Type: 2, Fn: func(*Ctx) Status { consumed.Add(1); return OK }}},
		Channels: []ChanDecl{{Name: "p.out", Dir: Consume, Type: 2, Guarantee: Lossless, Slots: slots}}}
	k := fxBoot(t, BootConfig{Workers: 1}, prod, cons)
	if err := k.ChanPause(out, 0, true); err != nil {
		t.Fatal(err)
	}
	if err := k.Submit(Task{Type: 1}); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "the producer", done.Load)
	if n := accepted.Load(); !full.Load() || n > slots || consumed.Load() != 0 {
		t.Fatalf("paused: %d emits accepted (capacity %d), CHAN_FULL %v, %d consumed", n, slots, full.Load(), consumed.Load())
	}
	if err := k.ChanPause(out, 0, false); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "the drain", func() bool { return consumed.Load() == accepted.Load() })
	checkIdentity(t, haltOK(t, k))
}
