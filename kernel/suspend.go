package kernel

import "fmt"

// Suspension ([X5]): a cluster member shows CHAN_CLOSED to the producers of a
// cluster channel while the channel's consumer is re-activated on another
// member, then reopens it. Unlike ChanClose, ChanSuspend keeps the channel's
// subscribers and its queued deliveries (they are still delivered, none goes
// to sys.dropped), and ChanResume undoes it. See channel.Channel.Suspend.

// ChanSuspend makes emits on channel id fail with CHAN_CLOSED (ErrChanClosed)
// until ChanResume; queued deliveries still run. Producers blocked in
// ChanEmitWait or ChanEmitAll are woken and return ErrChanClosed. System
// channels cannot be suspended. Safe from any goroutine.
func (k *Kernel) ChanSuspend(id ChanID) error {
	c := k.chans.Get(id)
	if c == nil {
		return fmt.Errorf("%w: %d", ErrChanUnknown, id)
	}
	if k.isSysChan(id) {
		return fmt.Errorf("gmk: %s cannot be suspended", c.Name())
	}
	c.Suspend()
	return nil
}

// ChanResume reopens a channel suspended by ChanSuspend (a no-op on one that
// is not). It does not reopen a closed channel. Safe from any goroutine.
func (k *Kernel) ChanResume(id ChanID) error {
	c := k.chans.Get(id)
	if c == nil {
		return fmt.Errorf("%w: %d", ErrChanUnknown, id)
	}
	c.Resume()
	return nil
}

// ChanSuspended reports whether channel id is suspended (false for an
// unknown id).
func (k *Kernel) ChanSuspended(id ChanID) bool {
	c := k.chans.Get(id)
	return c != nil && c.Suspended()
}

// Yielded reports whether the running handler asked to yield (Yield, YieldAt,
// or a YieldPoint that returned true): a handler that returns OK after that
// has not finished its task — the kernel runs it again. A wrapper that
// acknowledges a task after its handler, as a cluster consumer does ([X5]),
// acknowledges only when the handler returned OK and Yielded is false.
func (c *Ctx) Yielded() bool { return c.yielded }

// PublishChanStats publishes the calling worker's channel counters now
// instead of at its next flush, so that ChanStats counts every emit this
// handler made. A bridge endpoint calls it before it acknowledges a task as
// handled: the acknowledgement may then wait for exactly those emits to
// leave the kernel ([B4], [F5]). Cost: one atomic store per counter the
// worker changed since its last flush. A no-op outside a worker.
func (c *Ctx) PublishChanStats() {
	if c.w != nil {
		c.w.publishCounts()
	}
}
