package kernel

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// TestX5_ChanSuspendShowsClosedThenResumes: while a lossless channel is
// suspended, ChanEmit and ChanEmitBatch fail with ErrChanClosed, a producer
// blocked in ChanEmitWait on the full channel is woken with ErrChanClosed,
// and nothing queued is lost: after ChanResume every task emitted before and
// after is delivered once, in order, and the accounting identity holds ([X5]).
func TestX5_ChanSuspendShowsClosedThenResumes(t *testing.T) {
	const typ = 5
	var got atomic.Int64
	var bad atomic.Int64
	k := spBoot(t, spCfg(), spCons("sink", ChanDecl{Name: "x5.in", Type: typ, Guarantee: Lossless, Slots: 4},
		func(c *Ctx) Status {
			if c.Task().Meta0 != uint64(got.Load()) {
				bad.Add(1)
			}
			got.Add(1)
			return OK
		}))
	id := spChan(t, k, "x5.in")
	if err := k.ChanPause(id, 0, true); err != nil { // the queue fills: the next emits wait
		t.Fatal(err)
	}
	next := uint64(0)
	for ; next < 4; next++ {
		spEmit(t, k, id, Task{Type: typ, Meta0: next})
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- k.ChanEmitWait(context.Background(), id, Task{Type: typ, Meta0: next}) }()
	if err := k.ChanSuspend(id); err != nil {
		t.Fatal(err)
	}
	if err := spRecv(t, waitErr, "the blocked producer"); !errors.Is(err, ErrChanClosed) {
		t.Fatalf("blocked ChanEmitWait returned %v, want ErrChanClosed", err)
	}
	if !k.ChanSuspended(id) {
		t.Fatal("ChanSuspended = false")
	}
	if err := k.ChanEmit(id, Task{Type: typ}); !errors.Is(err, ErrChanClosed) {
		t.Fatalf("ChanEmit while suspended: %v, want ErrChanClosed", err)
	}
	if n, err := k.ChanEmitBatch(id, []Task{{Type: typ}}); n != 0 || !errors.Is(err, ErrChanClosed) {
		t.Fatalf("ChanEmitBatch while suspended: %d, %v; want 0, ErrChanClosed", n, err)
	}
	if err := k.ChanPause(id, 0, false); err != nil {
		t.Fatal(err)
	}
	spWait(t, "the queued tasks", func() bool { return got.Load() == 4 })
	if err := k.ChanResume(id); err != nil {
		t.Fatal(err)
	}
	for ; next < 100; next++ {
		spEmit(t, k, id, Task{Type: typ, Meta0: next})
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if got.Load() != 100 || bad.Load() != 0 || r.Stats.Dropped != 0 {
		t.Fatalf("delivered %d (%d out of order), dropped %d; want 100, 0, 0", got.Load(), bad.Load(), r.Stats.Dropped)
	}
}

// TestX5_ChanSuspendErrors: system channels cannot be suspended; unknown ids
// are ErrChanUnknown.
func TestX5_ChanSuspendErrors(t *testing.T) {
	k := spBoot(t, spCfg())
	sys := spChan(t, k, SysError)
	if err := k.ChanSuspend(sys); err == nil {
		t.Error("ChanSuspend(sys.error) succeeded")
	}
	if err := k.ChanSuspend(999); !errors.Is(err, ErrChanUnknown) {
		t.Errorf("ChanSuspend(999) = %v, want ErrChanUnknown", err)
	}
	if err := k.ChanResume(999); !errors.Is(err, ErrChanUnknown) {
		t.Errorf("ChanResume(999) = %v, want ErrChanUnknown", err)
	}
	if k.ChanSuspended(999) {
		t.Error("ChanSuspended(999) = true")
	}
}

// TestX5_CtxYielded: Yielded tells a wrapper that the handler returned OK
// only to run again (it yielded), so the task is not finished yet.
func TestX5_CtxYielded(t *testing.T) {
	const typ = 3
	seen := make(chan bool, 2)
	k := spBoot(t, spCfg(), Module{Name: "y", Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status {
		if c.Task().Meta0 == 0 {
			c.YieldAt(1)
		}
		seen <- c.Yielded()
		return OK
	}}}})
	if err := k.Submit(Task{Type: typ}); err != nil {
		t.Fatal(err)
	}
	if first, second := spRecv(t, seen, "first run"), spRecv(t, seen, "second run"); !first || second {
		t.Fatalf("Yielded: first run %v, second run %v; want true, false", first, second)
	}
	haltOK(t, k)
}
