package ring

import (
	"reflect"
	"sync/atomic"
)

// MPSC is a bounded multi-producer single-consumer ring: any number of
// goroutines may Push, PushBatch and Len at the same time, but only one
// goroutine at a time may PopBatch (the kernel's subscription queues: many
// emitters, one home worker). Elements are stored by value; nothing
// allocates, blocks or waits for another goroutine.
//
// Memory model: a Push of a value synchronizes before the PopBatch that
// returns it; a PopBatch synchronizes before the Pushes that reuse its cells.
//
// The protocol. Positions are unbounded uint64 counters; position p lives in
// cell p&mask. A producer claims position p by moving tail from p to p+1 with
// a CAS, only while p-head < capacity (the consumer has finished the previous
// lap of that cell); it writes the value and publishes it by storing the
// cell's seq = p+1. The consumer, which alone owns head, takes the run of
// cells from head whose seq says "published for this position", copies them
// out, and then publishes all of them free again with one store of head. So
// unlike MPMC (one sequence store per cell on each side) the consumer pays one
// atomic store per batch, which is what a worker draining a subscription
// wants. A zeroed cell has seq 0, "not published" for every position, so a
// fresh ring needs no initialisation.
type MPSC[T any] struct {
	_ noCopy

	// Written once by the constructor, read by everyone.
	mask    uint64
	cells   []cell[T]
	zeroPop bool
	_       [cacheLinePad - 40]byte

	// tail is the next position to push. Written (CAS) by producers; read by
	// producers and Len.
	tail atomic.Uint64
	_    [cacheLinePad - 8]byte

	// head is the next position to pop. Written (Store) by the consumer only,
	// once per batch; read by producers (room) and Len. The store releases the
	// consumer's reads of the cells below it to the producers that reuse them.
	head atomic.Uint64
	_    [cacheLinePad - 8]byte
}

// NewMPSC returns an empty ring holding capacity elements, capacity rounded
// up to a power of two (minimum 2).
func NewMPSC[T any](capacity int) *MPSC[T] { return newMPSCAt[T](capacity, 0) }

// newMPSCAt starts the indices at start (tests start near the uint64 wrap).
func newMPSCAt[T any](capacity int, start uint64) *MPSC[T] {
	n := roundCapacity(capacity)
	r := &MPSC[T]{mask: uint64(n - 1), cells: make([]cell[T], n), zeroPop: hasPointers(reflect.TypeFor[T]())}
	if start != 0 {
		// Seqs say "published" only when they equal position+1; make sure no
		// zero word does so for the first lap of a ring started at start.
		for i := range uint64(n) {
			p := start + i
			r.cells[p&r.mask].seq.Store(p - uint64(n) + 1) // published for the lap before: stale
		}
	}
	r.tail.Store(start)
	r.head.Store(start)
	return r
}

// Cap returns the capacity.
func (r *MPSC[T]) Cap() int { return int(r.mask + 1) }

// Len returns the number of elements, counting claimed but unpublished pushes;
// within [0, Cap()].
func (r *MPSC[T]) Len() int {
	h := r.head.Load()
	t := r.tail.Load()
	return int(min(t-h, r.mask+1))
}

// Push copies *v into the ring; false when it is full.
func (r *MPSC[T]) Push(v *T) bool {
	for {
		pos := r.tail.Load()
		used := int64(pos - r.head.Load()) // acquire head: the consumer is done below it
		if used < 0 {
			continue // head passed our stale tail: others pushed and were popped since
		}
		if uint64(used) > r.mask {
			return false
		}
		if r.tail.CompareAndSwap(pos, pos+1) {
			c := &r.cells[pos&r.mask]
			c.val = *v
			c.seq.Store(pos + 1) // release: publish val to the consumer
			return true
		}
	}
}

// PushBatch pushes a prefix of vs (as much as fits) with one tail CAS and
// returns its length.
func (r *MPSC[T]) PushBatch(vs []T) int {
	for {
		pos := r.tail.Load()
		used := int64(pos - r.head.Load()) // acquire head
		if used < 0 {
			continue // head passed our stale tail (see Push)
		}
		k := min(uint64(len(vs)), r.mask+1-min(uint64(used), r.mask+1))
		if k == 0 {
			return 0
		}
		if r.tail.CompareAndSwap(pos, pos+k) {
			for i := range k {
				c := &r.cells[(pos+i)&r.mask]
				c.val = vs[i]
				c.seq.Store(pos + i + 1) // release: publish to the consumer
			}
			return int(k)
		}
	}
}

// PopBatch moves up to len(dst) elements, oldest first, into dst and returns
// how many. It stops at the first claimed but unpublished cell. Only one
// goroutine at a time may call it.
func (r *MPSC[T]) PopBatch(dst []T) int {
	h := r.head.Load() // our own index: no one else writes it
	k := 0
	for ; k < len(dst); k++ {
		p := h + uint64(k)
		c := &r.cells[p&r.mask]
		if c.seq.Load() != p+1 { // acquire: published for p?
			break
		}
		dst[k] = c.val
		if r.zeroPop {
			var zero T
			c.val = zero
		}
	}
	if k > 0 {
		r.head.Store(h + uint64(k)) // release: cells below are free for the producers
	}
	return k
}
