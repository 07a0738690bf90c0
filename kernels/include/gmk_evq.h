/*
 * gmk_evq.h — the per-worker event queue of GMK/gpu (GMK.md [S5], [S6],
 * [G1], [G2]): tasks that become runnable at a logical time (the kernel's
 * clock, a uint64 of nanoseconds read by the owner) — timers, retries with
 * backoff, deferred deliveries. Host C and CUDA (gmk_dev.h); tested on the
 * host under threads by kernels/hosttest.
 *
 * Owner: the worker's lead thread, the only caller of gmk_evq_pop_due and
 * gmk_evq_next_due. Posters: any thread of any worker, the owner included
 * (a handler re-arming its own timer).
 *
 * Two parts, both in device memory and both of capacity entries:
 *
 *   inbox  a bounded ring of cells {seq, due, task}: posters put events here.
 *   heap   a binary min-heap of entries {due, seq, task}, ordered by
 *          (due, seq), private to the owner, who moves inbox cells into it at
 *          the start of every pop_due / next_due and pops what is due.
 *
 * The heap's seq is the event's inbox position, unique and increasing in
 * post order, so the order is total: events with equal due fire in post
 * order (the order of their inbox reservations — for one poster, its program
 * order). pop_due never returns an event whose due is later than now.
 *
 * THE INBOX PROTOCOL (cells[p & mask].seq == p: free for the poster of
 * position p; == p + 1: holds p's event; the owner frees it for the next lap
 * with p + capacity, as in gmk_mpmc.h).
 *
 *   count is the number of events posted and not yet popped, inbox and heap
 *   together; it never exceeds capacity. A poster reserves a unit of it first
 *   (a CAS from n to n + 1 while n < capacity; at capacity the post fails with
 *   GMK_EVQ_FULL), then a position p (fetch-add on tail), then writes its cell and
 *   store-releases seq = p + 1. The owner drains cells in position order while
 *   their seq says full, pushes each into the heap and store-releases the cell
 *   free; pop_due returns the units of the events it popped with one
 *   fetch-add per call.
 *
 *   Posting never waits for the owner (which matters: the owner may be the
 *   poster, and a GPU block cannot wait on its own lead thread). The cell of
 *   position p is always already free when p is reserved: otherwise the owner
 *   has not drained position p - capacity, so none of the capacity events at
 *   positions p - capacity .. p - 1 has been popped, and with p's own event
 *   that is capacity + 1 units held at once — but count never admits more than
 *   capacity. In memory-model words: some unit of those positions was returned
 *   (a release fetch-add, sequenced after the owner's release of cell
 *   p - capacity) before the last of their reservations (an acquire CAS) in
 *   count's modification order, and tail's fetch-adds chain that
 *   reservation to p's poster. The wait loop in gmk_evq_post therefore never
 *   iterates; it is there so a broken invariant shows up as a hang in the
 *   tests rather than as a silently overwritten event.
 *
 *   The heap cannot overflow: heap entries plus undrained cells <= count <=
 *   capacity. Draining never waits either: a cell whose poster has reserved
 *   but not yet published it stops the drain there (keeping post order), and
 *   the next pop_due continues.
 *
 * MEMORY ORDERING
 *   E1. A poster writes cell.due and cell.task, then store-releases cell.seq.
 *   E2. The owner load-acquires cell.seq, then reads due and task (E1 -> E2).
 *   E3. The owner copies the cell out, then store-releases cell.seq free.
 *   E4. The next lap's poster acquires through count and tail (above) before
 *       it writes the cell (E3 -> E4), so a cell is never overwritten while
 *       the owner reads it.
 *   Heap and head are owner-only: plain accesses.
 *
 * Layout: tail and count on one 128-byte line (a post writes both; the owner
 * touches count once per pop_due), the read-only geometry on a second, the
 * owner's state on a third.
 */
#ifndef GMK_EVQ_H
#define GMK_EVQ_H

#include "gmk_dev.h"
#include "gmk_task.h"

#define GMK_EVQ_FULL (-100)          /* gmk_evq_post: the queue is full (GMK_CHAN_FULL, [T4]) */
#define GMK_EVQ_NEVER (~(uint64_t)0) /* gmk_evq_next_due of an empty queue */
#define GMK_EVQ_DEFAULT_CAPACITY 65536u /* [S5] */
#define GMK_EVQ_DEFAULT_DRAIN 256u      /* [S5]: events fired per check at most (pop_due's max) */

/* An inbox cell: its sequence word, the due time, the task — one 64-byte line. */
typedef struct gmk_evq_cell {
    GMK_ALIGNAS(16) uint64_t seq;
    uint64_t due;
    gmk_task_t task;
} gmk_evq_cell_t;

/* A heap entry: the key (due, seq) and the task — one 64-byte line. */
typedef struct gmk_evq_ent {
    GMK_ALIGNAS(16) uint64_t due;
    uint64_t seq; /* the inbox position: post order */
    gmk_task_t task;
} gmk_evq_ent_t;

GMK_STATIC_ASSERT(sizeof(gmk_evq_cell_t) == 64, "an inbox cell is one 64-byte line");
GMK_STATIC_ASSERT(sizeof(gmk_evq_ent_t) == 64, "a heap entry is one 64-byte line");

typedef struct gmk_evq {
    /* Line 0: posters (fetch-adds) and the owner (count, once per pop_due). */
    GMK_ALIGNAS(128) uint64_t tail; /* inbox positions reserved */
    uint64_t count;                 /* events posted, not popped: <= capacity */
    uint8_t _pad0[128 - 16];

    /* Line 1: geometry, written by gmk_evq_init only. */
    gmk_evq_cell_t *inbox; /* capacity cells */
    gmk_evq_ent_t *heap;   /* capacity entries */
    uint64_t mask;         /* capacity - 1; capacity a power of two */
    uint8_t _pad1[128 - 24];

    /* Line 2: the owner's. */
    uint64_t head; /* next inbox position to drain */
    uint64_t len;  /* heap entries */
    uint8_t _pad2[128 - 16];
} gmk_evq_t;

GMK_STATIC_ASSERT(sizeof(gmk_evq_t) == 384, "gmk_evq_t is three 128-byte lines");

/*
 * Prepare an empty queue over inbox and heap, capacity entries each (a power
 * of two). Not concurrent: run it before the queue is shared.
 */
GMK_DEV_INLINE void gmk_evq_init(gmk_evq_t *e, gmk_evq_cell_t *inbox, gmk_evq_ent_t *heap,
                                 uint32_t capacity) {
    e->tail = 0;
    e->count = 0;
    e->inbox = inbox;
    e->heap = heap;
    e->mask = (uint64_t)capacity - 1;
    e->head = 0;
    e->len = 0;
    for (uint64_t i = 0; i < capacity; i++)
        inbox[i].seq = i;
}

GMK_DEV_INLINE uint64_t gmk_evq_capacity(const gmk_evq_t *e) { return e->mask + 1; }

/*
 * Queue *t to fire at due. Returns 0, or GMK_EVQ_FULL (nothing queued) when
 * capacity events are already waiting. Any thread, the owner included; never
 * waits for the owner.
 */
GMK_DEV_INLINE int gmk_evq_post(gmk_evq_t *e, const gmk_task_t *t, uint64_t due) {
    /* Reserve a unit of count with a CAS that only succeeds below capacity:
     * a refused post writes nothing. (An add-then-undo would let thousands of
     * refused posts hold count above capacity between their add and their
     * undo, refusing everyone: a livelock seen on an H100 with 16k posters.) */
    uint64_t n = gmk_ld_acq64(&e->count);
    for (;;) {
        if (n > e->mask)
            return GMK_EVQ_FULL;
        uint64_t seen = gmk_cas64(&e->count, n, n + 1);
        if (seen == n)
            break;
        n = seen;
    }
    uint64_t p = gmk_faa64(&e->tail, 1);
    gmk_evq_cell_t *c = &e->inbox[p & e->mask];
    while (gmk_ld_acq64(&c->seq) != p) /* never iterates: see THE INBOX PROTOCOL */
        gmk_pause();
    c->due = due;
    c->task = *t;
    gmk_st_rel64(&c->seq, p + 1); /* E1 */
    return 0;
}

/* (due, seq) order of the heap. */
GMK_DEV_INLINE int gmk_evq_less_(uint64_t due, uint64_t seq, const gmk_evq_ent_t *b) {
    return due < b->due || (due == b->due && seq < b->seq);
}

/* Owner: insert into the heap (the hole method: one copy per level). */
GMK_DEV_INLINE void gmk_evq_heap_push_(gmk_evq_t *e, uint64_t due, uint64_t seq, const gmk_task_t *t) {
    gmk_evq_ent_t *h = e->heap;
    uint64_t i = e->len++;
    while (i > 0) {
        uint64_t parent = (i - 1) / 2;
        if (!gmk_evq_less_(due, seq, &h[parent]))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i].due = due;
    h[i].seq = seq;
    h[i].task = *t;
}

/* Owner: remove the root into *out; the heap must not be empty. */
GMK_DEV_INLINE void gmk_evq_heap_pop_(gmk_evq_t *e, gmk_task_t *out) {
    gmk_evq_ent_t *h = e->heap;
    *out = h[0].task;
    uint64_t n = --e->len;
    if (n == 0)
        return;
    /* The last entry, h[n], sinks from the root: smaller children move up
     * into the hole. Every write is below n, so h[n] stays intact until the
     * final copy; keys are unique, so there are no ties to break. */
    uint64_t i = 0;
    for (;;) {
        uint64_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && gmk_evq_less_(h[c + 1].due, h[c + 1].seq, &h[c]))
            c++;
        if (!gmk_evq_less_(h[c].due, h[c].seq, &h[n]))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = h[n];
}

/* Owner: move every published inbox cell into the heap, in position order. */
GMK_DEV_INLINE void gmk_evq_drain_(gmk_evq_t *e) {
    uint64_t p = e->head;
    for (;;) {
        gmk_evq_cell_t *c = &e->inbox[p & e->mask];
        /* Not yet published (or nothing posted): stop here, keep post order. */
        if (gmk_ld_acq64(&c->seq) != p + 1) /* E2 */
            break;
        if (e->len > e->mask) /* cannot happen (count bounds it); never overrun the heap */
            break;
        gmk_evq_heap_push_(e, c->due, p, &c->task);
        gmk_st_rel64(&c->seq, p + e->mask + 1); /* E3 */
        p++;
    }
    e->head = p;
}

/*
 * Owner: move up to max events with due <= now into out, in (due, post)
 * order, and return how many. Events due later stay queued. The worker loop
 * calls it once per iteration with max = GMK_EVQ_DEFAULT_DRAIN ([S5], [S6]).
 */
GMK_DEV_INLINE uint32_t gmk_evq_pop_due(gmk_evq_t *e, uint64_t now, gmk_task_t *out, uint32_t max) {
    gmk_evq_drain_(e);
    uint32_t n = 0;
    while (n < max && e->len > 0 && e->heap[0].due <= now)
        gmk_evq_heap_pop_(e, &out[n++]);
    if (n > 0)
        gmk_faa64(&e->count, (uint64_t)0 - n); /* return the units: posters may reuse them */
    return n;
}

/* Owner: the earliest due time queued, or GMK_EVQ_NEVER when none is. */
GMK_DEV_INLINE uint64_t gmk_evq_next_due(gmk_evq_t *e) {
    gmk_evq_drain_(e);
    return e->len > 0 ? e->heap[0].due : GMK_EVQ_NEVER;
}

/* Events posted and not yet popped (a snapshot). Any thread. */
GMK_DEV_INLINE uint64_t gmk_evq_len(const gmk_evq_t *e) { return gmk_ld_acq64(&e->count); }

#endif /* GMK_EVQ_H */
