package kernel

import (
	"fmt"

	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/task"
)

// DoneFunc hears that the kernel is done with a delivery of an observed
// channel (ChanObserve): the one to subscriber sub (Task.Subscriber) with
// channel sequence seq (Task.Seq). st is OK when its handler completed
// it, else the code it ended with — a failure its supervisor did not
// retry, POISONED, STALE_PAYLOAD, YIELD_LIMIT, YIELD_OVERFLOW (to the
// channel's error handler or sys.error), CHAN_CLOSED (sys.dropped) …
type DoneFunc func(sub int, seq uint32, st Status)

// ChanObserve makes fn hear of each delivery of channel id to a subscriber
// (not to its error handler) that the kernel is done with ([C9]): once,
// when it ends other than completed — to an error handler, sys.error or
// sys.dropped, whether its handler ran or not — and, with completions,
// when its handler completes it. A delivery the kernel will run again is
// not done: a retry, a yield, a failure awaiting its supervisor, a task
// held for room. A bridge endpoint acknowledges with it what its peer may
// forget ([B4], [F5]).
//
// fn runs on the worker that ends the delivery, after that worker's
// channel counters are published (ChanStats then counts what the
// delivery's handler emitted, as after Ctx.PublishChanStats); it must not
// block. Deliveries of other channels pay nothing, and those of an
// observed channel only on the paths fn hears of.
//
// Call it once per channel, before the kernel's workers start — from a
// module's Init during Boot; later it fails. System and deterministic
// channels cannot be observed (the deterministic lane renumbers its
// tasks).
func (k *Kernel) ChanObserve(id ChanID, fn DoneFunc, completions bool) error {
	c := k.chans.Get(id)
	switch {
	case c == nil:
		return fmt.Errorf("%w: %d", ErrChanUnknown, id)
	case fn == nil:
		return fmt.Errorf("%w: observe %s: no function", ErrConfig, c.Name())
	case k.isSysChan(id) || c == k.sysTick || k.detChan(c):
		return fmt.Errorf("%w: %s cannot be observed", ErrConfig, c.Name())
	case k.started.Load():
		return fmt.Errorf("%w: observe %s: the workers have started", ErrConfig, c.Name())
	}
	return c.Observe(channel.Observer(fn), completions)
}

// ack acknowledges completed delivery seq of sub, whose Acks is true: the
// replay buffer's acknowledgement, and the observer's report once this
// worker's counters are published. The short path's and complete's slow
// branch.
func (w *worker) ack(sub *channel.Sub, seq uint32) {
	sub.Ack(seq)
	if sub.Observed(task.OK) {
		w.publishCounts()
		sub.Done(seq, task.OK)
	}
}

// ended tells the observer of t's subscription that the kernel ended
// delivery t with code without its handler completing it (toError, drop).
// Slow paths only.
func (w *worker) ended(t *Task, code Status) {
	if t.Flags&task.ChannelMsg == 0 {
		return
	}
	if s := w.subOf(t.Channel); s != nil && s.Observed(code) {
		w.publishCounts()
		s.Done(t.Seq, code)
	}
}

// publishCounts publishes the worker's counters now: the short path's and
// the route handoffs' counts, then the shard.
func (w *worker) publishCounts() {
	w.flushCounts()
	w.em.Shard.Flush()
}
