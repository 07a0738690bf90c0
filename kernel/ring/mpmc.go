package ring

import (
	"reflect"
	"sync/atomic"
)

// MPMC is a bounded multi-producer multi-consumer ring after Dmitry Vyukov's
// bounded MPMC queue. Any number of goroutines may call any method at the same
// time. Elements are stored by value in a power-of-two array of cells; no
// operation allocates, blocks or waits for another goroutine: an operation that
// cannot proceed returns at once (false, or 0 for the batch forms).
//
// Memory model: a Push (or PushBatch) of a value synchronizes before the Pop (or
// PopBatch) that returns that value, so everything the producer wrote before
// the push is visible to the consumer after the pop. A Pop of the value in a
// cell synchronizes before the Push that next reuses the cell.
//
// The protocol. Positions are unbounded uint64 counters (they wrap at 2^64,
// which is a multiple of every capacity); position p lives in cell p&mask.
// Each cell carries a sequence number seq that says whose turn it is:
//
//	seq == p          the cell is free for the producer of position p
//	seq == p+1        the cell holds the value of position p, ready for its consumer
//	seq == p+capacity the consumer of p is done; free for the producer of p+capacity
//
// A cell stores seq relative to its index i (the word holds seq-i; seqAt and
// setSeq convert), so that the zero word means seq == i: a freshly allocated,
// zeroed cell array is a valid empty ring starting at position 0, and building
// a large ring costs no store per cell.
//
// A producer claims position p by moving tail from p to p+1 with a CAS, and
// only after it saw seq == p; then it writes the value and stores seq = p+1.
// A consumer claims position p by moving head from p to p+1 with a CAS, and
// only after it saw seq == p+1; then it reads the value and stores
// seq = p+capacity. The CAS decides who owns a position; the seq store
// publishes the cell to the other side. A claimed but not yet published cell
// makes Pop report empty (or Push full) rather than wait.
type MPMC[T any] struct {
	_ noCopy

	// Written once by the constructor, read by everyone.
	mask    uint64                  // capacity-1
	cells   []cell[T]               // capacity cells
	zeroPop bool                    // T holds pointers: Pop clears the cell so the GC can free referents
	_       [cacheLinePad - 40]byte // 8+24+1 bytes above, rounded up to tail's 8-byte alignment

	// tail is the next position to push. Written (CAS) by producers only; read
	// by producers and by Len. It only orders producers among themselves: the
	// cells' seq publishes data, so tail needs no ordering with head.
	tail atomic.Uint64
	_    [cacheLinePad - 8]byte

	// head is the next position to pop. Written (CAS) by consumers only; read
	// by consumers and by Len.
	head atomic.Uint64
	_    [cacheLinePad - 8]byte
}

// cell is one slot of an MPMC ring. seq is written by the goroutine that owns
// the cell's current position (see MPMC) and read by every goroutine that
// tries to claim a position; val is written only by the producer that claimed
// the position and read only by the consumer that claimed it, each ordered by
// seq (a seq.Store releases, the seq.Load that sees it acquires).
type cell[T any] struct {
	seq atomic.Uint64
	val T
	// _ rounds a cell holding a 48-byte task.Task up to 64 bytes, one cache
	// line: unpadded 56-byte cells straddle lines, so a consumer reading cell
	// i and a producer writing cell i+1 share a line, and a cell costs two
	// misses to move between cores (measured: ~60 ns of a batch pop per task
	// on the reference VM, see the kernel's pipeline3-emit profile).
	_ [cellPad]byte
}

// cellPad is the padding at the end of every MPMC cell (see cell).
const cellPad = 8

// NewMPMC returns an empty ring holding capacity elements, capacity rounded up
// to a power of two, at least 2. A negative capacity panics.
func NewMPMC[T any](capacity int) *MPMC[T] { return newMPMCAt[T](capacity, 0) }

// newMPMCAt returns an empty ring whose first position is start. Tests use it
// to run the protocol across the uint64 wrap-around.
func newMPMCAt[T any](capacity int, start uint64) *MPMC[T] {
	n := roundCapacity(capacity)
	r := &MPMC[T]{
		mask:    uint64(n - 1),
		cells:   make([]cell[T], n),
		zeroPop: hasPointers(reflect.TypeFor[T]()),
	}
	// Position start+i is free for its producer: seq == start+i. Zeroed cells
	// already say so for start == 0 (see the relative encoding above). The
	// ring is not shared yet; publishing r publishes these stores.
	if start != 0 {
		for i := range uint64(n) {
			r.setSeq((start+i)&r.mask, start+i)
		}
	}
	r.tail.Store(start)
	r.head.Store(start)
	return r
}

// Cap returns the capacity of the ring.
func (r *MPMC[T]) Cap() int { return int(r.mask + 1) }

// Len returns the number of elements in the ring, counting a push in flight as
// done and a pop in flight as done. It is exact when no operation runs and
// approximate otherwise, but always within [0, Cap()].
func (r *MPMC[T]) Len() int {
	// Load head before tail: at every instant head <= tail, and tail only grows,
	// so the later tail is at least the earlier head. tail <= head+capacity also
	// holds at every instant, but not between two loads, hence the clamp.
	h := r.head.Load()
	t := r.tail.Load()
	return int(min(t-h, r.mask+1))
}

// Push copies *v into the ring. It returns false, leaving the ring unchanged,
// when the ring is full, or when the oldest element's consumer has claimed but
// not yet read it (which looks full for that instant).
func (r *MPMC[T]) Push(v *T) bool {
	pos := r.tail.Load()
	for {
		i := pos & r.mask
		c := &r.cells[i]
		// Acquire: seeing seq == pos orders us after the consumer of
		// pos-capacity (its read of val and its seq store).
		seq := r.seqAt(i)
		switch d := int64(seq - pos); {
		case d == 0: // free for pos: claim it
			if r.tail.CompareAndSwap(pos, pos+1) {
				c.val = *v
				r.setSeq(i, pos+1) // release: publish val to the consumer of pos
				return true
			}
			pos = r.tail.Load() // another producer took pos
		case d < 0: // seq == pos-capacity+1: the previous lap is not consumed
			return false
		default: // another producer already claimed pos; tail moved on
			pos = r.tail.Load()
		}
	}
}

// Pop moves the oldest element into *v. It returns false, leaving *v
// unchanged, when the ring is empty, or when the oldest element's producer has
// claimed its position but not yet written it (which looks empty for that
// instant).
func (r *MPMC[T]) Pop(v *T) bool {
	pos := r.head.Load()
	for {
		i := pos & r.mask
		c := &r.cells[i]
		// Acquire: seeing seq == pos+1 orders us after the producer's write.
		seq := r.seqAt(i)
		switch d := int64(seq - (pos + 1)); {
		case d == 0: // published for pos: claim it
			if r.head.CompareAndSwap(pos, pos+1) {
				r.take(c, v)
				r.setSeq(i, pos+r.mask+1) // release: free for the producer of pos+capacity
				return true
			}
			pos = r.head.Load() // another consumer took pos
		case d < 0: // seq == pos: nothing pushed (or published) at pos yet
			return false
		default: // another consumer already claimed pos; head moved on
			pos = r.head.Load()
		}
	}
}

// seqAt loads the sequence of cell i (acquire); setSeq stores it (release).
// The word holds seq-i (see MPMC).
func (r *MPMC[T]) seqAt(i uint64) uint64 { return r.cells[i].seq.Load() + i }

func (r *MPMC[T]) setSeq(i, seq uint64) { r.cells[i].seq.Store(seq - i) }

// take copies the value of a claimed cell into *v and, when T holds pointers,
// clears the cell so that the ring does not keep the referents alive.
func (r *MPMC[T]) take(c *cell[T], v *T) {
	*v = c.val
	if r.zeroPop {
		var zero T
		c.val = zero
	}
}
