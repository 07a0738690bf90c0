/*
 * gmk_mpmc.h — the bounded multi-producer multi-consumer task ring of GMK/gpu
 * (GMK.md [R1], [S3], [G2]): GRQ type buckets, per-worker LQs and the
 * kernel's egress queue are all this ring, in device memory.
 *
 * Batch-claiming design, so one atomic covers a whole batch ([G1]: the lead
 * warp gathers up to 32 tasks with one claim, not 32):
 *
 *   cells[i & mask] carries a sequence word. A cell at position p is free for
 *   the producer of p when seq == p, and full (readable by the consumer of p)
 *   when seq == p + 1; the consumer frees it for the next lap by storing
 *   p + capacity.
 *
 *   push(k): load head (acquire) and tail; reserve n = min(k, free) positions
 *     [t, t+n) with one CAS on tail. For each: wait until seq == p (a consumer
 *     of the previous lap may still be copying the cell out), write the task,
 *     store-release seq = p + 1.
 *   pop(k): load tail (acquire); claim n = min(k, tail - head) positions
 *     [h, h+n) with one CAS on head. For each: wait until seq == p + 1 (its
 *     producer reserved it and may still be writing), copy the task out,
 *     store-release seq = p + capacity.
 *
 *   Why the waits terminate: a reservation is made and filled inside one call
 *   with no blocking in between, and independent thread scheduling (sm_70+)
 *   guarantees the reserving thread makes progress; on the host, threads do.
 *   head never passes a tail value that was observed, so tail - head >= 0.
 *
 * Memory: head and tail each own a 128-byte line (one GPU L2 line, two x86
 * lines), so producers and consumers do not share a line. cells is a device
 * pointer set at init (the structure is not shared with Go; only the tasks in
 * it are gmk_task_t, the ABI record).
 */
#ifndef GMK_MPMC_H
#define GMK_MPMC_H

#include "gmk_dev.h"
#include "gmk_task.h"

/* A cell: sequence word, padding to 16, the 48-byte task — one 64-byte line. */
typedef struct gmk_mpmc_cell {
    GMK_ALIGNAS(16) uint64_t seq;
    uint64_t _pad;
    gmk_task_t task;
} gmk_mpmc_cell_t;

GMK_STATIC_ASSERT(sizeof(gmk_mpmc_cell_t) == 64, "a ring cell is one 64-byte line");

typedef struct gmk_mpmc {
    GMK_ALIGNAS(128) uint64_t tail; /* positions reserved by producers */
    uint8_t _pad0[128 - 8];
    uint64_t head; /* positions claimed by consumers */
    uint8_t _pad1[128 - 8];
    gmk_mpmc_cell_t *cells; /* capacity cells */
    uint64_t mask;          /* capacity - 1; capacity a power of two */
    uint8_t _pad2[128 - 16];
} gmk_mpmc_t;

/* Prepare an empty ring over cells (capacity a power of two). Not concurrent:
 * run it before the ring is shared (host setup or one device thread). */
GMK_DEV_INLINE void gmk_mpmc_init(gmk_mpmc_t *q, gmk_mpmc_cell_t *cells, uint64_t capacity) {
    q->tail = 0;
    q->head = 0;
    q->cells = cells;
    q->mask = capacity - 1;
    for (uint64_t i = 0; i < capacity; i++)
        cells[i].seq = i;
}

GMK_DEV_INLINE uint64_t gmk_mpmc_capacity(const gmk_mpmc_t *q) { return q->mask + 1; }

/* Tasks published or reserved and not yet claimed; a snapshot (racy by nature). */
GMK_DEV_INLINE uint64_t gmk_mpmc_len(const gmk_mpmc_t *q) {
    uint64_t h = gmk_ld_acq64(&q->head), t = gmk_ld_acq64(&q->tail);
    return t > h ? t - h : 0;
}

/* Reserve up to k positions for a producer; returns the first in *pos and the
 * count (0 when full). The caller fills each with gmk_mpmc_put. */
GMK_DEV_INLINE uint64_t gmk_mpmc_reserve(gmk_mpmc_t *q, uint64_t k, uint64_t *pos) {
    uint64_t cap = q->mask + 1;
    uint64_t t = gmk_ld_rlx64(&q->tail);
    for (;;) {
        uint64_t h = gmk_ld_acq64(&q->head);
        if (h > t) { /* our tail is stale: consumers passed it */
            t = gmk_ld_acq64(&q->tail);
            continue;
        }
        uint64_t used = t - h;
        if (used >= cap)
            return 0;
        uint64_t n = gmk_min64(k, cap - used);
        uint64_t seen = gmk_cas64(&q->tail, t, t + n);
        if (seen == t) {
            *pos = t;
            return n;
        }
        t = seen;
    }
}

/* Fill a reserved position and publish it. */
GMK_DEV_INLINE void gmk_mpmc_put(gmk_mpmc_t *q, uint64_t p, const gmk_task_t *t) {
    gmk_mpmc_cell_t *c = &q->cells[p & q->mask];
    while (gmk_ld_acq64(&c->seq) != p)
        gmk_pause();
    c->task = *t;
    gmk_st_rel64(&c->seq, p + 1);
}

/* Claim up to k positions for a consumer; returns the first in *pos and the
 * count (0 when empty). The caller copies each out with gmk_mpmc_take. */
GMK_DEV_INLINE uint64_t gmk_mpmc_claim(gmk_mpmc_t *q, uint64_t k, uint64_t *pos) {
    uint64_t h = gmk_ld_rlx64(&q->head);
    /* An empty queue costs two relaxed loads, no acquire: on a GPU each
     * acquire load invalidates L1 and waits, and idle workers poll empty
     * queues every round. Nothing is read on the strength of these loads. */
    if (gmk_ld_rlx64(&q->tail) == h)
        return 0;
    for (;;) {
        uint64_t t = gmk_ld_acq64(&q->tail);
        if (t <= h) {
            /* Empty, or our head is stale; a fresh head settles which. */
            uint64_t h2 = gmk_ld_acq64(&q->head);
            if (h2 == h)
                return 0;
            h = h2;
            continue;
        }
        uint64_t n = gmk_min64(k, t - h);
        uint64_t seen = gmk_cas64(&q->head, h, h + n);
        if (seen == h) {
            *pos = h;
            return n;
        }
        h = seen;
    }
}

/* Copy a claimed position out and free its cell for the next lap. */
GMK_DEV_INLINE void gmk_mpmc_take(gmk_mpmc_t *q, uint64_t p, gmk_task_t *t) {
    gmk_mpmc_cell_t *c = &q->cells[p & q->mask];
    while (gmk_ld_acq64(&c->seq) != p + 1)
        gmk_pause();
    *t = c->task;
    gmk_st_rel64(&c->seq, p + q->mask + 1);
}

/* Push up to n tasks; returns how many went in (fewer when full). */
GMK_DEV_INLINE uint64_t gmk_mpmc_push(gmk_mpmc_t *q, const gmk_task_t *ts, uint64_t n) {
    uint64_t pos = 0, got = gmk_mpmc_reserve(q, n, &pos);
    for (uint64_t i = 0; i < got; i++)
        gmk_mpmc_put(q, pos + i, &ts[i]);
    return got;
}

/* Pop up to n tasks into out; returns how many. */
GMK_DEV_INLINE uint64_t gmk_mpmc_pop(gmk_mpmc_t *q, gmk_task_t *out, uint64_t n) {
    uint64_t pos = 0, got = gmk_mpmc_claim(q, n, &pos);
    for (uint64_t i = 0; i < got; i++)
        gmk_mpmc_take(q, pos + i, &out[i]);
    return got;
}

#endif /* GMK_MPMC_H */
