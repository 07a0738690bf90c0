package sched

import "github.com/gmkernel/gmk/kernel/task"

// LQ is a worker's local queue ([S4]). It is fed only by its owner worker —
// follow-on emits, subscription drains, yields and EVQ fires all run on the
// owner — while deliveries from other goroutines land in subscription queues
// (multi-producer rings) that the owner drains. With one goroutine on both
// ends no atomics are needed: LQ is a plain circular buffer, not safe for
// concurrent use. Its depth is published through the worker's metrics.
//
// The last ReservePct of the capacity is reserved for yielded tasks: Push stops
// at the watermark, PushReserve may fill the queue ([Y2]).
type LQ struct {
	buf   []task.Task
	mask  uint64
	head  uint64 // next pop
	tail  uint64 // next push
	water int    // Push refuses at this length
}

// ReservePct is the yield reserve of an LQ ([S4] default 25 %).
const ReservePct = 25

// NewLQ returns an LQ with capacity rounded up to a power of two (min 4).
func NewLQ(capacity int) *LQ {
	c := 4
	for c < capacity {
		c <<= 1
	}
	return &LQ{buf: make([]task.Task, c), mask: uint64(c - 1), water: c - c*ReservePct/100}
}

// Len returns the number of queued tasks.
func (q *LQ) Len() int { return int(q.tail - q.head) }

// Cap returns the capacity.
func (q *LQ) Cap() int { return len(q.buf) }

// Water returns the watermark length for normal pushes.
func (q *LQ) Water() int { return q.water }

// Room returns how many normal pushes fit below the watermark.
func (q *LQ) Room() int {
	if r := q.water - q.Len(); r > 0 {
		return r
	}
	return 0
}

// Push appends t unless the queue reached its watermark.
func (q *LQ) Push(t *task.Task) bool {
	if q.Len() >= q.water {
		return false
	}
	q.buf[q.tail&q.mask] = *t
	q.tail++
	return true
}

// PushReserve appends t using the yield reserve; false only when full.
func (q *LQ) PushReserve(t *task.Task) bool {
	if q.Len() >= len(q.buf) {
		return false
	}
	q.buf[q.tail&q.mask] = *t
	q.tail++
	return true
}

// Free returns the first n free slots below the watermark (fewer when
// Room is smaller), as at most two slices because the space may wrap: a
// and then b. The caller fills a prefix of a, then of b, and makes it part
// of the queue with Commit; nothing else may push in between. It lets a
// worker drain a subscription straight into its LQ, with no copy through a
// buffer.
func (q *LQ) Free(n int) (a, b []task.Task) {
	n = min(n, q.Room())
	start := int(q.tail & q.mask)
	end := start + n
	if end <= len(q.buf) {
		return q.buf[start:end], nil
	}
	return q.buf[start:], q.buf[:end-len(q.buf)]
}

// Commit appends the first m slots that Free returned to the queue.
func (q *LQ) Commit(m int) { q.tail += uint64(m) }

// PopBatch moves up to len(dst) tasks, oldest first, into dst.
func (q *LQ) PopBatch(dst []task.Task) int {
	n := min(q.Len(), len(dst))
	start := int(q.head & q.mask)
	if m := copy(dst[:n], q.buf[start:]); m < n {
		copy(dst[m:n], q.buf) // the queue wraps
	}
	q.head += uint64(n)
	return n
}

// Drain removes every task, calling fn on each (halt accounting).
func (q *LQ) Drain(fn func(t *task.Task)) {
	for q.head != q.tail {
		fn(&q.buf[q.head&q.mask])
		q.head++
	}
}

// Each calls fn for every queued task, oldest first (owner, or a quiescent
// LQ).
func (q *LQ) Each(fn func(t *task.Task)) {
	for p := q.head; p != q.tail; p++ {
		fn(&q.buf[p&q.mask])
	}
}
