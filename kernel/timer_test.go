package kernel

// Tests of delayed tasks (timer.go; [S5], [U1] timers on the EVQ). The clock
// is injected: a parked task must not run before the test moves the clock to
// its due time, and must run once it has.

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// [S5] EmitAfter parks a new task on the worker's EVQ: it runs only once the
// kernel clock reaches its due time, keeps its meta and payload, and counts
// as created at once (the [C9] balance holds while it waits and after).
func TestS5_EmitAfterFiresAtDueTime(t *testing.T) {
	const tArm, tFire = 1, 2
	clk := &fxClock{}
	var fired atomic.Int64
	var firedAt atomic.Int64
	var gotPayload atomic.Value
	m := Module{Name: "timers", Handlers: []Handler{
		{Type: tArm, Fn: func(c *Ctx) Status {
			h, b, err := c.Alloc(5)
			if err != nil {
				return Fail
			}
			copy(b, "hello")
			x := Task{Type: tFire, Meta0: 42, Meta1: 7, Payload: h, PayloadLen: 5}
			if err := c.EmitAfter(x, 10*time.Millisecond); err != nil {
				_ = c.Free(h)
				return Fail
			}
			return OK
		}},
		{Type: tFire, Fn: func(c *Ctx) Status {
			x := c.Task()
			if x.Meta0 == 42 && x.Meta1 == 7 {
				gotPayload.Store(string(c.Payload()))
				firedAt.Store(c.Now())
				fired.Add(1)
			}
			return OK
		}},
	}}
	k := fxBoot(t, BootConfig{Workers: 1, Clock: clk.Now}, m)
	if err := k.Submit(Task{Type: tArm}); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "the arm task and the parked timer to be counted", func() bool {
		s := k.Stats()
		return s.Completed == 1 && s.Created() == 2
	})
	clk.Add(9 * time.Millisecond)
	fxWait(t, "the worker to park again", func() bool { return k.core.Idle.Parked() == 1 })
	if fired.Load() != 0 {
		t.Fatal("the task ran 1 ms before its due time")
	}
	clk.Add(time.Millisecond)
	fxWait(t, "the parked task to fire", func() bool { return fired.Load() == 1 })
	if at := firedAt.Load(); at != int64(10*time.Millisecond) {
		t.Fatalf("fired at %v, want 10ms", time.Duration(at))
	}
	if p := gotPayload.Load(); p != "hello" {
		t.Fatalf("payload %q, want hello", p)
	}
	if err := k.Halt(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, _ := k.Halted()
	if s := r.Stats; s.Created() != s.Completed || s.Completed != 2 || r.Queued != 0 {
		t.Fatalf("accounting: %v queued=%d", s, r.Queued)
	}
	if k.LivePayloads() != 0 {
		t.Fatalf("%d payloads live after halt", k.LivePayloads())
	}
}

// [K2], [C9] A task parked beyond Halt's context is counted as queued and
// its payload released; Halting reports true from the start of Halt; a due
// time in the past makes the task runnable at once; EmitAt needs a worker.
func TestK2_EmitAtHaltAccountsParked(t *testing.T) {
	const tArm, tNow, tLate = 1, 2, 3
	clk := &fxClock{}
	var now, late atomic.Int64
	var initErr error
	m := Module{Name: "timers", Handlers: []Handler{
		{Type: tArm, Fn: func(c *Ctx) Status {
			h, _, err := c.Alloc(8)
			if err != nil {
				return Fail
			}
			if c.EmitAt(Task{Type: tLate, Payload: h, PayloadLen: 8}, c.Now()+int64(time.Hour)) != nil {
				return Fail
			}
			if c.EmitAt(Task{Type: tNow}, c.Now()-1) != nil {
				return Fail
			}
			return OK
		}},
		{Type: tNow, Fn: func(*Ctx) Status { now.Add(1); return OK }},
		{Type: tLate, Fn: func(*Ctx) Status { late.Add(1); return OK }},
	}, Init: func(c *Ctx) error {
		initErr = c.EmitAfter(Task{Type: tNow}, time.Second)
		return nil
	}}
	k := fxBoot(t, BootConfig{Workers: 2, Clock: clk.Now}, m)
	if !errors.Is(initErr, ErrNoWorker) {
		t.Fatalf("EmitAfter from Init: %v, want ErrNoWorker", initErr)
	}
	if k.Halting() {
		t.Fatal("Halting before Halt")
	}
	if err := k.Submit(Task{Type: tArm}); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "the past-due task to run", func() bool { return now.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := k.Halt(ctx); err == nil {
		t.Fatal("Halt returned nil with a task parked an hour ahead")
	}
	if !k.Halting() {
		t.Fatal("Halting false after Halt")
	}
	r, _ := k.Halted()
	if r.Queued != 1 || late.Load() != 0 {
		t.Fatalf("queued=%d late=%d, want 1 and 0", r.Queued, late.Load())
	}
	if s := r.Stats; s.Created() != s.Completed+r.Queued {
		t.Fatalf("accounting: %v queued=%d", s, r.Queued)
	}
	if k.LivePayloads() != 0 {
		t.Fatalf("%d payloads live after halt", k.LivePayloads())
	}
}

// [S5] A full EVQ is a normal result: EmitAt returns ErrChanFull and the
// caller keeps its payload reference.
func TestS5_EmitAtFullEVQ(t *testing.T) {
	const tArm = 1
	clk := &fxClock{}
	var errs [3]error
	m := Module{Name: "timers", Handlers: []Handler{{Type: tArm, Fn: func(c *Ctx) Status {
		for i := range errs {
			errs[i] = c.EmitAfter(Task{Type: tArm, Meta0: 1}, time.Second)
		}
		return OK
	}}}}
	k := fxBoot(t, BootConfig{Workers: 1, Clock: clk.Now, EVQCap: 2}, m)
	if err := k.Submit(Task{Type: tArm}); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "the arm task", func() bool { return k.Stats().Completed == 1 })
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], ErrChanFull) {
		t.Fatalf("errors %v, want nil, nil, ErrChanFull", errs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_ = k.Halt(ctx)
	if r, _ := k.Halted(); r.Queued != 2 {
		t.Fatalf("queued %d, want the 2 parked tasks", r.Queued)
	}
}
