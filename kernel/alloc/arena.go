package alloc

import (
	"errors"
	"sync/atomic"
	"unsafe"

	"github.com/gmkernel/gmk/kernel/ring"
	"github.com/gmkernel/gmk/kernel/task"
)

// Errors of the arena. ErrAllocFail, ErrStale and ErrBadTenant are the kernel-wide
// sentinels of kernel/task, so errors.Is works across packages ([T4]).
var (
	// ErrAllocFail: nothing free fits the request (ALLOC_FAIL, [A3]). Counted.
	ErrAllocFail = task.ErrAllocFail
	// ErrStale: the handle's block is not live (use after free or double free,
	// [A5]). Counted as Misuse; the error text names the handle and the block's
	// current generation.
	ErrStale = task.ErrStalePayload
	// ErrBadTenant: the tenant is outside 0..Tenants-1.
	ErrBadTenant = task.ErrBadTenant
	// ErrBadRefs: a negative reference delta, or a count that would pass MaxRefs.
	ErrBadRefs = errors.New("alloc: bad reference count change")
	// ErrBadLength: a length below 0 or beyond the block's size.
	ErrBadLength = errors.New("alloc: length out of the block's range")
)

// noCopy makes `go vet` (copylocks) report an Arena or Slab copied by value: a
// copy would share the memory but not the counters and free rings.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// Arena is the memory of one kernel ([A1]). It is created once by NewArena and
// never grows; all its methods are safe for concurrent use.
type Arena struct {
	_ noCopy

	// Written once by NewArena, read-only afterwards.
	cfg     Config
	mem     []byte   // the whole arena; every region is a sub-slice
	trace   []byte   // the per-kernel trace region
	tenants []tenant // one partition per tenant
}

// tenant is one partition of the arena: its own slab, bins and bump region.
type tenant struct {
	slab Slab
	bins [NumBins]bin
	bump bumpRegion

	_ [cacheLinePad]byte
	// Block counters that belong to no bin; atomic adds by any goroutine.
	oversize atomic.Uint64 // Alloc requests beyond MaxBlock or below 0
	badSlot  atomic.Uint64 // handles whose bin or slot does not exist
	_        [cacheLinePad - 16]byte
}

// NewArena applies cfg.WithDefaults, validates the result and carves a fresh
// arena from one Go allocation. Config errors wrap ErrConfig.
func NewArena(cfg Config) (*Arena, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := cfg.layout()
	a := &Arena{cfg: cfg, mem: alignedBytes(cfg.Size, regionAlign), tenants: make([]tenant, cfg.Tenants)}
	a.trace = sub(a.mem, l.traceOff, l.traceLen)
	for i := range a.tenants {
		t := &a.tenants[i]
		t.slab.init(sub(a.mem, l.taskOff+i*l.taskPer, l.taskPer), cfg.SlabObject)
		for b := range t.bins {
			off := l.blockOff + i*l.blockPer + b*l.binBytes
			t.bins[b].init(sub(a.mem, off, l.binBytes), BinSize(b))
		}
		t.bump.mem = sub(a.mem, l.bumpOff+i*l.bumpPer, l.bumpPer)
	}
	return a, nil
}

// alignedBytes returns n zeroed bytes whose first byte is aligned to align (a
// power of two). A []byte holds no pointers, so the GC never scans it; Go's heap
// does not move objects, so the alignment holds for the arena's life.
func alignedBytes(n, align int) []byte {
	buf := make([]byte, n+align)
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(buf)))) & (align - 1)
	return buf[off : off+n : off+n]
}

// sub returns mem[off:off+n] with its capacity cut at n, so that no region can
// be grown into its neighbour by append.
func sub(mem []byte, off, n int) []byte { return mem[off : off+n : off+n] }

// Config returns the configuration the arena was built with, defaults applied.
func (a *Arena) Config() Config { return a.cfg }

// Tenants returns the number of tenants.
func (a *Arena) Tenants() int { return len(a.tenants) }

// TraceRegion returns the per-kernel trace region (64-byte aligned). The kernel
// owns its contents; the arena never touches them.
func (a *Arena) TraceRegion() []byte { return a.trace }

// Slab returns the tenant's task slab, or nil for a tenant out of range.
func (a *Arena) Slab(tenant int) *Slab {
	if uint(tenant) >= uint(len(a.tenants)) {
		return nil
	}
	return &a.tenants[tenant].slab
}

// Live returns the number of live blocks over all tenants and bins: 0 after every
// allocation was released (a leak check). Exact when quiescent.
func (a *Arena) Live() int {
	n := int64(0)
	for i := range a.tenants {
		for b := range a.tenants[i].bins {
			n += a.tenants[i].bins[b].c.inUse.Load()
		}
	}
	return int(n)
}

// Stats returns the statistics of one tenant ([A3]); zero Stats for a tenant out
// of range. Exact when quiescent, approximate while operations run.
func (a *Arena) Stats(tenant int) Stats {
	var s Stats
	if uint(tenant) >= uint(len(a.tenants)) {
		return s
	}
	t := &a.tenants[tenant]
	s.Slab = t.slab.c.kind(t.slab.obj, t.slab.n)
	for i := range t.bins {
		b := &t.bins[i]
		s.Bins[i] = b.c.kind(b.size, b.slots)
		s.Block.add(s.Bins[i])
	}
	s.Block.Fails += t.oversize.Load()
	s.Block.Misuse += t.badSlot.Load()
	s.Bump = t.bump.stats()
	return s
}

// newFreeRing returns a free ring holding the indices 0..n-1, or nil when n is 0.
// Capacity n (rounded up) is enough: an index is in the ring at most once.
func newFreeRing(n int) *ring.MPMC[uint32] {
	if n == 0 {
		return nil
	}
	r := ring.NewMPMC[uint32](n)
	var batch [256]uint32
	for base := 0; base < n; base += len(batch) {
		k := min(len(batch), n-base)
		for j := range k {
			batch[j] = uint32(base + j)
		}
		if r.PushBatch(batch[:k]) != k {
			panic("alloc: broken invariant: a fresh free ring is full")
		}
	}
	return r
}
