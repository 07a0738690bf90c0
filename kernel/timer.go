package kernel

import (
	"errors"
	"fmt"
	"time"

	"github.com/gmkernel/gmk/kernel/task"
)

// Delayed tasks ([S5], [U1] timers). A handler can make a new task runnable
// at a later time: EmitAt parks it on the calling worker's event queue — the
// EVQ that backs retries — and the worker's loop fires it when the kernel
// clock reaches its due time, through the same Requeue path as a retry. The
// task is counted as created when it is parked, so the accounting of [C9]
// holds: a parked task is "still queued" until it fires, and Halt waits for it
// like any queued task (until Halt's context ends; what is left is counted in
// HaltReport.Queued and its payload released). A module that keeps tasks
// parked far ahead — a timer service — re-arms in short steps and stops
// re-arming once Halting reports true.

// ErrNoWorker reports a call that needs a worker (an EVQ) from a context
// without one: Init and Fini hooks.
var ErrNoWorker = errors.New("gmk: no worker (called from Init or Fini)")

// Now returns the kernel clock in nanoseconds: monotonic, since boot, or
// BootConfig.Clock when the configuration injects one. EmitAt's due times are
// on this clock.
func (k *Kernel) Now() int64 { return k.clock() }

// Halting reports whether Halt has begun: from then on Submit fails and
// the workers drain what is queued. Services that re-arm themselves (timers)
// stop doing so, so that the kernel can become quiescent.
func (k *Kernel) Halting() bool { return k.state.Load() != stateRunning }

// Now returns the kernel clock in nanoseconds (Kernel.Now).
func (c *Ctx) Now() int64 { return c.k.clock() }

// EmitAt makes a new task t runnable when the kernel clock reaches due ([S5]):
// the task waits on the calling worker's EVQ, then goes to that worker's
// local queue (or the shared queue) like a retry; a due time already passed
// makes it runnable at once (as Emit). On success a payload reference in t
// moves to the parked task. Errors: ErrNoWorker from Init or Fini;
// ErrBadTenant, ErrUnknownType as Emit; ErrAllocFail when the tenant's task
// slab is full; ErrChanFull when the EVQ is full (BootConfig.EVQCap) — the
// caller keeps the payload reference on every error.
//
// A parked task keeps seq 0 (the enqueue core has no seq source for it).
func (c *Ctx) EmitAt(t Task, due int64) error {
	k := c.k
	if c.w == nil {
		return ErrNoWorker
	}
	if err := k.checkTask(&t); err != nil {
		return err
	}
	w := c.w
	if due <= k.clock() {
		return c.Emit(t)
	}
	t.Flags &^= task.ChannelMsg
	t.Channel, t.YieldCount, t.Aux, t.Seq = 0, 0, 0, 0
	ref, ok := w.putNode(&t)
	if !ok {
		return fmt.Errorf("%w: task slab of tenant %d full", ErrAllocFail, t.Tenant)
	}
	if !w.evq.Push(due, ref) {
		w.takeNode(ref)
		return fmt.Errorf("%w: event queue full", ErrChanFull)
	}
	w.l.Shard.Add(cEmitted, 1)
	return nil
}

// EmitAfter is EmitAt(t, Now()+d).
func (c *Ctx) EmitAfter(t Task, d time.Duration) error {
	return c.EmitAt(t, c.k.clock()+int64(d))
}
