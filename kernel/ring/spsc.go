package ring

import (
	"reflect"
	"sync/atomic"
	"unsafe"
)

// SPSC is a bounded single-producer single-consumer ring: at most one goroutine
// at a time calls Push and PushBatch, and at most one at a time calls Pop and
// PopBatch (the two may differ, and Len and Cap may be called by anyone). Using
// it with two producers or two consumers is a data race that the race detector
// reports (GMK.md [R2]); take an MPMC where several producers can reach a queue.
// No operation allocates, blocks or waits.
//
// Memory model: a Push (or PushBatch) of a value synchronizes before the Pop (or
// PopBatch) that returns that value, and a Pop synchronizes before the Push
// that reuses the popped cell.
//
// The protocol, as in rigtorp's SPSCQueue and go-disruptor's sequencer. The
// producer owns tail, the consumer owns head; positions are uint64 counters
// that wrap at 2^64, position p lives in cells[p&mask], and tail-head is the
// number of elements. The producer writes cells[tail&mask] and then stores
// tail+1 (release); the consumer that loads that tail (acquire) may read the
// cell. The consumer reads cells[head&mask] and then stores head+1 (release);
// the producer that loads that head (acquire) may overwrite the cell.
//
// Each side keeps a private copy of the other side's index, refreshed only when
// the copy says full (producer) or empty (consumer). A copy is never ahead of
// the index it copies, so it can only understate free space or elements, never
// overstate them; in the steady state each side touches only its own cache line.
type SPSC[T any] struct {
	_ noCopy

	// Written once by the constructor, read by both sides.
	mask    uint64                  // capacity-1
	cells   []T                     // capacity elements, on the Go heap or in caller memory
	zeroPop bool                    // T holds pointers: Pop clears the cell so the GC can free referents
	_       [cacheLinePad - 40]byte // 8+24+1 bytes above, rounded up to tail's 8-byte alignment

	// The producer's cache line.
	tail      atomic.Uint64 // next position to push: written by the producer (publishes cells), read by both
	headCache uint64        // producer-private: the last head it loaded
	_         [cacheLinePad - 16]byte

	// The consumer's cache line.
	head      atomic.Uint64 // next position to pop: written by the consumer (frees cells), read by both
	tailCache uint64        // consumer-private: the last tail it loaded
	_         [cacheLinePad - 16]byte
}

// NewSPSC returns an empty ring holding capacity elements, capacity rounded up
// to a power of two, at least 2. A negative capacity panics.
func NewSPSC[T any](capacity int) *SPSC[T] {
	n := roundCapacity(capacity)
	return newSPSC(make([]T, n), 0)
}

// NewSPSCIn returns an empty ring whose cells live in mem, typically a region of
// an arena or of shared memory; the ring's indices stay on the Go heap. The
// capacity is the largest power of two of elements that fit in mem after
// aligning its start for T.
//
// T must hold no Go pointers (no pointers, strings, slices, maps, channels,
// functions or interfaces): the garbage collector does not scan mem, so a
// pointer stored there would not keep its target alive. NewSPSCIn panics when T
// holds pointers, when T has size zero, or when mem cannot hold 2 elements.
// The caller keeps mem alive and untouched for the life of the ring (the ring
// references mem, so a Go-allocated mem stays alive as long as the ring does).
func NewSPSCIn[T any](mem []byte) *SPSC[T] {
	var zero T
	size, align := unsafe.Sizeof(zero), unsafe.Alignof(zero)
	if size == 0 {
		panic("ring: NewSPSCIn of a zero-sized element type")
	}
	if hasPointers(reflect.TypeFor[T]()) {
		panic("ring: NewSPSCIn of an element type that holds Go pointers")
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	skip := (align - base%align) % align // bytes to the first aligned address
	if uintptr(len(mem)) < skip+minCapacity*size {
		panic("ring: NewSPSCIn region too small for 2 elements")
	}
	n := (uintptr(len(mem)) - skip) / size
	n = 1 << (bitLen(n) - 1) // largest power of two <= n
	cells := unsafe.Slice((*T)(unsafe.Pointer(&mem[skip])), n)
	return newSPSC(cells, 0)
}

// newSPSCAt returns an empty heap ring whose first position is start. Tests use
// it to run the protocol across the uint64 wrap-around.
func newSPSCAt[T any](capacity int, start uint64) *SPSC[T] {
	return newSPSC(make([]T, roundCapacity(capacity)), start)
}

// newSPSC builds a ring over cells, whose length is a power of two >= 2.
func newSPSC[T any](cells []T, start uint64) *SPSC[T] {
	r := &SPSC[T]{
		mask:      uint64(len(cells) - 1),
		cells:     cells,
		zeroPop:   hasPointers(reflect.TypeFor[T]()),
		headCache: start,
		tailCache: start,
	}
	r.tail.Store(start)
	r.head.Store(start)
	return r
}

// Cap returns the capacity of the ring.
func (r *SPSC[T]) Cap() int { return int(r.mask + 1) }

// Len returns the number of elements in the ring. It is exact when neither side
// runs and approximate otherwise, but always within [0, Cap()].
func (r *SPSC[T]) Len() int {
	// head first: tail >= head at every instant and tail only grows.
	h := r.head.Load()
	t := r.tail.Load()
	return int(min(t-h, r.mask+1))
}

// Push copies *v into the ring; it returns false when the ring is full.
// Producer side only.
func (r *SPSC[T]) Push(v *T) bool {
	t := r.tail.Load()          // our own index: no other writer
	if t-r.headCache > r.mask { // full by the cached head; refresh it
		r.headCache = r.head.Load() // acquire: the consumer is done with cells < head
		if t-r.headCache > r.mask {
			return false
		}
	}
	r.cells[t&r.mask] = *v
	r.tail.Store(t + 1) // release: publish the cell to the consumer
	return true
}

// Pop moves the oldest element into *v; it returns false, leaving *v unchanged,
// when the ring is empty. Consumer side only.
func (r *SPSC[T]) Pop(v *T) bool {
	h := r.head.Load()    // our own index: no other writer
	if h == r.tailCache { // empty by the cached tail; refresh it
		r.tailCache = r.tail.Load() // acquire: the producer wrote cells < tail
		if h == r.tailCache {
			return false
		}
	}
	c := &r.cells[h&r.mask]
	*v = *c
	if r.zeroPop {
		var zero T
		*c = zero
	}
	r.head.Store(h + 1) // release: hand the cell back to the producer
	return true
}

// PushBatch pushes a prefix of vs, as long as fits, and returns its length (0
// when the ring is full). One tail store publishes the whole batch.
// Producer side only.
func (r *SPSC[T]) PushBatch(vs []T) int {
	t := r.tail.Load()
	free := r.mask + 1 - (t - r.headCache)
	if free < uint64(len(vs)) { // the cached head may be stale; refresh it
		r.headCache = r.head.Load() // acquire
		free = r.mask + 1 - (t - r.headCache)
	}
	k := min(free, uint64(len(vs)))
	if k == 0 {
		return 0
	}
	// Copy in at most two runs: up to the end of the array, then from its start.
	i := t & r.mask
	n := copy(r.cells[i:], vs[:k])
	copy(r.cells, vs[n:k])
	r.tail.Store(t + k) // release: publish all k cells at once
	return int(k)
}

// PopBatch moves up to len(dst) of the oldest elements into dst, in FIFO order,
// and returns how many (0 when the ring is empty). One head store frees all of
// them. Consumer side only.
func (r *SPSC[T]) PopBatch(dst []T) int {
	h := r.head.Load()
	avail := r.tailCache - h
	if avail < uint64(len(dst)) { // the cached tail may be stale; refresh it
		r.tailCache = r.tail.Load() // acquire
		avail = r.tailCache - h
	}
	k := min(avail, uint64(len(dst)))
	if k == 0 {
		return 0
	}
	i := h & r.mask
	n := copy(dst[:k], r.cells[i:])
	copy(dst[n:k], r.cells)
	if r.zeroPop {
		clear(r.cells[i : i+uint64(n)])
		clear(r.cells[:k-uint64(n)])
	}
	r.head.Store(h + k) // release: hand the k cells back to the producer
	return int(k)
}
