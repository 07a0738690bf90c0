package alloc

import (
	"runtime"

	"github.com/gmkernel/gmk/kernel/ring"
)

// Free lists are MPMC rings of free indices (kernel/ring). An index is in its ring
// at most once, and the ring's capacity is at least the number of indices, so the
// ring is never really full and never really empty while indices are free. It can
// still LOOK full or empty for an instant: an MPMC cell is claimed by a CAS on the
// index and published by a later store, and a goroutine preempted between the two
// makes its neighbours' Push report full (the cell of the previous lap is claimed
// but not yet released) or Pop report empty (the oldest cell is claimed but not
// yet written). The two slow paths below deal with that.

// popSpins bounds how often takeSlow yields to a stalled pusher before the
// allocation is reported as failed. Small: the stall is the few instructions
// between a pusher's CAS and its store, unless that goroutine was preempted.
const popSpins = 4

// takeIndex pops a free index; false when none is free (r may be nil: no indices).
func takeIndex(r *ring.MPMC[uint32]) (uint32, bool) {
	var i uint32
	if r != nil && r.Pop(&i) {
		return i, true
	}
	return takeSlow(r)
}

// takeSlow is the empty-looking case of takeIndex. Len counts claimed pushes, so
// Len > 0 after a failed Pop means a pusher holds the oldest cell: yield to it a
// bounded number of times ([A3] allows a bounded spin), then give up.
func takeSlow(r *ring.MPMC[uint32]) (uint32, bool) {
	var i uint32
	for range popSpins {
		if r == nil || r.Len() == 0 {
			return 0, false
		}
		runtime.Gosched()
		if r.Pop(&i) {
			return i, true
		}
	}
	return 0, false
}

// putIndex pushes a freed index back.
func putIndex(r *ring.MPMC[uint32], i uint32) {
	if !r.Push(&i) {
		putSlow(r, i)
	}
}

// putSlow is the full-looking case of putIndex. The index must not be lost, and
// the ring has room for it (see above), so the push is retried until the stalled
// consumer that holds the cell publishes its release; yielding lets it run on a
// busy machine. This is the only wait in the package, and it waits for a
// goroutine that is in the middle of a few instructions, never for a lock holder.
func putSlow(r *ring.MPMC[uint32], i uint32) {
	for !r.Push(&i) {
		runtime.Gosched()
	}
}
