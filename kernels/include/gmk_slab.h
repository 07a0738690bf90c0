/*
 * gmk_slab.h — the lock-free fixed-size block allocator of GMK/gpu
 * (GMK.md [A2], [A3], [G2]): task nodes, events and other fixed-size objects
 * in the device arena. Host C and CUDA (gmk_dev.h); tested on the host under
 * threads by kernels/hosttest.
 *
 * Offsets, not pointers: a block is named by its byte offset in the device
 * arena (base_off + i * block_size), which is what payload references carry
 * on the GPU. The slab never reads or writes block bytes: its free list lives
 * in a separate array of uint32 links, so a freed block keeps its contents
 * (a debug build may poison them) and the slab works over memory the caller
 * cannot address (the host sets up a slab for the device).
 *
 * THE FREE LIST: a Treiber stack of block indices.
 *
 *   head = tag << 32 | index of the top free block (GMK_SLAB_NIL: empty).
 *   next[i] = the index below block i on the stack (GMK_SLAB_NIL: bottom)
 *             while i is free; GMK_SLAB_USED while i is allocated.
 *
 *   alloc: load-acquire head = (tag, i); read next[i]; CAS head from
 *     (tag, i) to (tag+1, next[i]). On success i is ours: mark next[i] USED.
 *   free:  CAS next[i] from USED to the current top (the one winner of that
 *     CAS owns the free: a double free, or a free of a block that was never
 *     allocated, fails it), then CAS head from (tag, top) to (tag+1, i),
 *     re-linking next[i] to the new top before each retry.
 *
 *   ABA: a popper that read head = (tag, i) and next[i] = j, then stalled,
 *   must not install j if meanwhile i was popped, j was popped, and i was
 *   pushed back (head again names i, but next[i] is no longer j). Every
 *   successful CAS of head bumps the 32-bit tag, so the stale CAS fails unless
 *   exactly 2^32 pushes and pops happened during the stall.
 *
 * MEMORY ORDERING (who writes what, what publishes it)
 *
 *   next[i] is written by the thread that holds i (the allocating thread,
 *   storing USED; the freeing thread, storing links) and read by poppers that
 *   saw i at the top. All accesses are atomic (relaxed): a popper may read a
 *   link that is already stale, and then its head CAS fails.
 *   F1. free stores next[i] (relaxed), then CASes head (acq_rel: release).
 *   A1. alloc load-acquires head (or gets it back from a failed CAS, which
 *       acquires too), then reads next[i]: F1's release -> A1's acquire makes
 *       the link visible. The same pair orders the block's BYTES: whatever the
 *       freeing holder wrote into the block happens before the next holder's
 *       alloc returns, so blocks can be handed between workers without fences
 *       of their own.
 *   Geometry (next, base_off, span, block_size, nblocks, shift) is written by
 *   gmk_slab_init before the slab is shared and is read-only afterwards.
 *
 * Counters (relaxed; they order nothing): in_use is decremented by free
 * BEFORE its push and incremented by alloc AFTER its pop, so it never counts a
 * block twice: 0 <= in_use <= nblocks at every instant. hwm is the highest
 * in_use seen, fails the allocations that found the slab empty. The number of
 * allocations is counted by the caller's per-worker metrics (DESIGN.md: no
 * shared atomic per task beyond the one the operation needs).
 *
 * Layout: head and the counters share one 128-byte line (an alloc or free
 * writes them together); the read-only geometry has its own line, so it stays
 * shared in every cache while head bounces.
 *
 * Progress: lock-free. alloc and free retry only when another thread's CAS
 * succeeded; no thread ever waits for another. Under heavy contention a
 * freed block may wait in its freer's CAS loop while an alloc finds the
 * list empty and returns NONE: correct (the free has not happened yet), but
 * see the batch calls below for how device code should avoid it.
 */
#ifndef GMK_SLAB_H
#define GMK_SLAB_H

#include "gmk_dev.h"
#include "gmk_task.h"

#define GMK_SLAB_NONE (~(uint64_t)0) /* gmk_slab_alloc: the slab is empty */
#define GMK_SLAB_NIL 0xFFFFFFFFu     /* link: end of the free list */
#define GMK_SLAB_USED 0xFFFFFFFEu    /* link: the block is allocated */
#define GMK_SLAB_MAX_BLOCKS 0xFFFFFFFEu /* indices 0..MAX-1 never collide with NIL/USED */
#define GMK_SLAB_NOSHIFT 0xFFFFFFFFu /* shift: block_size is not a power of two */

typedef struct gmk_slab {
    /* Line 0: written by every alloc and free. */
    GMK_ALIGNAS(128) uint64_t head; /* tag << 32 | top free index; CAS (acq_rel) */
    uint64_t in_use;                /* blocks allocated, not freed; relaxed */
    uint64_t hwm;                   /* highest in_use; CAS-max, relaxed */
    uint64_t fails;                 /* allocs that found the slab empty; relaxed */
    uint8_t _pad0[128 - 32];

    /* Line 1: geometry, written by gmk_slab_init only. */
    uint32_t *next;      /* nblocks links (see above) */
    uint64_t base_off;   /* arena offset of block 0 */
    uint64_t span;       /* nblocks * block_size */
    uint32_t block_size; /* bytes per block */
    uint32_t nblocks;    /* blocks in the slab */
    uint32_t shift;      /* log2(block_size), or GMK_SLAB_NOSHIFT */
    uint8_t _pad1[128 - 40];
} gmk_slab_t;

GMK_STATIC_ASSERT(sizeof(gmk_slab_t) == 256, "gmk_slab_t is two 128-byte lines");

/* The head word after a successful CAS: tag + 1 (mod 2^32), new top index. */
GMK_DEV_INLINE uint64_t gmk_slab_word_(uint64_t h, uint32_t top) {
    return (((h >> 32) + 1) << 32) | top;
}

/*
 * Prepare a slab of nblocks blocks of block_size bytes starting at arena
 * offset base_off, every block free; next must hold nblocks entries (device
 * memory for a device slab). Not concurrent: run it before the slab is shared
 * (host setup or one device thread). block_size 0 makes an empty slab;
 * nblocks is capped at GMK_SLAB_MAX_BLOCKS.
 */
GMK_DEV_INLINE void gmk_slab_init(gmk_slab_t *s, uint64_t base_off, uint32_t block_size,
                                  uint32_t nblocks, uint32_t *next) {
    if (block_size == 0)
        nblocks = 0;
    if (nblocks > GMK_SLAB_MAX_BLOCKS)
        nblocks = GMK_SLAB_MAX_BLOCKS;
    s->in_use = 0;
    s->hwm = 0;
    s->fails = 0;
    s->next = next;
    s->base_off = base_off;
    s->span = (uint64_t)nblocks * block_size;
    s->block_size = block_size;
    s->nblocks = nblocks;
    s->shift = GMK_SLAB_NOSHIFT;
    if (block_size != 0 && (block_size & (block_size - 1)) == 0) {
        uint32_t sh = 0;
        while ((1u << sh) != block_size)
            sh++;
        s->shift = sh;
    }
    /* Stack order = index order, so a fresh slab hands out block 0 first. */
    for (uint32_t i = 0; i < nblocks; i++)
        next[i] = i + 1 < nblocks ? i + 1 : GMK_SLAB_NIL;
    s->head = nblocks ? 0 : GMK_SLAB_NIL; /* tag 0 */
}

/*
 * Take a free block; returns its arena offset, or GMK_SLAB_NONE (counted in
 * fails) when every block is allocated. The block's bytes are whatever its
 * last holder left. Any thread; lock-free.
 */
GMK_DEV_INLINE uint64_t gmk_slab_alloc(gmk_slab_t *s) {
    uint64_t h = gmk_ld_acq64(&s->head); /* A1 */
    for (;;) {
        uint32_t i = (uint32_t)h;
        if (i == GMK_SLAB_NIL) {
            gmk_faa_rlx64(&s->fails, 1);
            return GMK_SLAB_NONE;
        }
        /* May be stale (i already popped by another thread): then head has
         * moved on, its tag with it, and the CAS below fails. */
        uint32_t below = gmk_ld_rlx32(&s->next[i]);
        uint64_t seen = gmk_cas64(&s->head, h, gmk_slab_word_(h, below));
        if (seen == h) {
            /* i is ours alone. USED arms the double-free check of free. */
            gmk_st_rlx32(&s->next[i], GMK_SLAB_USED);
            uint64_t u = gmk_faa_rlx64(&s->in_use, 1) + 1;
            uint64_t m = gmk_ld_rlx64(&s->hwm);
            while (u > m) { /* rare: only while in_use climbs to a new peak */
                uint64_t got = gmk_cas64(&s->hwm, m, u);
                if (got == m)
                    break;
                m = got;
            }
            return s->base_off + (uint64_t)i * s->block_size;
        }
        h = seen; /* another alloc or free won; seen is acquired (A1) */
    }
}

/* The block index of offset off, or -1 when off is not a block start of s. */
GMK_DEV_INLINE int gmk_slab_index_(const gmk_slab_t *s, uint64_t off, uint32_t *idx) {
    uint64_t rel = off - s->base_off; /* wraps to a huge value below base_off */
    if (off < s->base_off || rel >= s->span)
        return -1;
    if (s->shift != GMK_SLAB_NOSHIFT) {
        if (rel & (s->block_size - 1))
            return -1;
        *idx = (uint32_t)(rel >> s->shift);
        return 0;
    }
    uint64_t i = rel / s->block_size;
    if (i * s->block_size != rel)
        return -1;
    *idx = (uint32_t)i;
    return 0;
}

/*
 * Give back the block at offset off. Returns 0, or -1 (the slab unchanged)
 * when off is not a block start of this slab, or its block is not allocated
 * (a double free). Any thread, usually not the allocating one; lock-free.
 */
GMK_DEV_INLINE int gmk_slab_free(gmk_slab_t *s, uint64_t off) {
    uint32_t i = 0;
    if (gmk_slab_index_(s, off, &i) != 0)
        return -1;
    uint64_t h = gmk_ld_rlx64(&s->head); /* only a CAS operand: the CAS validates it */
    /* Claim the free: of two frees of one block, exactly one sees USED. */
    if (gmk_cas32(&s->next[i], GMK_SLAB_USED, (uint32_t)h) != GMK_SLAB_USED)
        return -1;
    gmk_faa_rlx64(&s->in_use, (uint64_t)-1); /* before the push: see Counters */
    for (;;) {
        uint64_t seen = gmk_cas64(&s->head, h, gmk_slab_word_(h, i)); /* F1 */
        if (seen == h)
            return 0;
        h = seen;
        gmk_st_rlx32(&s->next[i], (uint32_t)h); /* re-link below the new top */
    }
}

/*
 * Batch versions, for a lead lane serving its warp or block ([G1]): one CAS
 * of head moves up to k blocks. Every thread of a GPU calling gmk_slab_alloc
 * at once serialises on head (measured on an H100: 67k threads, ~0.12 M
 * allocations/s, and NONE most of the time because freed blocks wait in
 * their freers' CAS loops); a lead lane taking 32 at a time divides that
 * traffic by the batch and by the lanes.
 *
 * Batch pop: walk k - 1 links down from the top, then CAS head from (tag,
 * top) to (tag+1, the link below the last one taken). Sound for the reason
 * the single pop is: every change to the list moves head's tag, so if the
 * CAS succeeds, the chain walked after the acquire of head was the list's.
 * A link read mid-change may be stale (USED, or an index of a block popped
 * meanwhile); a value that is not a block index ends the walk and the CAS
 * then fails and retries. Batch push: claim each block (USED -> link), chain
 * them privately, then one CAS installs the chain's first block as the top.
 */

/* Allocate up to k blocks into offs; returns how many (0 when the slab is
 * empty, counted in fails; fewer than k when it runs out). Any thread. */
GMK_DEV_INLINE uint32_t gmk_slab_alloc_n(gmk_slab_t *s, uint64_t *offs, uint32_t k) {
    if (k == 0)
        return 0;
    uint64_t h = gmk_ld_acq64(&s->head); /* A1 */
    for (;;) {
        uint32_t top = (uint32_t)h, last = top, n = 1, below;
        if (top == GMK_SLAB_NIL) {
            gmk_faa_rlx64(&s->fails, 1);
            return 0;
        }
        for (;;) { /* walk: last is the n-th block taken */
            below = gmk_ld_rlx32(&s->next[last]);
            if (n == k || below >= s->nblocks) /* enough, the end (NIL), or a stale link */
                break;
            last = below;
            n++;
        }
        if (below != GMK_SLAB_NIL && below >= s->nblocks) { /* stale: the list moved under us */
            h = gmk_ld_acq64(&s->head);
            continue;
        }
        uint64_t seen = gmk_cas64(&s->head, h, gmk_slab_word_(h, below));
        if (seen != h) {
            h = seen;
            continue;
        }
        /* Ours: the chain top .. last, as it was when head still said top. */
        uint32_t i = top;
        for (uint32_t j = 0; j < n; j++) {
            uint32_t nx = gmk_ld_rlx32(&s->next[i]);
            gmk_st_rlx32(&s->next[i], GMK_SLAB_USED);
            offs[j] = s->base_off + (uint64_t)i * s->block_size;
            i = nx;
        }
        uint64_t u = gmk_faa_rlx64(&s->in_use, n) + n;
        uint64_t m = gmk_ld_rlx64(&s->hwm);
        while (u > m) {
            uint64_t got = gmk_cas64(&s->hwm, m, u);
            if (got == m)
                break;
            m = got;
        }
        return n;
    }
}

/* Free the k blocks at offs with one push; returns how many were freed.
 * Offsets that are not block starts of this slab, or blocks that are not
 * allocated (double frees, also within offs), are skipped: the return value
 * is then less than k. Any thread. */
GMK_DEV_INLINE uint32_t gmk_slab_free_n(gmk_slab_t *s, const uint64_t *offs, uint32_t k) {
    uint32_t first = GMK_SLAB_NIL, last = GMK_SLAB_NIL, n = 0;
    for (uint32_t j = 0; j < k; j++) {
        uint32_t i = 0;
        if (gmk_slab_index_(s, offs[j], &i) != 0)
            continue;
        /* Claim the free (as gmk_slab_free) and link i above the chain so far. */
        if (gmk_cas32(&s->next[i], GMK_SLAB_USED, first) != GMK_SLAB_USED)
            continue;
        if (first == GMK_SLAB_NIL)
            last = i;
        first = i;
        n++;
    }
    if (n == 0)
        return 0;
    gmk_faa_rlx64(&s->in_use, (uint64_t)0 - n); /* before the push: see Counters */
    uint64_t h = gmk_ld_rlx64(&s->head);
    for (;;) {
        gmk_st_rlx32(&s->next[last], (uint32_t)h); /* the chain's bottom onto the current top */
        uint64_t seen = gmk_cas64(&s->head, h, gmk_slab_word_(h, first)); /* F1 */
        if (seen == h)
            return n;
        h = seen;
    }
}

/* Blocks allocated and not freed (a snapshot). */
GMK_DEV_INLINE uint64_t gmk_slab_in_use(const gmk_slab_t *s) { return gmk_ld_rlx64(&s->in_use); }

/* The highest in_use so far. */
GMK_DEV_INLINE uint64_t gmk_slab_hwm(const gmk_slab_t *s) { return gmk_ld_rlx64(&s->hwm); }

/* Allocations that found the slab empty. */
GMK_DEV_INLINE uint64_t gmk_slab_fails(const gmk_slab_t *s) { return gmk_ld_rlx64(&s->fails); }

#endif /* GMK_SLAB_H */
