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
	// acks: the channel has a replay buffer, the only reader of acked (Ack
	// is a no-op without one). Set at construction.
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
	_      [cacheLinePad - 12]byte
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

// Ack records that the delivery with channel sequence seq is finished. Home
// worker only. Only a replay buffer reads acknowledgements, so without one Ack
// costs nothing (no atomic store per delivery).
func (s *Sub) Ack(seq uint32) {
	if !s.acks {
		return
	}
	if int32(seq-s.acked.Load()) > 0 {
		s.acked.Store(seq)
	}
}

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
	return &Sub{ch: c, index: index, Home: home, Handler: handler, q: newRing(c.cap),
		numbered: c.spec.Guarantee == Lossless && !c.lockedPath() && index != ErrorSub, acks: c.replay != nil}
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
