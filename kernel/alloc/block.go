package alloc

import (
	"fmt"
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel/ring"
)

// bin is one power-of-two size class of one tenant's block allocator ([A2]).
//
// The state of slot s is one word meta[s] = (gen, refs) (encoding in handle.go),
// written only by CAS (Alloc, AddRefs, Release) and read by every reference
// operation:
//
//	refs == 0  free: s is in the free ring (or about to be pushed there, or just
//	           popped by an Alloc); gen is the generation its next handle gets.
//	refs >= 1  live: handles with generation gen name it.
//
// Who moves the word: the Alloc that popped s moves it from (g, 0) to (g, 1) —
// no one else can, because every other operation needs refs >= 1. AddRefs and
// Release move (g, r) to (g, r±k) while r >= 1, each checking g against its
// handle first. The Release that sees (g, 1) moves it to (next(g), 0) and only
// then pushes s on the free ring, so the generation is bumped before the slot can
// be reused, and a handle of generation g can never match the word again (until
// the 24-bit generation wraps).
type bin struct {
	// Written once by init, read by everyone.
	size  int                // block size in bytes
	slots int                // number of blocks
	mem   []byte             // slots*size bytes; block s is mem[s*size:(s+1)*size]
	free  *ring.MPMC[uint32] // free slot indices; nil when slots == 0
	meta  []atomic.Uint64    // per-slot state word, out of band (see above)

	_ [cacheLinePad]byte
	c counters // objects = blocks
	_ [cacheLinePad]byte
}

// init carves region into blocks of size bytes; any remainder stays unused.
func (b *bin) init(region []byte, size int) {
	b.size = size
	b.slots = len(region) / size
	b.mem = region[: b.slots*size : b.slots*size]
	b.free = newFreeRing(b.slots)
	b.meta = make([]atomic.Uint64, b.slots) // zero words: free, generation 1
}

// block returns the first n bytes of slot s, with the capacity of the block.
func (b *bin) block(s uint32, n int) []byte {
	off := int(s) * b.size
	return b.mem[off : off+n : off+b.size]
}

// Alloc allocates a block of at least n bytes (0 <= n <= MaxBlock) for tenant, with
// one reference owned by the caller, and returns its handle and its first n bytes
// (capacity: the block size). The block comes from the smallest bin that fits n or,
// when that bin is empty, the next larger bin that has a free block. Its contents
// are whatever its previous owner left.
//
// It returns ErrBadTenant for a tenant out of range, and ErrAllocFail, counted as a
// Fail of the fitting bin (or of Block for n beyond MaxBlock), when nothing fits.
func (a *Arena) Alloc(tenant, n int) (Handle, []byte, error) {
	if uint(tenant) >= uint(len(a.tenants)) {
		return 0, nil, ErrBadTenant
	}
	t := &a.tenants[tenant]
	if n < 0 || n > MaxBlock {
		t.oversize.Add(1)
		return 0, nil, ErrAllocFail
	}
	first := binFor(n)
	for i := first; i < NumBins; i++ {
		b := &t.bins[i]
		if s, ok := takeIndex(b.free); ok {
			gen := b.claim(s)
			return makeHandle(gen, tenant, i, s), b.block(s, n), nil
		}
	}
	t.bins[first].c.fails.Add(1)
	return 0, nil, ErrAllocFail
}

// claim makes the free slot s that this goroutine popped live with one reference
// and returns its generation. The free ring's Pop ordered us after the Release
// that freed s, so the word is (g, 0) and no one else may change it.
func (b *bin) claim(s uint32) uint32 {
	w := b.meta[s].Load()
	if metaRefs(w) != 0 || !b.meta[s].CompareAndSwap(w, w|1) {
		panic("alloc: broken invariant: a slot on the free ring is referenced")
	}
	b.c.onAlloc()
	return metaGen(w)
}

// lookup returns the bin and state word a handle names. A handle whose tenant,
// bin or slot does not exist gets ErrStale (counted as Misuse of the tenant's
// Block stats when the tenant exists). The zero handle is "no payload": ErrStale,
// not counted.
func (a *Arena) lookup(h Handle) (*bin, *atomic.Uint64, error) {
	ti := h.Tenant()
	if h == 0 {
		return nil, nil, ErrStale
	}
	if ti >= len(a.tenants) {
		return nil, nil, noBlockErr(h)
	}
	t := &a.tenants[ti]
	bi, s := h.Bin(), h.Slot()
	if bi >= NumBins || int(s) >= t.bins[bi].slots {
		t.badSlot.Add(1)
		return nil, nil, noBlockErr(h)
	}
	b := &t.bins[bi]
	return b, &b.meta[s], nil
}

// Bytes returns the first n bytes of the handle's block (capacity: the block size).
// It returns ErrStale, counted as Misuse, when the block is not live at the call,
// and ErrBadLength when n is below 0 or beyond the block size.
func (a *Arena) Bytes(h Handle, n int) ([]byte, error) {
	b, w, err := a.lookup(h)
	if err != nil {
		return nil, err
	}
	if v := w.Load(); !liveFor(v, h.Gen()) {
		return nil, b.stale(h, v)
	}
	if n < 0 || n > b.size {
		return nil, ErrBadLength
	}
	return b.block(h.Slot(), n), nil
}

// Refs returns the block's reference count, 0 when the handle is not live.
func (a *Arena) Refs(h Handle) int {
	_, w, err := a.lookup(h)
	if err != nil {
		return 0
	}
	if v := w.Load(); liveFor(v, h.Gen()) {
		return int(metaRefs(v))
	}
	return 0
}

// Retain adds one reference ([A4] PayloadRetain). ErrStale (counted) on a handle
// that is not live.
func (a *Arena) Retain(h Handle) error { return a.AddRefs(h, 1) }

// AddRefs adds delta >= 0 references at once, for fan-out ([A4]): the emitter adds
// one per copy before delivering. ErrStale (counted) on a handle that is not live;
// ErrBadRefs for delta < 0 or a count beyond MaxRefs. delta 0 only checks the
// handle.
func (a *Arena) AddRefs(h Handle, delta int) error {
	if delta < 0 || int64(delta) > MaxRefs {
		return ErrBadRefs
	}
	b, w, err := a.lookup(h)
	if err != nil {
		return err
	}
	gen, d := h.Gen(), uint64(delta)
	for {
		old := w.Load()
		if !liveFor(old, gen) {
			return b.stale(h, old)
		}
		if uint64(metaRefs(old))+d > MaxRefs {
			return ErrBadRefs
		}
		// Fails only if another operation changed the word since the Load:
		// retry with the fresh value (lock-free: someone made progress).
		if w.CompareAndSwap(old, old+d) {
			return nil
		}
	}
}

// Release drops one reference ([A4] PayloadRelease); the last one frees the block.
// ErrStale (counted) on a handle that is not live: a double free or a release
// after reuse, which never touches the block's new owner.
func (a *Arena) Release(h Handle) error {
	b, w, err := a.lookup(h)
	if err != nil {
		return err
	}
	gen := h.Gen()
	for {
		old := w.Load()
		if !liveFor(old, gen) {
			return b.stale(h, old)
		}
		if metaRefs(old) > 1 {
			if w.CompareAndSwap(old, old-1) {
				return nil
			}
			continue // the word changed under us; retry with the fresh value
		}
		// Last reference: refs 1 -> 0 and gen -> next in one step. After this
		// CAS no handle of gen matches, and the slot is ours to push.
		if w.CompareAndSwap(old, freeWord(nextGen(gen))) {
			b.c.onFree()
			putIndex(b.free, h.Slot()) // publishes the freed block to the next Alloc
			return nil
		}
	}
}

// stale counts a use of a dead handle and describes it. It is the misuse path
// and may allocate.
func (b *bin) stale(h Handle, w uint64) error {
	b.c.misuse.Add(1)
	return staleErr(h, w)
}

// staleErr wraps ErrStale with the handle and the block's state word w.
func staleErr(h Handle, w uint64) error {
	return fmt.Errorf("%w: %v (block generation %d, refs %d)", ErrStale, h, metaGen(w), metaRefs(w))
}

// noBlockErr wraps ErrStale for a handle whose tenant, bin or slot does not exist.
func noBlockErr(h Handle) error {
	return fmt.Errorf("%w: %v names no block of this arena", ErrStale, h)
}
