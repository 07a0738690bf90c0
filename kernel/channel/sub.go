package channel

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel/ring"
	"github.com/gmkernel/gmk/kernel/task"
)

// ErrorSub is the subscriber index of a channel's error handler ([C3] OnError).
const ErrorSub = 255

// Sub is one subscription: a bounded multi-producer queue drained by its home
// worker, which runs the subscriber's handler on each delivery, one at a time
// and in queue order. Any goroutine may push (through Emit); only the home
// worker calls Drain and Ack.
type Sub struct {
	ch      *Channel
	index   int
	Home    int   // worker that drains this queue and runs the handler
	Handler int32 // the kernel's handler slot for deliveries

	q *ring.MPSC[task.Task]

	// degraded is set (under the channel's emitMu) when the subscriber fell
	// further behind than the replay buffer ([C7]); a degraded subscriber is
	// treated as lossy until it catches up. Read by emitters and stats.
	degraded atomic.Bool
	// acked is the last channel sequence the subscriber finished (home worker
	// writes, emitters read under emitMu for replay eviction).
	acked atomic.Uint32
	// numbered: deliveries are numbered by next (lossless P2P without a
	// replay buffer, not the error handler). Set at construction.
	numbered bool
	// replay: the channel has a replay buffer, the only reader of acked
	// (Ack is a no-op without one). Set at construction.
	replay bool
	// acks: a completed delivery needs work (Acks): a replay buffer, or
	// an observer of completions. Set with replay and by Observe.
	acks bool
	// paused stops the home worker from draining the queue (flow control
	// from outside the workers: a relay whose consumer is slow). The queue
	// fills, and emitters see the channel's full behaviour.
	paused atomic.Bool

	// The home worker's fields, a cache line away from those that emitters
	// on other cores read for every batch: the worker writes them per
	// drain and per dispatch.
	_ [cacheLinePad]byte
	// next numbers deliveries of a lossless P2P channel without replay at drain
	// time: the queue is FIFO, so drain order is emit order. Home worker only.
	next uint32
	// begun is the sequence of the last delivery, in FIFO order, whose
	// dispatch began (Begin): begun == next means no numbered delivery is
	// still waiting in the worker's queues, so a new one may run before
	// them (the handoff fast path of emitOne). Home worker only.
	begun uint32
	// credit is how many more deliveries the fast path may still take
	// (Emitter.Room); Drained spends it too. Home worker only.
	credit int32
	// obs hears of the deliveries the kernel is done with (Observe); nil:
	// none. obsOK: of completions too. Set by Observe before the kernel's
	// workers start (the kernel's duty), read by the workers after, on
	// slow paths only: kept off the line that emitters read.
	obsOK bool
	obs   Observer
	_     [cacheLinePad - 24]byte
}

// refill asks e.Room for the fast path's credit; false when there is none.
func (s *Sub) refill(e *Emitter) bool {
	if e.Room == nil {
		s.credit = math.MaxInt32
		return true
	}
	s.credit = int32(min(e.Room(s), math.MaxInt32))
	return s.credit > 0
}

// Drained spends the fast path's credit on n deliveries the home worker
// drained from the queue (they take the same room). Home worker only.
func (s *Sub) Drained(n int) {
	if s.credit > 0 {
		s.credit = int32(max(int(s.credit)-n, 0))
	}
}

// cacheLinePad keeps independently written fields on separate cache lines
// (128 bytes covers the adjacent-line prefetcher of x86).
const cacheLinePad = 128

// SetPaused pauses or resumes draining; any goroutine.
func (s *Sub) SetPaused(p bool) { s.paused.Store(p) }

// Paused reports whether draining is paused.
func (s *Sub) Paused() bool { return s.paused.Load() }

// Channel returns the channel the subscription belongs to.
func (s *Sub) Channel() *Channel { return s.ch }

// Index returns the subscriber index carried in delivered tasks.
func (s *Sub) Index() int { return s.index }

// Len returns the number of queued deliveries.
func (s *Sub) Len() int { return s.q.Len() }

// Degraded reports whether the subscriber is currently degraded to lossy.
func (s *Sub) Degraded() bool { return s.degraded.Load() }

// Acked returns the last acknowledged channel sequence.
func (s *Sub) Acked() uint32 { return s.acked.Load() }

// Acks reports whether a completed delivery needs Ack or an observer's
// report (Observed): the caller's one check per completion, so that a
// subscription without a replay buffer or an observer of completions
// costs nothing more.
func (s *Sub) Acks() bool { return s.acks }

// Ack records that the delivery with channel sequence seq completed. Home
// worker only (or the worker that ran a retried delivery). Only a replay
// buffer reads acknowledgements, so without one Ack costs nothing (no
// atomic store per delivery).
func (s *Sub) Ack(seq uint32) {
	if !s.replay {
		return
	}
	if int32(seq-s.acked.Load()) > 0 {
		s.acked.Store(seq)
	}
}

// Observed reports whether the observer (Observe) hears of a delivery
// that ended with st: any that did not complete, a completion (OK) if it
// asked for them.
func (s *Sub) Observed(st task.Status) bool { return s.obs != nil && (st != task.OK || s.obsOK) }

// Done tells the observer that the delivery with channel sequence seq
// ended with st; the caller checked Observed(st).
func (s *Sub) Done(seq uint32, st task.Status) { s.obs(s.index, seq, st) }

// Drain pops up to len(dst) deliveries in FIFO order. Home worker only.
func (s *Sub) Drain(dst []task.Task) int {
	n := s.q.PopBatch(dst)
	if s.numbered {
		next := s.next
		for i := range dst[:n] {
			next++
			dst[i].Seq = next
		}
		s.next = next
	}
	return n
}

// Begin records that the dispatch of delivery seq begins. Home worker only.
// Only the delivery next in FIFO order advances begun, so a retried or
// replayed one never makes later deliveries look dispatched.
func (s *Sub) Begin(seq uint32) {
	if seq == s.begun+1 {
		s.begun = seq
	}
}

// Subscribe adds a subscriber whose deliveries run handler on worker home
// ([C3]). A second subscriber of a P2P channel gets CHAN_ALREADY_BOUND; more than
// MaxSubscribers is an error too.
func (c *Channel) Subscribe(home int, handler int32) (*Sub, error) {
	c.ctl.Lock()
	defer c.ctl.Unlock()
	old := c.Subs()
	if c.spec.Mode == P2P && len(old) > 0 {
		return nil, fmt.Errorf("%w: %s", task.ErrChanAlreadyBound, c.spec.Name)
	}
	if len(old) >= MaxSubscribers {
		return nil, fmt.Errorf("%w: %s has %d subscribers already", ErrBadSpec, c.spec.Name, len(old))
	}
	s := c.newSub(len(old), home, handler)
	next := make([]*Sub, len(old)+1)
	copy(next, old)
	next[len(old)] = s
	if c.lockedPath() {
		// A new subscriber starts at the current sequence: hold emitMu so no
		// emit is half-way through the old set.
		c.emitMu.lock()
		s.acked.Store(c.lseq)
		c.subs.Store(&next)
		c.emitMu.unlock()
	} else {
		c.subs.Store(&next)
	}
	// Producers waiting for room (a lossless channel without subscribers
	// refuses with CHAN_FULL) may go on now: goroutines get their token here,
	// and the kernel wakes the workers of the mask Subscribe's caller takes
	// with TakeWaiters.
	c.signalRoom()
	return s, nil
}

// SetErrorHandler registers the channel's error handler ([C3], [F1]): failures
// of tasks delivered from this channel go to it instead of sys.error.
func (c *Channel) SetErrorHandler(home int, handler int32) (*Sub, error) {
	c.ctl.Lock()
	defer c.ctl.Unlock()
	if c.onError.Load() != nil {
		return nil, fmt.Errorf("%w: %s already has an error handler", task.ErrChanAlreadyBound, c.spec.Name)
	}
	s := c.newSub(ErrorSub, home, handler)
	c.onError.Store(s)
	return s, nil
}

func (c *Channel) newSub(index, home int, handler int32) *Sub {
	s := &Sub{ch: c, index: index, Home: home, Handler: handler, q: newRing(c.cap),
		numbered: c.spec.Guarantee == Lossless && !c.lockedPath() && index != ErrorSub, replay: c.replay != nil}
	if index != ErrorSub {
		s.obs, s.obsOK = c.obs, c.obsOK
	}
	s.acks = s.replay || s.obsOK
	return s
}

// Observer is told that the kernel is done with the delivery to
// subscriber sub with channel sequence seq (Task.Seq): st is OK when its
// handler completed it, else the code it ended with (to an error handler,
// sys.error or sys.dropped).
type Observer func(sub int, seq uint32, st task.Status)

// Observe makes fn hear of the deliveries to the channel's subscribers
// (not to its error handler) that the kernel is done with: each that did
// not complete, and with completions each that did. Deliveries end on the
// kernel's workers, which call fn; it must not block. Call it once, under
// the kernel's control, before any delivery is dispatched: the
// subscriptions read their observer without synchronisation.
func (c *Channel) Observe(fn Observer, completions bool) error {
	c.ctl.Lock()
	defer c.ctl.Unlock()
	if c.obs != nil {
		return fmt.Errorf("%w: %s has an observer already", task.ErrChanAlreadyBound, c.spec.Name)
	}
	c.obs, c.obsOK = fn, completions
	for _, s := range c.Subs() {
		s.obs, s.obsOK = fn, completions
		s.acks = s.replay || completions
	}
	return nil
}

// DeliverError hands a failed delivery to the channel's error handler with its
// status code in Aux. It reports false when there is no error handler or its
// queue is full (the caller then routes the task to sys.error).
func (c *Channel) DeliverError(e *Emitter, t *task.Task, code task.Status) bool {
	s := c.onError.Load()
	if s == nil {
		return false
	}
	d := *t
	d.SetChannel(c.id, ErrorSub)
	d.Aux = uint16(int16(code))
	if !s.q.Push(&d) {
		return false
	}
	e.Env.Wake(s.Home)
	return true
}

// Each calls fn for every queued delivery, oldest first; for a quiescent
// subscription only (no emit or drain meanwhile).
func (s *Sub) Each(fn func(t *task.Task)) { s.q.Each(fn) }
