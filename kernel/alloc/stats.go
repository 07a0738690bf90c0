package alloc

import "sync/atomic"

// cacheLinePad keeps the counters that every allocation writes off the cache
// lines of read-mostly fields and of neighbouring bins. It is 128, not 64: x86
// fetches lines in adjacent pairs, so fields 64 bytes apart still ping-pong
// between cores (the same reasoning as kernel/ring).
const cacheLinePad = 128

// KindStats are the statistics of one allocator kind or bin ([A3]). Total, Free and
// HighWater are bytes; the others are counts.
type KindStats struct {
	Total     uint64 // usable bytes
	Free      uint64 // bytes not in use
	HighWater uint64 // most bytes in use at once (see Stats for sums)
	Allocs    uint64 // successful allocations
	Frees     uint64 // frees (block: final releases; bump: allocations undone by resets)
	Fails     uint64 // allocations that found nothing (ALLOC_FAIL)
	Misuse    uint64 // stale handles, double frees, bad indices
}

// Stats are one tenant's statistics. Block sums Bins, plus requests larger than
// MaxBlock (Fails) and handles naming no bin or slot (Misuse); its HighWater is the
// sum of the bins' high watermarks, an upper bound of the block peak (each bin's
// own HighWater is exact).
type Stats struct {
	Slab, Block, Bump KindStats
	Bins              [NumBins]KindStats
}

// add adds o to k, field by field.
func (k *KindStats) add(o KindStats) {
	k.Total += o.Total
	k.Free += o.Free
	k.HighWater += o.HighWater
	k.Allocs += o.Allocs
	k.Frees += o.Frees
	k.Fails += o.Fails
	k.Misuse += o.Misuse
}

// counters are the statistics of a fixed-size allocator (a bin or a slab), kept
// in objects. Every field is written with atomic adds by the goroutines that
// allocate and free, and read by Stats and Live without a snapshot lock: a read
// while operations run is approximate; when quiescent it is exact.
//
// Frees are not counted separately: frees = allocs - inUse, which saves one
// locked instruction per free. onAlloc adds to allocs before inUse, so
// inUse <= allocs at every instant, and a reader that loads inUse before allocs
// never sees more frees than allocations.
//
// inUse only moves up in onAlloc, called by the allocating goroutine before the
// object is handed out, and down in onFree, called before the object goes back
// on the free ring; so 0 <= inUse <= capacity at every instant, and peak, the
// largest value an inUse.Add ever returned, is the exact high watermark.
type counters struct {
	allocs atomic.Uint64
	inUse  atomic.Int64
	peak   atomic.Int64
	fails  atomic.Uint64
	misuse atomic.Uint64
}

// onAlloc counts a successful allocation.
func (c *counters) onAlloc() {
	c.allocs.Add(1)
	if n := c.inUse.Add(1); n > c.peak.Load() {
		c.raisePeak(n)
	}
}

// raisePeak raises peak to n unless another goroutine already raised it further.
// The loop ends when peak >= n; every retry means peak grew meanwhile.
func (c *counters) raisePeak(n int64) {
	for p := c.peak.Load(); n > p; p = c.peak.Load() {
		if c.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// onFree counts a free of an object that onAlloc counted.
func (c *counters) onFree() { c.inUse.Add(-1) }

// kind returns the counters as KindStats for objects of unit bytes, capacity of
// them in all.
func (c *counters) kind(unit, capacity int) KindStats {
	used := min(max(c.inUse.Load(), 0), int64(capacity)) // before allocs: see counters
	allocs := c.allocs.Load()
	return KindStats{
		Total:     uint64(capacity * unit),
		Free:      uint64((int64(capacity) - used) * int64(unit)),
		HighWater: uint64(c.peak.Load() * int64(unit)),
		Allocs:    allocs,
		Frees:     allocs - uint64(used),
		Fails:     c.fails.Load(),
		Misuse:    c.misuse.Load(),
	}
}
