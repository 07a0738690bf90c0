package channel

import "github.com/gmkernel/gmk/kernel/task"

// The handoff route: a worker's emit on a lossless P2P channel whose
// subscription is homed on that worker can skip Emit's general checks. What
// makes the route valid never changes once it holds — a P2P channel keeps its
// one subscriber for ever, and mode, guarantee, type and replay buffer are
// fixed at open — so a worker finds it once (HandoffRoute) and keeps it;
// what can change (closing, suspension, pausing, queue, credit, handoff
// slot) EmitHandoff checks on every emit.

// HandoffRoute returns the subscription of c that worker's emits may hand
// straight to its handoff slot with EmitHandoff: the subscriber of a
// lossless P2P channel of one type without a replay buffer, homed on worker.
// It returns nil when c has no such subscriber; final reports that the
// answer can no longer change (false only while a channel that could have
// the route has no subscriber yet).
func (c *Channel) HandoffRoute(worker int) (s *Sub, final bool) {
	if c.spec.Mode != P2P || c.spec.Guarantee != Lossless || c.replay != nil || c.spec.Type == AnyType {
		return nil, true
	}
	subs := c.Subs()
	if len(subs) == 0 {
		return nil, false
	}
	if s := subs[0]; s.numbered && s.Home == worker {
		return s, true
	}
	return nil, true
}

// EmitHandoff is Emit's fast path for the home worker of s, a route of c
// (HandoffRoute). When nothing of s waits ahead of t (its queue is empty,
// every earlier delivery has begun) and the worker's handoff slot is free,
// t is copied into the slot, stamped, and runs right after the emitting
// handler, as Emit would have done. It reports false, having changed
// nothing, when any condition fails; the caller then emits through Emit,
// which applies the same rules and the slower alternatives.
func (c *Channel) EmitHandoff(e *Emitter, t *task.Task, s *Sub) bool {
	if c.refusing() || t.Type != c.spec.Type || s.credit <= 0 || s.begun != s.next ||
		s.q.Len() != 0 || s.Paused() || e.Local.LQ.Room() <= 0 || !c.handoff(e, t, s) {
		return false
	}
	e.count(c.id, StatEmits)
	return true
}

// handoff puts the delivery of t to s in the emitting worker's handoff slot
// (sched.Core.Handoff), numbered next in s's FIFO order. The caller checked
// that every earlier delivery of s has begun.
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
