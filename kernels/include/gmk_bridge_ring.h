/*
 * gmk_bridge_ring.h — reference producer and consumer of a bridge ring
 * (gmk_bridge.h), for host C and CUDA device code: the protocol of
 * gmk_bridge.h's MEMORY ORDERING section in code, with no libc call. The Go
 * implementation is bridge/producer.go and bridge/consumer.go; the cgo test
 * (bridge/internal/abicheck) runs these functions against Go's, both ways.
 *
 * One producer and one consumer per ring, each with private state in its own
 * memory (gmk_bridge_prod_t / gmk_bridge_cons_t); only the ring header, slots
 * and staging area are shared. Stage tasks, then publish them with one release
 * store; peek tasks, then release them with one release store.
 *
 * Sleeping is the host's business: publish/release report whether the peer
 * asked to be woken (its bell was bumped) and the caller issues the futex wake.
 */
#ifndef GMK_BRIDGE_RING_H
#define GMK_BRIDGE_RING_H

#include "gmk_bridge.h"

/* Return codes of the helpers below (local to this header). */
#define GMK_BRIDGE_OK 0
#define GMK_BRIDGE_E_FULL (-100)     /* no slot or staging space now: retry (CHAN_FULL) */
#define GMK_BRIDGE_E_CLOSED (-101)   /* the ring is closed (CHAN_CLOSED) */
#define GMK_BRIDGE_E_TOO_LARGE (-110) /* payload larger than staging_size/2: never fits */
#define GMK_BRIDGE_E_GAP (-111)      /* slot seq != expected: lost or duplicated task */
#define GMK_BRIDGE_E_CORRUPT (-112)  /* slot references bytes outside the staging area */

typedef struct gmk_bridge_prod {
    gmk_bridge_ring_t *r;
    uint64_t tail;             /* next position to stage (>= published tail) */
    uint64_t head_cache;       /* last head loaded */
    uint64_t stage_tail;       /* next staging byte to allocate */
    uint64_t stage_head_cache; /* last stage_head loaded */
    uint64_t seq;              /* seq of the next staged task */
    uint64_t transfers;        /* batches published */
} gmk_bridge_prod_t;

typedef struct gmk_bridge_cons {
    gmk_bridge_ring_t *r;
    uint64_t head;       /* next position to peek (>= released head) */
    uint64_t tail_cache; /* last tail loaded */
    uint64_t seq;        /* seq expected next */
    uint64_t stage_head; /* staging released up to here with the next release */
    uint64_t releases;   /* batches released */
} gmk_bridge_cons_t;

/* Attach the producer of r; the ring must be quiescent on the producer side. */
GMK_BRIDGE_INLINE void gmk_bridge_prod_attach(gmk_bridge_prod_t *p, gmk_bridge_ring_t *r) {
    p->r = r;
    p->tail = GMK_LOAD_RELAXED(&r->tail);
    p->stage_tail = GMK_LOAD_RELAXED(&r->stage_tail);
    p->seq = GMK_LOAD_RELAXED(&r->prod_seq);
    p->transfers = GMK_LOAD_RELAXED(&r->transfers);
    p->head_cache = GMK_LOAD_ACQUIRE(&r->head);
    p->stage_head_cache = GMK_LOAD_ACQUIRE(&r->stage_head);
}

/* Stage one task (not yet visible). The payload (len == t->payload_len bytes)
 * is copied into the staging area. */
GMK_BRIDGE_INLINE int gmk_bridge_stage_task(gmk_bridge_prod_t *p, const gmk_task_t *t,
                                            const unsigned char *payload) {
    gmk_bridge_ring_t *r = p->r;
    uint64_t cap = r->capacity, pos = 0;
    if (GMK_LOAD_ACQUIRE(&r->flags) & GMK_BRIDGE_CLOSED)
        return GMK_BRIDGE_E_CLOSED;
    if (p->tail - p->head_cache >= cap) {
        p->head_cache = GMK_LOAD_ACQUIRE(&r->head); /* P2 */
        if (p->tail - p->head_cache >= cap)
            return GMK_BRIDGE_E_FULL;
    }
    if (t->payload_len > 0) {
        uint64_t size = r->staging_size, need = gmk_bridge_stage_round(t->payload_len);
        if ((uint64_t)t->payload_len > size / 2)
            return GMK_BRIDGE_E_TOO_LARGE;
        pos = p->stage_tail;
        if ((pos & (size - 1)) + need > size)
            pos += size - (pos & (size - 1)); /* skip to the area start */
        if (pos + need - p->stage_head_cache > size) {
            p->stage_head_cache = GMK_LOAD_ACQUIRE(&r->stage_head); /* P2 */
            if (pos + need - p->stage_head_cache > size)
                return GMK_BRIDGE_E_FULL;
        }
        unsigned char *dst = gmk_bridge_stage(r, pos);
        for (uint32_t i = 0; i < t->payload_len; i++)
            dst[i] = payload[i];
        p->stage_tail = pos + need;
    }
    gmk_bridge_slot_t *s = gmk_bridge_slot(r, p->tail);
    s->task = *t;
    s->seq = p->seq++;
    s->stage_pos = pos;
    p->tail++;
    return GMK_BRIDGE_OK;
}

/* Publish every staged task with one release store (P1). Returns how many;
 * *wake is set to 1 when the consumer sleeps and must be woken on cons_bell. */
GMK_BRIDGE_INLINE uint64_t gmk_bridge_publish(gmk_bridge_prod_t *p, int *wake) {
    gmk_bridge_ring_t *r = p->r;
    uint64_t k = p->tail - GMK_LOAD_RELAXED(&r->tail);
    *wake = 0;
    if (k == 0)
        return 0;
    GMK_STORE_RELEASE(&r->stage_tail, p->stage_tail);
    GMK_STORE_RELEASE(&r->prod_seq, p->seq);
    GMK_STORE_RELEASE(&r->transfers, ++p->transfers);
    GMK_STORE_RELEASE(&r->tail, p->tail);
    GMK_FENCE_SEQ_CST(); /* tail store before the waiting load (wake line) */
    if (GMK_LOAD_RELAXED(&r->cons_waiting)) {
        GMK_FETCH_ADD(&r->cons_bell, 1u);
        *wake = 1;
    }
    return k;
}

/* Attach the consumer of r; the ring must be quiescent on the consumer side. */
GMK_BRIDGE_INLINE void gmk_bridge_cons_attach(gmk_bridge_cons_t *c, gmk_bridge_ring_t *r) {
    c->r = r;
    c->head = GMK_LOAD_RELAXED(&r->head);
    c->seq = GMK_LOAD_RELAXED(&r->cons_seq);
    c->stage_head = GMK_LOAD_RELAXED(&r->stage_head);
    c->releases = GMK_LOAD_RELAXED(&r->releases);
    c->tail_cache = GMK_LOAD_ACQUIRE(&r->tail);
}

/* Peek the next task: copies it to *t and points *payload at its staging bytes
 * (valid until the release). Returns 1, 0 when empty, or an error code. */
GMK_BRIDGE_INLINE int gmk_bridge_peek(gmk_bridge_cons_t *c, gmk_task_t *t,
                                      const unsigned char **payload) {
    gmk_bridge_ring_t *r = c->r;
    if (c->head == c->tail_cache) {
        c->tail_cache = GMK_LOAD_ACQUIRE(&r->tail); /* C1 */
        if (c->head == c->tail_cache) {
            if (!(GMK_LOAD_ACQUIRE(&r->flags) & GMK_BRIDGE_CLOSED))
                return 0;
            c->tail_cache = GMK_LOAD_ACQUIRE(&r->tail); /* drain what preceded CLOSED */
            if (c->head == c->tail_cache)
                return GMK_BRIDGE_E_CLOSED;
        }
    }
    gmk_bridge_slot_t *s = gmk_bridge_slot(r, c->head);
    if (s->seq != c->seq)
        return GMK_BRIDGE_E_GAP;
    *t = s->task;
    *payload = 0;
    if (t->payload_len > 0) {
        uint64_t size = r->staging_size, off = s->stage_pos & (size - 1);
        if ((uint64_t)t->payload_len > size / 2 || off + t->payload_len > size)
            return GMK_BRIDGE_E_CORRUPT;
        *payload = gmk_bridge_stage(r, s->stage_pos);
        c->stage_head = s->stage_pos + gmk_bridge_stage_round(t->payload_len);
    }
    c->head++;
    c->seq++;
    return 1;
}

/* Release every peeked task with one release store (C2). Returns how many;
 * *wake is set to 1 when the producer sleeps and must be woken on prod_bell. */
GMK_BRIDGE_INLINE uint64_t gmk_bridge_release(gmk_bridge_cons_t *c, int *wake) {
    gmk_bridge_ring_t *r = c->r;
    uint64_t k = c->head - GMK_LOAD_RELAXED(&r->head);
    *wake = 0;
    if (k == 0)
        return 0;
    GMK_STORE_RELEASE(&r->stage_head, c->stage_head);
    GMK_STORE_RELEASE(&r->cons_seq, c->seq);
    GMK_STORE_RELEASE(&r->releases, ++c->releases);
    GMK_STORE_RELEASE(&r->head, c->head);
    GMK_FENCE_SEQ_CST(); /* head store before the waiting load (wake line) */
    if (GMK_LOAD_RELAXED(&r->prod_waiting)) {
        GMK_FETCH_ADD(&r->prod_bell, 1u);
        *wake = 1;
    }
    return k;
}

#endif /* GMK_BRIDGE_RING_H */
