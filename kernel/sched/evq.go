package sched

// EVQ defaults ([S5], defaults table).
const (
	DefaultEVQCapacity = 1 << 16 // events per worker's EVQ
	DefaultEVQDrain    = 256     // events fired per EVQ check at most
)

// EVQ is the event queue of [S5]: a bounded binary min-heap of events ordered by
// due time (a tick or nanoseconds; the caller decides and passes now in), FIFO
// among events with the same due time. Timers, retries with backoff and
// deferred deliveries wait here until a worker's loop fires them.
//
// The heap array is allocated once by NewEVQ; Push, PeekDue, PopDue and Drain
// never allocate. Push and pop cost O(log n).
//
// Concurrency: an EVQ is owned by one goroutine (one per worker) and is NOT safe
// for concurrent use; other goroutines hand events to the owner through a ring
// or a task. It must not be copied after first use (go vet reports copies).
type EVQ[T any] struct {
	_    noCopy
	heap []event[T] // heap[0] is the earliest; len = events queued, cap = capacity, fixed
	seq  uint64     // insertion counter: breaks ties between equal due times (FIFO)
}

// event is one heap entry. Ordered by (due, seq); seq is unique, so the order is
// total and PopDue's output does not depend on the heap's shape.
type event[T any] struct {
	due int64
	seq uint64
	v   T
}

// noCopy makes `go vet` (copylocks) report an EVQ copied by value: a copy
// would share the heap array but not its length. See sync.noCopy.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// NewEVQ returns an empty EVQ holding up to capacity events. A capacity below 1
// selects DefaultEVQCapacity.
func NewEVQ[T any](capacity int) *EVQ[T] {
	if capacity < 1 {
		capacity = DefaultEVQCapacity
	}
	return &EVQ[T]{heap: make([]event[T], 0, capacity)}
}

// Len returns the number of queued events.
func (q *EVQ[T]) Len() int { return len(q.heap) }

// Cap returns the capacity fixed by NewEVQ.
func (q *EVQ[T]) Cap() int { return cap(q.heap) }

// Push queues v to fire at due. It returns false, leaving the queue unchanged,
// when the queue is full.
func (q *EVQ[T]) Push(due int64, v T) bool {
	n := len(q.heap)
	if n == cap(q.heap) {
		return false
	}
	q.heap = q.heap[:n+1] // within capacity: no allocation
	q.up(n, event[T]{due: due, seq: q.seq, v: v})
	q.seq++
	return true
}

// PeekDue returns the earliest due time, and false when the queue is empty.
func (q *EVQ[T]) PeekDue() (int64, bool) {
	if len(q.heap) == 0 {
		return 0, false
	}
	return q.heap[0].due, true
}

// PopDue moves up to len(dst) events with due <= now into dst, in (due,
// insertion) order, and returns how many. Events due later stay queued. The
// worker loop calls it once per iteration with a dst of DefaultEVQDrain
// entries.
func (q *EVQ[T]) PopDue(now int64, dst []T) int {
	n := 0
	for n < len(dst) && len(q.heap) > 0 && q.heap[0].due <= now {
		dst[n] = q.pop().v
		n++
	}
	return n
}

// Drain removes every event, calling fn for each in (due, insertion) order.
// It is meant for halt, to account for (or re-home) the events that never
// fired. fn must not use q.
func (q *EVQ[T]) Drain(fn func(due int64, v T)) {
	for len(q.heap) > 0 {
		e := q.pop()
		fn(e.due, e.v)
	}
}

// less orders events by due time, then by insertion.
func (a *event[T]) less(b *event[T]) bool {
	return a.due < b.due || a.due == b.due && a.seq < b.seq
}

// pop removes and returns the earliest event. The queue must not be empty.
func (q *EVQ[T]) pop() event[T] {
	top := q.heap[0]
	last := len(q.heap) - 1
	e := q.heap[last]
	q.heap[last] = event[T]{} // drop references held by T, if any
	q.heap = q.heap[:last]
	if last > 0 {
		q.down(0, e)
	}
	return top
}

// up places e at hole i or above it, moving larger parents down (the hole
// method: one copy per level instead of a swap).
func (q *EVQ[T]) up(i int, e event[T]) {
	h := q.heap
	for i > 0 {
		parent := (i - 1) / 2
		if !e.less(&h[parent]) {
			break
		}
		h[i] = h[parent]
		i = parent
	}
	h[i] = e
}

// down places e at hole i or below it, moving smaller children up.
func (q *EVQ[T]) down(i int, e event[T]) {
	h := q.heap
	n := len(h)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h[r].less(&h[c]) {
			c = r
		}
		if !h[c].less(&e) {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = e
}

// Each calls fn for every queued event, in no particular order (owner, or
// a quiescent EVQ).
func (q *EVQ[T]) Each(fn func(due int64, v T)) {
	for _, e := range q.heap {
		fn(e.due, e.v)
	}
}
