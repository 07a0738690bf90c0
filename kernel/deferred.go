package kernel

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel/channel"
)

// Deferred decisions ([X2]). A Supervisor whose decision is made elsewhere —
// the actor layer asks a protoactor supervisor, which answers on another
// goroutine — returns ActDefer and later calls Kernel.Resolve with the
// failure's Ticket. Meanwhile the task waits here: it is "still queued" for
// the accounting, Halt waits for it (until its context ends) and releases it
// when it is still waiting. The resolved decision is applied by a worker, the
// same way as an immediate one. Failures are the slow path: a mutex and maps.

// ErrTicket reports a Resolve for a ticket that is not waiting.
var ErrTicket = errors.New("gmk: no deferred failure with this ticket")

type deferredTask struct {
	t       Task
	st      Status
	mod     int32
	d       Decision
	waiting bool // Decide returned ActDefer; false while Decide runs
	early   bool // d arrived while Decide ran
}

type deferrals struct {
	on    bool // the supervisor may defer (it is not the built-in Backoff)
	mu    sync.Mutex
	next  atomic.Uint64            // last ticket issued
	wait  map[uint64]*deferredTask // failures being decided or waiting
	done  []deferredTask           // resolved, not applied yet
	ready atomic.Int64             // len(done), read by gathering workers
	count atomic.Int64             // waiting entries + len(done)
}

// Resolve delivers the decision for a failure whose Supervisor returned
// ActDefer. It may be called from any goroutine, even before Decide returned.
// The decision is applied on a worker. A ticket resolves once.
func (k *Kernel) Resolve(ticket uint64, d Decision) error {
	if d.Action == ActDefer {
		return fmt.Errorf("gmk: resolve ticket %d: a decision cannot be deferred twice", ticket)
	}
	if k.state.Load() == stateHalted {
		return ErrClosed
	}
	df := &k.deferred
	df.mu.Lock()
	e, ok := df.wait[ticket]
	switch {
	case !ok || e.early:
		df.mu.Unlock()
		return fmt.Errorf("%w: %d", ErrTicket, ticket)
	case !e.waiting:
		e.d, e.early = d, true // Decide is still running; the worker applies it
		df.mu.Unlock()
		return nil
	}
	delete(df.wait, ticket)
	e.d = d
	df.done = append(df.done, *e)
	df.ready.Store(int64(len(df.done)))
	df.mu.Unlock()
	k.core.Idle.Wake(0) // any worker applies it
	return nil
}

// decide asks the supervisor about f. With a supervisor that may defer, the
// failure is registered under its ticket first, so that Resolve can come
// from anywhere at any time; ok is false when the task is parked until then.
func (w *worker) decide(f *Failure, t *Task, st Status, mod int32) (d Decision, ok bool) {
	k := w.k
	df := &k.deferred
	if !df.on {
		return k.sup.Decide(f), true
	}
	f.Ticket = df.next.Add(1)
	df.mu.Lock()
	if df.wait == nil {
		df.wait = map[uint64]*deferredTask{}
	}
	e := &deferredTask{t: *t, st: st, mod: mod}
	df.wait[f.Ticket] = e
	df.mu.Unlock()
	d = k.sup.Decide(f)
	df.mu.Lock()
	defer df.mu.Unlock()
	if d.Action == ActDefer && !e.early {
		e.waiting = true
		df.count.Add(1)
		return d, false
	}
	delete(df.wait, f.Ticket)
	if d.Action == ActDefer {
		d = e.d // resolved while Decide ran
	}
	return d, true
}

// applyResolved applies resolved decisions, at most a batch per round.
func (w *worker) applyResolved() {
	df := &w.k.deferred
	var local [8]deferredTask
	df.mu.Lock()
	n := copy(local[:], df.done)
	df.done = df.done[:copy(df.done, df.done[n:])]
	df.ready.Store(int64(len(df.done)))
	df.mu.Unlock()
	df.count.Add(-int64(n))
	for i := range local[:n] {
		e := &local[i]
		w.apply(&e.t, e.st, e.d, w.k.subOf(&e.t), e.mod)
	}
}

// subOf finds the subscription a channel delivery came through (nil for a
// direct task or a subscription that is gone).
func (k *Kernel) subOf(t *Task) *channel.Sub {
	if t.Flags&ChannelMsg == 0 {
		return nil
	}
	if c := k.chans.Get(t.ChannelID()); c != nil {
		return c.Sub(t.Subscriber())
	}
	return nil
}

// drainDeferred counts and releases the tasks still waiting (Halt).
func (k *Kernel) drainDeferred(release func(*Task)) {
	df := &k.deferred
	df.mu.Lock()
	defer df.mu.Unlock()
	for id, e := range df.wait {
		release(&e.t)
		delete(df.wait, id)
	}
	for i := range df.done {
		release(&df.done[i].t)
	}
	df.done = nil
	df.ready.Store(0)
	df.count.Store(0)
}
