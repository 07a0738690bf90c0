package alloc

import "sync/atomic"

// bumpAlign is the alignment of every bump allocation.
const bumpAlign = 8

// bumpRegion is one tenant's bump allocator ([A2]): transient per-tick memory,
// handed out by moving top forward and reclaimed only as a whole by a reset.
//
// top is the offset of the first unused byte. Bump moves it with one atomic add
// (wait-free) by the request rounded up to 8 bytes; the goroutine whose add ends
// at or before len(mem) owns [end-n8, end), and the ranges of different adds never
// overlap. An add that ends past len(mem) fails and leaves top past the end: the
// region is exhausted until the reset, even for requests that would have fit
// the few bytes behind the failed one (the bytes are then counted as not free,
// which is what they are). A pre-check keeps failing callers from pushing top
// further than one request per concurrent caller past the end.
type bumpRegion struct {
	mem []byte // written once by NewArena

	_ [cacheLinePad]byte
	// Written by every Bump (atomic add), by BumpReset (swap) and read by Stats.
	top    atomic.Int64
	allocs atomic.Uint64 // on top's line: a Bump writes both
	_      [cacheLinePad - 16]byte

	// Rarely written: on failures and resets.
	fails atomic.Uint64
	freed atomic.Uint64 // allocs at the last reset: allocations undone by resets
	peak  atomic.Int64  // most bytes in use before any reset
	_     [cacheLinePad - 24]byte
}

// Bump allocates n bytes (8-byte aligned) from the tenant's bump region. The
// memory stays the caller's until the next BumpReset of the tenant; its contents
// are garbage. It returns ErrBadTenant for a tenant out of range and ErrAllocFail,
// counted, when the region is exhausted or n is negative.
func (a *Arena) Bump(tenant, n int) ([]byte, error) {
	if uint(tenant) >= uint(len(a.tenants)) {
		return nil, ErrBadTenant
	}
	return a.tenants[tenant].bump.alloc(n)
}

// alloc is Bump for one region.
func (r *bumpRegion) alloc(n int) ([]byte, error) {
	size := int64(len(r.mem))
	if n < 0 || int64(n) > size {
		r.fails.Add(1)
		return nil, ErrAllocFail
	}
	n8 := (int64(n) + bumpAlign - 1) &^ (bumpAlign - 1)
	// Pre-check on a plain load: a request that cannot fit fails without
	// moving top, so an exhausted region stays at most one request per
	// concurrent caller past its end however often callers retry.
	if r.top.Load()+n8 > size {
		r.fails.Add(1)
		return nil, ErrAllocFail
	}
	end := r.top.Add(n8) // claims [end-n8, end); no other add returns an overlapping range
	if end > size {
		r.fails.Add(1)
		return nil, ErrAllocFail
	}
	r.allocs.Add(1)
	off := int(end - n8)
	return r.mem[off : off+n : off+int(n8)], nil
}

// BumpReset reclaims the tenant's whole bump region. The caller guarantees that
// no Bump of the tenant runs and no memory from earlier Bumps is still used (the
// tick owner resets between ticks); a tenant out of range is ignored.
func (a *Arena) BumpReset(tenant int) {
	if uint(tenant) >= uint(len(a.tenants)) {
		return
	}
	r := &a.tenants[tenant].bump
	used := min(r.top.Swap(0), int64(len(r.mem)))
	if used > r.peak.Load() {
		r.peak.Store(used) // only the (single, quiescent) resetter writes peak
	}
	r.freed.Store(r.allocs.Load())
}

// stats returns the region's KindStats: in use is top clamped to the size.
func (r *bumpRegion) stats() KindStats {
	size := int64(len(r.mem))
	used := min(r.top.Load(), size)
	return KindStats{
		Total:     uint64(size),
		Free:      uint64(size - used),
		HighWater: uint64(max(r.peak.Load(), used)),
		Allocs:    r.allocs.Load(),
		Frees:     r.freed.Load(),
		Fails:     r.fails.Load(),
	}
}
