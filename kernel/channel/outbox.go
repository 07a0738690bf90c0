package channel

import "github.com/gmkernel/gmk/kernel/task"

// Outbox batches a worker's deliveries to a lossless P2P subscription homed
// on another worker ([C4]): instead of one ring push per delivery (a CAS on
// the ring's tail, serialised behind the cache misses of the cells the
// consumer just read, and a wake check), the worker collects up to
// OutboxCap deliveries and pushes them with one PushBatch and one Wake when
// its dispatch ends (Flush). A pipeline spread over workers pays the
// cross-core handoff once per batch instead of once per item (measured on
// the 2-core reference VM, internal/bench pipeline3 with stage2 and stage3
// pinned to worker 1: ~243 → ~105 ns per item; stage3 alone on worker 1:
// ~309 → ~155).
//
// The price would be latency, so a delivery for a subscription with nothing
// queued is pushed at once (with what the outbox holds for it): its
// consumer may be idle, and batching is for busy consumers, which have a
// backlog to work on meanwhile. An idle consumer never waits for the
// emitter's batch to end; a busy one gets its deliveries when the emitting
// worker's dispatch ends (a batch of tasks and their handoffs). Pushing only
// to a parked consumer instead missed one spinning before it parks, and was
// slower on the pinned pipeline above (121–130 ns against 106–121).
//
// Semantics are those of the direct push:
//   - Room is checked at the emit, against the subscription's queue plus the
//     outbox: an emit that would not fit gets CHAN_FULL, as before.
//   - FIFO: one emitter's deliveries to one subscription all pass through
//     the outbox while it holds any (it holds one subscription's at a
//     time), so they reach the queue in emit order.
//   - A flush pushes what fits. Only a competing producer can leave the
//     queue fuller than the emit saw it; what did not fit stays, counted as
//     queued (Len), and the owner retries.
//
// An Outbox is owned by one worker goroutine (Emitter.Out); it must not be
// copied.
type Outbox struct {
	sub *Sub
	n   int
	buf [OutboxCap]task.Task
}

// OutboxCap is how many deliveries an Outbox holds: a worker's batch, so a
// stage that emits once per task flushes about once per dispatch.
const OutboxCap = 64

// Len returns the number of deliveries waiting in the outbox.
func (o *Outbox) Len() int { return o.n }

// Sub returns the subscription the waiting deliveries are for (nil when
// none ever were).
func (o *Outbox) Sub() *Sub { return o.sub }

// Flush pushes the waiting deliveries to their subscription's queue, as
// many as fit, and wakes its home worker. Owner only.
func (o *Outbox) Flush(e *Emitter) {
	if o.n == 0 {
		return
	}
	m := o.sub.q.PushBatch(o.buf[:o.n])
	if m == 0 {
		return
	}
	e.Env.Wake(o.sub.Home)
	o.n = copy(o.buf[:], o.buf[m:o.n])
}

// Each calls fn for every waiting delivery, oldest first; for a stopped
// owner only (a snapshot).
func (o *Outbox) Each(fn func(t *task.Task)) {
	for i := range o.buf[:o.n] {
		fn(&o.buf[i])
	}
}

// Drain is Each, then empties the outbox (Halt's accounting, after the
// owner stopped).
func (o *Outbox) Drain(fn func(t *task.Task)) {
	o.Each(fn)
	o.n = 0
}

// emitOut is emitOne's path for a lossless delivery from a worker to a
// subscription homed on another worker: into the emitter's outbox, checked
// against the room the queue has now less what the outbox holds. It returns
// Emit's results, and ok false when the outbox still holds another
// subscription's deliveries (their queue is full): the caller then pushes
// directly, which keeps FIFO, since nothing of s is waiting in the outbox.
func (c *Channel) emitOut(e *Emitter, t *task.Task, s *Sub) (st task.Status, delivered int, ok bool) {
	o := e.Out
	if o.n > 0 && o.sub != s {
		o.Flush(e) // one subscription at a time
		if o.n > 0 {
			return 0, 0, false
		}
	}
	if o.n == len(o.buf) {
		o.Flush(e)
	}
	limit := c.cap
	if t.Priority() != 0 {
		limit = c.reserve
	}
	queued := s.q.Len()
	if o.n == len(o.buf) || queued+o.n >= limit {
		e.count(c.id, StatFull)
		return task.ChanFull, 0, true
	}
	o.sub = s
	d := &o.buf[o.n]
	*d = *t
	c.stamp(d, 0)
	o.n++
	e.count(c.id, StatEmits)
	if queued == 0 {
		o.Flush(e) // a consumer with nothing queued may be idle: batching is for busy ones
	}
	return task.OK, 1, true
}
