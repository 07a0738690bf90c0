package sched

import (
	"math"
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel/ring"
	"github.com/gmkernel/gmk/kernel/task"
)

// AgingInterval is the GRQ aging period ([S3], defaults table): every
// AgingInterval-th batch a worker pops is chosen by the aging scan instead of
// the rotation.
const AgingInterval = 64

// GRQ is the type-bucketed global ready queue of [S3], the GPU scheduling policy
// (also selectable for the CPU kernel). Each registered handler type owns a
// bucket of four MPMC rings, one per priority; a batch is popped from one bucket,
// highest priority first, so every batch is homogeneous in type.
//
// Workers rotate over the buckets: each PopBatch starts at the bucket after the
// one the worker served last (GCursor.Reset spreads the starting buckets) and
// takes the first non-empty one. Every AgingInterval-th batch of a worker comes
// from an aging scan instead: the non-empty bucket with the highest
// (4-p)×age, where p is its best non-empty priority and age is now minus the
// time the bucket was last served or turned non-empty. Rotation alone serves
// every non-empty bucket within one lap; the scan adds priority and age across
// types, so a flood of one type cannot starve a rare one.
//
// Concurrency: any number of goroutines may call Push, PushBatch, PopBatch, Len
// and BucketLen at the same time; each GCursor belongs to one worker. Time is
// the caller's: now is passed in (ns or ticks, any monotonic int64) and is only
// compared, never read from a clock.
type GRQ struct {
	index   []int32  // handler type → bucket position+1, 0 = no bucket; written by NewGRQ only
	buckets []bucket // the slice is written by NewGRQ only; see bucket for its fields
}

// bucket is one handler type's queue inside a GRQ.
type bucket struct {
	// Written once by NewGRQ, read by everyone.
	rings [task.NumPriorities]*ring.MPMC[task.Task]
	typ   uint32
	_     [cacheLine - 4*8 - 4]byte

	// idle is a hint that the bucket is empty, so that the rotation and the
	// aging scan skip it with one load. Written true by a popper that saw the
	// bucket drained (markIdle); written false by the pusher that finds it true
	// after a push (wake), or by markIdle's re-check. Read by pushers after each
	// push (batch) and by poppers. The protocol (Dekker's, on sequentially
	// consistent atomics): a pusher publishes its task (ring tail) and THEN
	// loads idle; markIdle stores idle=true and THEN loads the rings' lengths
	// (tails). Whatever the interleaving one of them sees the other, so once
	// every push and markIdle has returned, a non-empty bucket is not idle.
	idle atomic.Bool
	_    [cacheLine - 1]byte

	// since is the time the bucket was last served or turned non-empty: the
	// base of its age in the aging scan. Written by every popper that takes a
	// batch from the bucket and by whoever clears idle; read by the aging scan.
	// Racing writers leave one of their times, all close to each other: the age
	// is a heuristic and needs no stronger ordering.
	since atomic.Int64
	_     [cacheLine - 8]byte
}

// NewGRQ returns an empty GRQ with one bucket per handler type in types, in the
// order listed. Each bucket's four priority rings hold capacityPerBucket tasks
// each, rounded up to a power of two (at least 2). Types above maxType and
// repeated types get no bucket; tasks of a type without a bucket are rejected by
// Push. The type index is a table of maxType+1 entries (4 bytes each), so
// maxType should be the largest handler id, not math.MaxUint32.
func NewGRQ(types []uint32, capacityPerBucket int, maxType uint32) *GRQ {
	capacityPerBucket = max(capacityPerBucket, 1)
	g := &GRQ{index: make([]int32, uint64(maxType)+1)}
	n := int32(0)
	for _, typ := range types {
		if typ <= maxType && g.index[typ] == 0 {
			n++
			g.index[typ] = n
		}
	}
	g.buckets = make([]bucket, n)
	for typ, i := range g.index {
		if i == 0 {
			continue
		}
		b := &g.buckets[i-1]
		b.typ = uint32(typ)
		for p := range b.rings {
			b.rings[p] = ring.NewMPMC[task.Task](capacityPerBucket)
		}
		b.idle.Store(true) // empty; the first push sets since
	}
	return g
}

// bucketOf returns the bucket of handler type typ, nil when it has none.
func (g *GRQ) bucketOf(typ uint32) *bucket {
	if uint64(typ) >= uint64(len(g.index)) {
		return nil
	}
	if i := g.index[typ]; i != 0 {
		return &g.buckets[i-1]
	}
	return nil
}

// Push copies *t into the ring of t's priority in the bucket of t.Type. It
// returns false, leaving the queue unchanged, when t.Type has no bucket or that
// ring is full. A push into an empty bucket records now as the bucket's age
// base.
func (g *GRQ) Push(t *task.Task, now int64) bool {
	b := g.bucketOf(t.Type)
	if b == nil || !b.rings[t.Priority()].Push(t) {
		return false
	}
	b.wake(now)
	return true
}

// PushBatch pushes a prefix of ts and returns its length. Consecutive tasks of
// the same type and priority go to their ring in one batch push. It stops at
// the first task whose type has no bucket or whose ring is full, so ts[n:] is
// what the caller still owns.
func (g *GRQ) PushBatch(ts []task.Task, now int64) int {
	n := 0
	for n < len(ts) {
		typ, p := ts[n].Type, ts[n].Priority()
		end := n + 1
		for end < len(ts) && ts[end].Type == typ && ts[end].Priority() == p {
			end++
		}
		b := g.bucketOf(typ)
		if b == nil {
			return n
		}
		k := b.rings[p].PushBatch(ts[n:end])
		if k > 0 {
			b.wake(now)
		}
		n += k
		if n < end {
			return n
		}
	}
	return n
}

// PopBatch moves up to len(dst) tasks of ONE handler type into dst, highest
// priority first, and returns how many (0 when every bucket is empty). The
// bucket is the aging scan's choice on every AgingInterval-th batch c has
// taken, else the first non-empty bucket of c's rotation. Only calls that
// return a batch count towards the interval.
func (g *GRQ) PopBatch(dst []task.Task, c *GCursor, now int64) int {
	nb := uint32(len(g.buckets))
	if len(dst) == 0 || nb == 0 {
		return 0
	}
	if c.batches%AgingInterval == AgingInterval-1 {
		if i := g.oldest(now); i >= 0 {
			if k := g.buckets[i].pop(dst, now); k > 0 {
				c.batches++
				return k
			}
		}
	}
	start := c.next % nb
	for j := range nb {
		i := start + j
		if i >= nb {
			i -= nb
		}
		b := &g.buckets[i]
		if b.idle.Load() {
			continue
		}
		if k := b.pop(dst, now); k > 0 {
			c.next = i + 1
			c.batches++
			return k
		}
	}
	return 0
}

// oldest is the aging scan: the index of the non-empty bucket with the highest
// (4-p)×age, ties to the lowest index; -1 when every bucket is empty.
func (g *GRQ) oldest(now int64) int {
	best, bestScore := -1, int64(-1)
	for i := range g.buckets {
		b := &g.buckets[i]
		if b.idle.Load() {
			continue
		}
		p := b.bestPriority()
		if p < 0 {
			continue
		}
		// Clamp: a worker whose now lags another's sees a negative age, and a
		// huge age must not overflow the product.
		age := min(max(now-b.since.Load(), 0), math.MaxInt64/task.NumPriorities)
		if score := int64(task.NumPriorities-p) * age; score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// Len returns the number of queued tasks, exact when no operation runs and
// approximate otherwise.
func (g *GRQ) Len() int {
	n := 0
	for i := range g.buckets {
		n += g.buckets[i].len()
	}
	return n
}

// BucketLen returns the number of queued tasks of handler type typ, 0 for a type
// without a bucket.
func (g *GRQ) BucketLen(typ uint32) int {
	if b := g.bucketOf(typ); b != nil {
		return b.len()
	}
	return 0
}

// Buckets returns the number of buckets (registered handler types).
func (g *GRQ) Buckets() int { return len(g.buckets) }

// pop moves up to len(dst) tasks from b into dst, priority 0 first. A short
// batch means the bucket looked drained, so it is marked idle.
func (b *bucket) pop(dst []task.Task, now int64) int {
	n := 0
	for _, r := range b.rings {
		if n += r.PopBatch(dst[n:]); n == len(dst) {
			break
		}
	}
	if n > 0 {
		b.since.Store(now) // served
	}
	if n < len(dst) {
		b.markIdle(now)
	}
	return n
}

// markIdle records that a popper saw b drained. Store idle, then re-check the
// rings: a push that the re-check misses loads idle after this store and wakes
// the bucket itself (see bucket.idle).
func (b *bucket) markIdle(now int64) {
	b.idle.Store(true)
	if b.len() > 0 && b.idle.CompareAndSwap(true, false) {
		b.since.Store(now)
	}
}

// wake runs after every successful push into b: the push that turns an idle
// bucket non-empty clears idle and starts the bucket's age at now.
func (b *bucket) wake(now int64) {
	if b.idle.Load() && b.idle.CompareAndSwap(true, false) {
		b.since.Store(now)
	}
}

// bestPriority returns the highest non-empty priority of b, -1 when empty.
func (b *bucket) bestPriority() int {
	for p, r := range b.rings {
		if r.Len() > 0 {
			return p
		}
	}
	return -1
}

// len returns the number of tasks in b (approximate under concurrency).
func (b *bucket) len() int {
	n := 0
	for _, r := range b.rings {
		n += r.Len()
	}
	return n
}

// GCursor is one worker's position in the GRQ: the bucket its rotation tries
// first and the number of batches it has popped (every AgingInterval-th is the
// aging scan's). The zero value starts at bucket 0. A GCursor belongs to one
// worker and is not safe for concurrent use.
type GCursor struct {
	next    uint32 // rotation start, taken modulo the bucket count
	batches uint32 // batches popped through this cursor; wraps harmlessly (2^32 is a multiple of 64)
}

// Reset starts the cursor over for worker number worker: its rotation begins at
// bucket worker modulo the bucket count, so workers spread over the buckets.
func (c *GCursor) Reset(worker int) { *c = GCursor{next: uint32(worker)} }
