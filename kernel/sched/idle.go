package sched

import "sync/atomic"

// cacheLine is the padding unit that keeps independently written words on
// separate cache lines (128 covers the adjacent-line prefetcher of x86).
const cacheLine = 128

// Idle is the parking registry of a kernel's workers ([S6]). A worker marks
// itself parked, re-checks its queues, then waits on its wake channel with a
// bounded timeout; anyone who makes work runnable for it calls Wake (or WakeAny
// for shared queues).
//
// Lost wake-ups: the parking worker stores parked=true and then loads the
// queue indices; a producer stores the queue cell and then loads parked. Go's
// atomics are sequentially consistent, so at least one of the two sees the
// other's store: either the worker finds the work, or the producer wakes it. The
// bounded wait covers anything else (a wake that races with the timeout).
type Idle struct {
	n  atomic.Int32 // number of parked workers; written by workers, read by WakeAny
	_  [cacheLine - 4]byte
	ws []idleWorker
}

type idleWorker struct {
	parked atomic.Bool   // written by the owner worker, read by producers
	ch     chan struct{} // buffered 1: a wake is never lost while parked
	_      [cacheLine - 16]byte
}

// NewIdle returns the registry for n workers.
func NewIdle(n int) *Idle {
	i := &Idle{ws: make([]idleWorker, n)}
	for w := range i.ws {
		i.ws[w].ch = make(chan struct{}, 1)
	}
	return i
}

// Parked returns the number of parked workers.
func (i *Idle) Parked() int { return int(i.n.Load()) }

// IsParked reports whether worker w is parked (or about to park). Any
// goroutine.
func (i *Idle) IsParked(w int) bool { return i.ws[w].parked.Load() }

// Wake wakes worker w if it is parked. Any goroutine; w < 0 is ignored.
func (i *Idle) Wake(w int) {
	if w >= 0 && i.ws[w].parked.Load() {
		i.kick(w)
	}
}

// WakeAny wakes one parked worker, if any, for work on a shared queue.
func (i *Idle) WakeAny() {
	if i.n.Load() == 0 {
		return
	}
	for w := range i.ws {
		if i.ws[w].parked.Load() {
			i.kick(w)
			return
		}
	}
}

func (i *Idle) kick(w int) {
	select {
	case i.ws[w].ch <- struct{}{}:
	default: // a wake is already pending
	}
}

// Mark publishes that worker w is about to park. The worker must re-check its
// queues after Mark and call Unmark instead of waiting if it finds work.
func (i *Idle) Mark(w int) {
	i.ws[w].parked.Store(true)
	i.n.Add(1)
}

// Unmark clears worker w's parked state.
func (i *Idle) Unmark(w int) {
	i.ws[w].parked.Store(false)
	i.n.Add(-1)
}

// C returns worker w's wake channel.
func (i *Idle) C(w int) <-chan struct{} { return i.ws[w].ch }
