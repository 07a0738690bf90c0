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
// cell p&mask: a value in vals and a run header in runs. A producer claims
// the run of positions [p, p+k) by moving tail from p to p+k with a CAS, only
// while p+k-head <= capacity (the consumer has finished the previous lap of
// those cells); it copies the k values in, writes the run length k into the
// header of p, and publishes the whole run with one store of that header's
// seq = p+1. The consumer, which alone owns head, takes runs from head: a
// run's first header must say "published for this position"; the rest of
// the run follows without a check (the consumer remembers how much of a run
// it has left, across PopBatch calls, since only one goroutine pops at a
// time). It copies them out and then publishes all of them free again with
// one store of head. So both sides pay one atomic store per batch, not one
// per cell: a sequence store is a locked instruction on x86 that also drains
// the store buffer, and a per-cell store cost a 64-task PushBatch about 6 ns
// per task. A zeroed header has seq 0, "not published" for every position,
// so a fresh ring needs no initialisation; a header inside a run keeps the
// seq of whatever run started there in an earlier lap, which is never read
// (and never equals p+1 for the current position p).
type MPSC[T any] struct {
	_ noCopy

	// Written once by the constructor, read by everyone.
	mask    uint64
	vals    []T
	runs    []runMark
	zeroPop bool
	_       [cacheLinePad - 64]byte

	// left is how many cells of the run the consumer is in remain after
	// head (their first cell was checked already). The consumer's only.
	left uint64
	_    [cacheLinePad - 8]byte

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

// runMark is the run header of position p: seq and run are written by the
// producer of the run that starts at p, before (run) and as (seq) it
// publishes; read by the consumer after it saw seq (acquire). The values
// live apart, packed (vals), so that a batch of 48-byte tasks moves between
// cores in three cache lines per four tasks, not four.
type runMark struct {
	seq atomic.Uint64
	run uint64 // length of the run starting here, valid once seq says published
}

// NewMPSC returns an empty ring holding capacity elements, capacity rounded
// up to a power of two (minimum 2).
func NewMPSC[T any](capacity int) *MPSC[T] { return newMPSCAt[T](capacity, 0) }

// newMPSCAt starts the indices at start (tests start near the uint64 wrap).
func newMPSCAt[T any](capacity int, start uint64) *MPSC[T] {
	n := roundCapacity(capacity)
	r := &MPSC[T]{mask: uint64(n - 1), vals: make([]T, n), runs: make([]runMark, n), zeroPop: hasPointers(reflect.TypeFor[T]())}
	if start != 0 {
		// Seqs say "published" only when they equal position+1; make sure no
		// zero word does so for the first lap of a ring started at start.
		for i := range uint64(n) {
			p := start + i
			r.runs[p&r.mask].seq.Store(p - uint64(n) + 1) // published for the lap before: stale
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
			i := pos & r.mask
			r.vals[i], r.runs[i].run = *v, 1
			r.runs[i].seq.Store(pos + 1) // release: publish val to the consumer
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
			i := pos & r.mask
			if n := copy(r.vals[i:], vs[:k]); uint64(n) < k {
				copy(r.vals, vs[n:k]) // the run wraps
			}
			r.runs[i].run = k
			r.runs[i].seq.Store(pos + 1) // release: publish the whole run to the consumer
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
	for k < len(dst) {
		p := h + uint64(k)
		i := p & r.mask
		if r.left == 0 {
			m := &r.runs[i]
			if m.seq.Load() != p+1 { // acquire: a run published for p?
				break
			}
			r.left = m.run
		}
		// The rest of the run, as far as dst and the end of vals allow.
		n := copy(dst[k:min(uint64(len(dst)), uint64(k)+r.left)], r.vals[i:])
		if r.zeroPop {
			clear(r.vals[i : i+uint64(n)])
		}
		r.left -= uint64(n)
		k += n
	}
	if k > 0 {
		r.head.Store(h + uint64(k)) // release: cells below are free for the producers
	}
	return k
}
