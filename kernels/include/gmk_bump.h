/*
 * gmk_bump.h — the bump allocator of GMK/gpu (GMK.md [A2], [A3], [G2]):
 * transient per-tick memory in the device arena, handed out by moving one
 * counter forward and reclaimed only as a whole by a reset. Host C and CUDA
 * (gmk_dev.h); tested on the host under threads by kernels/hosttest.
 *
 * Like the slab it deals in arena offsets, never touches the bytes it hands
 * out, and so works over memory the caller cannot address.
 *
 * THE PROTOCOL: top counts the bytes reserved since the last reset.
 *
 *   alloc(n, align): need = round_up(n, GRAIN) + (align - GRAIN) for an align
 *     above GRAIN, else round_up(n, GRAIN). One fetch-add reserves
 *     [top, top + need); the caller whose add ends at or before size owns that
 *     range and gets the first align-aligned offset in it. Every range starts
 *     GRAIN-aligned (base_off is GRAIN-aligned and every need a multiple of
 *     GRAIN), so the aligned start is at most align - GRAIN bytes in and the
 *     n bytes fit. Ranges of different adds never overlap.
 *   An add that ends past size fails and leaves top past size: the allocator
 *     is exhausted until the reset, even for requests that would fit in the
 *     bytes behind the failed one (used() then reports them as used, which
 *     they are until the reset). A pre-check on a plain load makes a request
 *     that cannot fit fail without moving top, so an exhausted allocator's top
 *     stays at most one request per concurrent caller past size.
 *   reset: the owner stores top = 0 when no allocation is live (a tick
 *     boundary, after the grid- or block-wide barrier that ends the tick).
 *
 * MEMORY ORDERING: the fetch-add is acq_rel (gmk_faa64), though disjointness
 * needs only its atomicity. What orders a reset against the allocations of the
 * next tick is the barrier the owner resets behind, not the allocator: a reset
 * while any allocation is live hands the same bytes out twice.
 *
 * Counters: fails (relaxed, on the failure path only), hwm (the highest used
 * at a reset, written by the owner). Allocations are counted by the caller's
 * per-worker metrics, so an alloc stays one atomic.
 *
 * Layout: top and fails on one 128-byte line (every alloc writes top); the
 * geometry and the owner's fields on another.
 */
#ifndef GMK_BUMP_H
#define GMK_BUMP_H

#include "gmk_dev.h"
#include "gmk_task.h"

#define GMK_BUMP_NONE (~(uint64_t)0) /* gmk_bump_alloc: no room, or a bad request */
#define GMK_BUMP_GRAIN 16u           /* every allocation starts GRAIN-aligned (a task's alignment) */

typedef struct gmk_bump {
    /* Line 0: written by every alloc. */
    GMK_ALIGNAS(128) uint64_t top; /* bytes reserved since the reset; may exceed size (exhausted) */
    uint64_t fails;                /* failed allocations; relaxed */
    uint8_t _pad0[128 - 16];

    /* Line 1: geometry (written by init) and the owner's fields (written by reset). */
    uint64_t base_off; /* arena offset of the first byte, GRAIN-aligned */
    uint64_t size;     /* bytes, a multiple of GRAIN */
    uint64_t hwm;      /* highest used() at a reset; owner */
    uint64_t resets;   /* resets so far; owner */
    uint8_t _pad1[128 - 32];
} gmk_bump_t;

GMK_STATIC_ASSERT(sizeof(gmk_bump_t) == 256, "gmk_bump_t is two 128-byte lines");

/*
 * Prepare an empty bump allocator over the size bytes at arena offset
 * base_off. base_off is rounded up and the end down to GMK_BUMP_GRAIN. Not
 * concurrent: run it before the allocator is shared.
 */
GMK_DEV_INLINE void gmk_bump_init(gmk_bump_t *b, uint64_t base_off, uint64_t size) {
    uint64_t g = GMK_BUMP_GRAIN;
    uint64_t start = (base_off + g - 1) & ~(g - 1);
    uint64_t end = (base_off + size) & ~(g - 1);
    b->top = 0;
    b->fails = 0;
    b->base_off = start;
    b->size = end > start ? end - start : 0;
    b->hwm = 0;
    b->resets = 0;
}

/* The failure path of gmk_bump_alloc: counted, then NONE. */
GMK_DEV_INLINE uint64_t gmk_bump_fail_(gmk_bump_t *b) {
    gmk_faa_rlx64(&b->fails, 1);
    return GMK_BUMP_NONE;
}

/*
 * Reserve n bytes aligned to align (a power of two; 0 means GRAIN, and any
 * align up to GRAIN costs nothing extra). Returns the arena offset of the
 * first byte, or GMK_BUMP_NONE (counted in fails) when the allocator is
 * exhausted, n is 0, or align is not a power of two. Any thread; wait-free:
 * one fetch-add.
 */
GMK_DEV_INLINE uint64_t gmk_bump_alloc(gmk_bump_t *b, uint64_t n, uint64_t align) {
    uint64_t size = b->size;
    if (n == 0 || (align & (align - 1)) != 0 || n > size || align > size)
        return gmk_bump_fail_(b);
    if (align < GMK_BUMP_GRAIN) /* after the check: 3 is no alignment, even though 3 < GRAIN */
        align = GMK_BUMP_GRAIN;
    uint64_t need = ((n + GMK_BUMP_GRAIN - 1) & ~(uint64_t)(GMK_BUMP_GRAIN - 1)) + (align - GMK_BUMP_GRAIN);
    if (need > size || gmk_ld_rlx64(&b->top) + need > size) /* pre-check: don't push top further */
        return gmk_bump_fail_(b);
    uint64_t at = gmk_faa64(&b->top, need);
    if (at + need > size)
        return gmk_bump_fail_(b);
    uint64_t start = b->base_off + at; /* GRAIN-aligned */
    return (start + align - 1) & ~(align - 1);
}

/* Bytes reserved since the reset (alignment padding and the bytes lost to a
 * failed request included), at most size. A snapshot. */
GMK_DEV_INLINE uint64_t gmk_bump_used(const gmk_bump_t *b) {
    return gmk_min64(gmk_ld_rlx64(&b->top), b->size);
}

/* The highest used() so far, this tick included. Owner. */
GMK_DEV_INLINE uint64_t gmk_bump_hwm(const gmk_bump_t *b) {
    uint64_t u = gmk_bump_used(b);
    return u > b->hwm ? u : b->hwm;
}

/* Failed allocations so far. */
GMK_DEV_INLINE uint64_t gmk_bump_fails(const gmk_bump_t *b) { return gmk_ld_rlx64(&b->fails); }

/*
 * Free everything at once. Owner only, and only when no allocation is live:
 * behind the barrier that ends the tick, which also orders this store before
 * the next tick's allocations.
 */
GMK_DEV_INLINE void gmk_bump_reset(gmk_bump_t *b) {
    b->hwm = gmk_bump_hwm(b);
    b->resets++;
    gmk_st_rel64(&b->top, 0);
}

#endif /* GMK_BUMP_H */
