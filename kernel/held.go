package kernel

import (
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/sched"
)

// Backpressure holding. A handler that gets CHAN_FULL from a lossless channel
// and returns RETRY does not need a timed backoff: the task is held on its
// worker until the channel has room, then re-enqueued. The worker registers as
// the channel's waiter, so the consumer that drains wakes it (the same
// protocol as consumer flow control). Held tasks keep their retry count; they
// are "still queued" for the accounting, and Halt counts and releases them.
// When the hold queue of that channel is full the task falls back to the
// supervisor's backoff.

// heldQ holds the tasks of one worker waiting for room on one channel. Owned by
// the worker.
type heldQ struct {
	c *channel.Channel
	q *sched.LQ
}

// holdCap is the hold-queue capacity per channel and worker.
const holdCap = 1024

// hold parks t until c has room; false when the hold queue is full.
func (w *worker) hold(t *Task, c *channel.Channel) bool {
	var h *heldQ
	for i := range w.held {
		if w.held[i].c == c {
			h = &w.held[i]
			break
		}
	}
	if h == nil {
		w.held = append(w.held, heldQ{c: c, q: sched.NewLQ(holdCap)})
		h = &w.held[len(w.held)-1]
	}
	if !h.q.PushReserve(t) {
		return false
	}
	w.nheld++
	c.AddWaiter(w.id)
	return true
}

// releaseHeld moves held tasks whose channel has room back to the LQ.
func (w *worker) releaseHeld() {
	for i := range w.held {
		h := &w.held[i]
		if h.q.Len() == 0 {
			continue
		}
		room := min(h.c.Room(), w.l.LQ.Room(), len(w.drain))
		if room <= 0 {
			if h.c.Closed() {
				room = min(w.l.LQ.Room(), len(w.drain)) // let them fail with CHAN_CLOSED
			} else {
				h.c.AddWaiter(w.id)
				continue
			}
		}
		n := h.q.PopBatch(w.drain[:room])
		w.nheld -= n
		for j := range w.drain[:n] {
			if !w.k.core.Requeue(w.l, &w.drain[j]) && !w.l.LQ.PushReserve(&w.drain[j]) {
				w.toError(&w.drain[j], statusChanFull, nil)
			}
		}
	}
}

// heldReady reports whether some held task's channel has room again.
func (w *worker) heldReady() bool {
	for i := range w.held {
		if h := &w.held[i]; h.q.Len() > 0 && (h.c.Room() > 0 || h.c.Closed()) {
			return true
		}
	}
	return false
}

func (w *worker) drainHeld(fn func(*Task)) {
	for i := range w.held {
		w.held[i].q.Drain(fn)
	}
	w.nheld = 0
}
