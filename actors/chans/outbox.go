package chans

import (
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/gmkernel/gmk/kernel/task"
)

// outbox is one PID subscription: the deliveries the relay took from the
// kernel and has not sent yet, and the credit window that limits what is
// sent and not acknowledged.
//
// Concurrency: take runs on the subscription's home worker (one delivery at
// a time, in channel order); next, ack and close run on the channel actor.
// mu guards every mutable field; each side holds it for a few field updates
// (take: one append; next: moving one batch out). The immutable fields are
// written before the outbox is published to the relay's table (an atomic
// store) and only read after.
type outbox struct {
	id       uint64
	channel  string
	pid      *actor.PID
	lossless bool
	autoAck  bool
	decode   bool
	window   uint64
	limit    int    // queued tasks beyond the credit at which take loses the delivery
	kick     func() // asks the channel actor to flush; called without mu
	// pause pauses or resumes the kernel subscription (lossless only; nil
	// for lossy ones), called under mu so that pauses and resumes reach the
	// kernel in the order the outbox decided them (it is an atomic store). A lossless subscriber with pauseAt
	// tasks queued stops the kernel from draining its subscription, so the
	// channel fills and its producers get CHAN_FULL — backpressure instead
	// of buffering; it resumes at half that.
	pause   func(bool)
	pauseAt int
	sub     atomic.Int32 // the kernel subscriber index, once placed

	mu       sync.Mutex
	q        fifo
	closed   bool
	paused   bool // the kernel subscription is paused (see pause)
	flushing bool // a flush is asked for or running, so take does not kick
	// Counters: taken = sent + dropped + overflow + abandoned + q.len().
	taken, sent, acked, dropped, overflow, abandoned uint64
}

type takeResult uint8

const (
	taken  takeResult = iota
	lost              // counted as dropped (lossy) or overflow (lossless)
	closed            // the subscription ended; the relay counts an orphan
)

// take queues a delivery and its payload (copied: the kernel releases its
// reference when the handler returns). A subscriber whose queue holds limit
// tasks more than its credit would let the actor send is behind: the
// delivery is lost — drop-slow on a lossy channel, overflow on a lossless
// one — and counted either way.
func (o *outbox) take(t *task.Task, payload []byte) takeResult {
	it := item{t: *t}
	if len(payload) > 0 {
		it.p = append([]byte(nil), payload...)
	}
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return closed
	}
	o.taken++
	if uint64(o.q.len()) >= uint64(o.limit)+o.credit() { // behind by more than credit and limit
		if o.lossless {
			o.overflow++
		} else {
			o.dropped++
		}
		o.mu.Unlock()
		return lost
	}
	o.q.push(it)
	kick := !o.flushing && o.credit() > 0
	o.flushing = o.flushing || kick
	if o.pause != nil && !o.paused && o.q.len() >= o.pauseAt {
		o.paused = true
		o.pause(true)
	}
	o.mu.Unlock()
	if kick {
		o.kick()
	}
	return taken
}

// resumeLocked resumes a paused subscription that drained to half its
// pause mark (or ended). Caller holds mu.
func (o *outbox) resumeLocked() {
	if o.paused && (o.closed || o.q.len() <= o.pauseAt/2) {
		o.paused = false
		o.pause(false)
	}
}

// credit is how many more tasks may be sent before an acknowledgement.
// Caller holds mu.
func (o *outbox) credit() uint64 {
	if out := o.sent - o.acked; out < o.window {
		return o.window - out
	}
	return 0
}

// next moves up to max tasks that the credit allows into dst and numbers
// them from first. more reports that the caller should flush again (it
// keeps the flushing mark); otherwise the mark is cleared, and the next
// take or ack with credit kicks a new flush. lost is the number of tasks
// this subscription lost so far.
func (o *outbox) next(dst []item, max int) (items []item, first, lostN uint64, more bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	if !o.closed {
		n = int(min(uint64(o.q.len()), o.credit(), uint64(max)))
	}
	items = o.q.pop(dst[:0], n)
	first = o.sent + 1
	o.sent += uint64(n)
	if o.autoAck {
		o.acked = o.sent
	}
	more = n > 0 && o.q.len() > 0 && o.credit() > 0
	o.flushing = more
	o.resumeLocked()
	return items, first, o.dropped + o.overflow, more
}

// ack records that every task up to seq was handled and reports whether
// the caller should flush now (credit came back to queued tasks).
func (o *outbox) ack(seq uint64) (flush bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if seq > o.sent {
		seq = o.sent // an acknowledgement of what was never sent counts for nothing
	}
	if seq > o.acked {
		o.acked = seq
	}
	flush = !o.flushing && !o.closed && o.q.len() > 0 && o.credit() > 0
	o.flushing = o.flushing || flush
	return flush
}

// close ends the subscription: queued tasks are abandoned (counted), and
// later deliveries find it closed. It returns the final counters.
func (o *outbox) close() SubStats {
	o.mu.Lock()
	if !o.closed {
		o.closed = true
		o.abandoned += uint64(o.q.len())
		o.q = fifo{}
	}
	o.resumeLocked() // later deliveries drain as orphans
	st := o.statsLocked()
	o.mu.Unlock()
	return st
}

func (o *outbox) isClosed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closed
}

func (o *outbox) stats() SubStats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.statsLocked()
}

func (o *outbox) statsLocked() SubStats {
	return SubStats{Taken: o.taken, Sent: o.sent, Acked: o.acked, Dropped: o.dropped,
		Overflow: o.overflow, Abandoned: o.abandoned, Pending: uint64(o.q.len())}
}

// item is a delivery waiting in an outbox.
type item struct {
	t task.Task
	p []byte // a copy of the payload; nil for an inline task
}

// fifo is a growable ring of items. Not synchronised: the outbox's mu.
type fifo struct {
	buf     []item
	head, n int
}

func (f *fifo) len() int { return f.n }

func (f *fifo) push(it item) {
	if f.n == len(f.buf) {
		nb := make([]item, max(16, 2*len(f.buf)))
		for i := range f.n {
			nb[i] = f.buf[(f.head+i)%len(f.buf)]
		}
		f.buf, f.head = nb, 0
	}
	f.buf[(f.head+f.n)%len(f.buf)] = it
	f.n++
}

// pop appends the n oldest items to dst. An emptied ring larger than
// shrinkCap is let go, so a burst does not pin its memory.
func (f *fifo) pop(dst []item, n int) []item {
	for ; n > 0; n-- {
		dst = append(dst, f.buf[f.head])
		f.buf[f.head] = item{}
		f.head = (f.head + 1) % len(f.buf)
		f.n--
	}
	if f.n == 0 && len(f.buf) > shrinkCap {
		*f = fifo{}
	}
	return dst
}

const shrinkCap = 4096
