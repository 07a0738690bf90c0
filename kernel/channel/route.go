package channel

import (
	"github.com/gmkernel/gmk/kernel/sched"
	"github.com/gmkernel/gmk/kernel/task"
)

// Routes: a worker's emit on a lossless P2P channel can skip Emit's general
// checks. What makes a route valid never changes once it holds — a P2P
// channel keeps its one subscriber for ever, and mode, guarantee, type and
// replay buffer are fixed at open — so a worker finds it once (Route) and
// keeps it; what can change (closing, suspension, pausing, queue, credit,
// handoff slot) EmitRoute checks on every emit.

// Route returns the subscription of c that a worker's emits may take with
// EmitRoute: the subscriber of a lossless P2P channel of one type without a
// replay buffer. It returns nil when c has no such subscriber; final reports
// that the answer can no longer change (false only while a channel that
// could have a route has no subscriber yet).
func (c *Channel) Route() (s *Sub, final bool) {
	if c.spec.Mode != P2P || c.spec.Guarantee != Lossless || c.replay != nil || c.spec.Type == AnyType {
		return nil, true
	}
	subs := c.Subs()
	if len(subs) == 0 {
		return nil, false
	}
	if s := subs[0]; s.numbered {
		return s, true
	}
	return nil, true
}

// EmitRoute is Emit's fast path for a worker's emit to s, the route of c
// (Route), with Emit's rules and counters. On the subscription's home
// worker, when nothing of s waits ahead of t (its queue is empty, every
// earlier delivery has begun) and the handoff slot is free, t is copied into
// the slot, stamped, and runs right after the emitting handler. From another
// worker, t joins the emitter's outbox (emitOut). ok false means EmitRoute
// did nothing and the caller emits through Emit; otherwise st is Emit's
// result: OK, or CHAN_FULL from the outbox.
func (c *Channel) EmitRoute(e *Emitter, t *task.Task, s *Sub) (st task.Status, ok bool) {
	if c.refusing() || t.Type != c.spec.Type {
		return 0, false
	}
	if e.Worker != s.Home {
		st, _, ok = c.emitOut(e, t, s)
		return st, ok
	}
	if !c.RouteLocal(e, t, s) {
		return 0, false
	}
	e.Core.CountEnqueue(e.Local, t.Tenant, 1)
	e.count(c.id, StatEmits)
	return task.OK, true
}

// RouteLocal is EmitRoute on s's home worker with no counter added: the
// caller adds the emit to c's StatEmits and the enqueue to t's tenant (a
// worker adds them once per dispatch). It hands t off when nothing of s
// waits ahead of it (its queue is empty, every earlier delivery has begun),
// s has credit and is not paused, and the slot is free; false, with
// nothing done, otherwise.
func (c *Channel) RouteLocal(e *Emitter, t *task.Task, s *Sub) bool {
	if c.refusing() || t.Type != c.spec.Type || s.credit <= 0 || s.begun != s.next || s.q.Len() != 0 || s.Paused() || e.Local.LQ.Room() <= 0 {
		return false
	}
	// handoff's steps, written out: a call more per emit costs more than
	// the lines (measured: 1032 -> 1110 instructions per pipeline item).
	d := sched.HandoffUncounted(e.Local, t)
	if d == nil {
		return false
	}
	c.stamp(d, 0) // after the copy, as in handoff
	s.next++
	s.credit--
	d.Seq = s.next
	return true
}

// handoff puts the delivery of t to s in the emitting worker's handoff slot
// (sched.Core.Handoff, which counts the enqueue), numbered next in s's FIFO
// order. The caller checked that every earlier delivery of s has begun.
func (c *Channel) handoff(e *Emitter, t *task.Task, s *Sub) bool {
	d := e.Core.Handoff(e.Local, t)
	if d == nil {
		return false
	}
	// Stamped in the slot, after the copy: stamping t first would stall the
	// copy's wide loads behind the narrow stores.
	c.stamp(d, 0)
	s.next++
	s.credit--
	d.Seq = s.next
	return true
}
