package alloc

import (
	"fmt"
	"math/bits"
)

// Block bins ([A1], [A2]).
const (
	NumBins     = 12                        // power-of-two size bins per tenant
	MinBlock    = 64                        // block size of bin 0
	MaxBlock    = MinBlock << (NumBins - 1) // block size of the last bin: 128 KiB
	minShift    = 6                         // log2(MinBlock)
	maxSlots    = 1 << slotBits             // slots per bin a handle can name
	maxSlabObjs = 1<<32 - 1                 // objects per slab a uint32 index can name
)

// Handle layout (see the package documentation).
const (
	slotBits   = 28
	binBits    = 4
	tenantBits = 8
	genBits    = 24

	binShift    = slotBits
	tenantShift = binShift + binBits
	genShift    = tenantShift + tenantBits

	slotMask   = 1<<slotBits - 1
	binMask    = 1<<binBits - 1
	tenantMask = 1<<tenantBits - 1
	genMask    = 1<<genBits - 1
)

// Per-block state word: (generation-1)<<metaGenShift | refs. The generation is
// stored minus one so that a zeroed word, as make returns it, is a free block at
// generation 1: a fresh arena needs no store per slot.
const (
	metaGenShift = 32
	refsMask     = 1<<metaGenShift - 1
	// MaxRefs is the largest reference count of a block.
	MaxRefs = refsMask
)

// Handle names a block of the arena: generation, tenant, bin and slot packed in a
// uint64 (layout in the package documentation). 0 means "no payload". A handle is
// a plain value; copying it does not add a reference.
type Handle uint64

// makeHandle packs the fields of a handle. gen must be in 1..2^24-1.
func makeHandle(gen uint32, tenant, bin int, slot uint32) Handle {
	return Handle(uint64(gen)<<genShift | uint64(tenant)<<tenantShift | uint64(bin)<<binShift | uint64(slot))
}

// Gen returns the generation the handle was issued with.
func (h Handle) Gen() uint32 { return uint32(h>>genShift) & genMask }

// Tenant returns the tenant that owns the block.
func (h Handle) Tenant() int { return int(h>>tenantShift) & tenantMask }

// Bin returns the index of the block's bin; its block size is BinSize(h.Bin()).
func (h Handle) Bin() int { return int(h>>binShift) & binMask }

// Slot returns the block's index in its bin.
func (h Handle) Slot() uint32 { return uint32(h) & slotMask }

// String formats the handle's fields, for errors and traces.
func (h Handle) String() string {
	if h == 0 {
		return "payload(none)"
	}
	return fmt.Sprintf("payload(t%d/b%d/s%d/g%d)", h.Tenant(), h.Bin(), h.Slot(), h.Gen())
}

// BinSize returns the block size of bin i (64 << i), or 0 when i is out of range.
func BinSize(i int) int {
	if i < 0 || i >= NumBins {
		return 0
	}
	return MinBlock << i
}

// binFor returns the smallest bin whose blocks hold n bytes; n must be in
// 0..MaxBlock.
func binFor(n int) int {
	if n <= MinBlock {
		return 0
	}
	return bits.Len(uint(n-1)) - minShift
}

// nextGen returns the generation after g, skipping 0 on wrap so that no issued
// handle has generation 0 (and the zero handle is never live).
func nextGen(g uint32) uint32 {
	g = (g + 1) & genMask
	if g == 0 {
		g = 1
	}
	return g
}

// freeWord returns the state word of a free block whose next handle gets gen.
func freeWord(gen uint32) uint64 { return uint64(gen-1) << metaGenShift }

// metaGen and metaRefs split a per-block state word.
func metaGen(w uint64) uint32  { return uint32(w>>metaGenShift) + 1 }
func metaRefs(w uint64) uint32 { return uint32(w & refsMask) }

// liveFor reports whether the state word w belongs to a live block of the
// handle's generation: same generation and at least one reference.
func liveFor(w uint64, gen uint32) bool { return metaGen(w) == gen && metaRefs(w) != 0 }
