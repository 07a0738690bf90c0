// Package alloc is the memory of a GMK kernel (GMK.md §3, [A1]–[A5]): one arena,
// allocated once at boot and carved into a task slab, a trace region, a block
// allocator of 12 power-of-two size bins and a bump allocator. Nothing on the task
// path allocates from the Go heap afterwards.
//
// # Layout
//
// [NewArena] makes one pointer-free []byte (64-byte aligned, so every region, slab
// object and block is at least 16-byte aligned, as the C side of [T1] needs) and
// carves it by the percentages of [Config] (default 10 / 2 / 68 / 20 % of 64 MiB):
//
//	| task slab | trace | block bins | bump |
//
// The trace region is one per-kernel region ([Arena.TraceRegion]); the kernel builds
// its per-worker trace rings in it. The task slab, the block bytes and the bump
// bytes are each split evenly among the tenants: every tenant has its own [Slab],
// its own 12 bins and its own bump region, so exhausting one tenant never affects
// another. Each bin gets an equal share of its tenant's block bytes; bin i holds
// blocks of 64<<i bytes (64 B … 128 KiB), as many as fit in the share. A bin whose
// share is smaller than one of its blocks (the large bins of a small arena) has 0
// slots and is skipped. Rounding leaves a few unused bytes at the ends of regions;
// [KindStats].Total counts only usable bytes.
//
// # Payload handles
//
// A block is named by a [Handle], never by a pointer (DESIGN.md decision 2): a
// uint64 that a task carries in its Payload field and the bridge can rewrite:
//
//	bits 63..40  generation (24 bits, never 0 for a handle that was issued)
//	bits 39..32  tenant     (8 bits)
//	bits 31..28  bin        (4 bits)
//	bits 27..0   slot       (28 bits)
//
// Handle 0 is "no payload". The state of every block lives out of band, in one
// atomic word per slot: generation<<32 | refs (the generation stored minus one,
// so that the zeroed words of a fresh arena are free blocks at generation 1).
// Alloc moves a free slot's word from refs 0 to refs 1 and builds the handle
// from its generation; the final Release
// moves it from refs 1 to refs 0 AND to the next generation in one CAS, then puts
// the slot back on the bin's free ring. Every reference operation is a single CAS
// loop on that word that first checks the handle's generation, so a stale handle
// (use after free, double free) can never change a block that was allocated again:
// it gets [ErrStale] and the bin's Misuse counter goes up ([A5]). Generations wrap
// after 2^24−1 reuses of one slot (0 is skipped); a handle kept that long and used
// at exactly the wrong moment is the one case the check cannot see.
//
// # Reference counts ([A4])
//
// Alloc returns a block with one reference, owned by the caller. Point-to-point
// delivery hands that reference to the consumer. Fan-out to k subscribers calls
// AddRefs(h, k) BEFORE delivering (every copy then owns a reference, so an early
// consumer cannot free the block under a later delivery), releases once for each
// copy that could not be delivered, and finally releases the emitter's own
// reference. Retain keeps a payload alive past its handler; Release frees at zero.
//
// # Concurrency rules
//
// Every method of [Arena] and [Slab] may be called from any number of goroutines at
// once. Nothing blocks or takes a lock: free lists are lock-free MPMC rings
// (kernel/ring), reference counts are CAS loops on one word, bump allocation is one
// atomic add. An allocation that finds nothing free returns [ErrAllocFail] (or
// false) at once and is counted; it is a normal result, never a crash ([A3]).
//
// Memory ordering: every Release is a read-modify-write of the block's state word,
// so the Release that frees a block is ordered after every holder's earlier
// Release (and the holder's writes before it); that final Release happens before
// the Alloc that returns the same slot again (the free ring's Push synchronizes
// before its Pop). So no holder's use of the bytes races with the next owner's.
// The same holds for Slab.Free and Slab.Alloc.
//
// The caller's duties:
//   - use a block's bytes only while holding a reference; Bytes checks the handle
//     when it is called, not for as long as the slice is used;
//   - call [Arena.BumpReset] only when no bump memory of the tenant is in use and no
//     Bump of that tenant runs (the per-tick owner resets between ticks);
//   - treat block, bump and slab contents as garbage on allocation: memory is not
//     zeroed (regions are per tenant, so one tenant never sees another's bytes).
//
// Statistics ([Arena.Stats]) are atomic counters read without a snapshot lock: they
// are exact when no operation runs and approximate while operations run.
package alloc
