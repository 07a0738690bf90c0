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
 *
 * LL rings (GMK_BRIDGE_LL) use gmk_bridge_ll_stage / gmk_bridge_ll_publish on
 * the producer side and gmk_bridge_ll_poll / gmk_bridge_release on the
 * consumer side (below), with the same attach functions and private state.
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
    uint64_t start_seq;  /* the ring's start_seq (LL: tells a first-lap slot) */
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

/* Claim slot position p->tail and, for a payload (len == t->payload_len
 * bytes), its staging bytes, copying the payload in: the room checks of P2,
 * shared by both slot formats. *stage_pos gets the staging position (0 for an
 * inline task). The caller writes the slot and advances tail and seq. */
GMK_BRIDGE_INLINE int gmk_bridge_claim_(gmk_bridge_prod_t *p, const gmk_task_t *t, const unsigned char *payload,
                                        uint64_t *stage_pos) {
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
    *stage_pos = pos;
    return GMK_BRIDGE_OK;
}

/* Stage one task (not yet visible). The payload (len == t->payload_len bytes)
 * is copied into the staging area. */
GMK_BRIDGE_INLINE int gmk_bridge_stage_task(gmk_bridge_prod_t *p, const gmk_task_t *t,
                                            const unsigned char *payload) {
    uint64_t pos;
    int rc = gmk_bridge_claim_(p, t, payload, &pos);
    if (rc != GMK_BRIDGE_OK)
        return rc;
    gmk_bridge_slot_t *s = gmk_bridge_slot(p->r, p->tail);
    s->task = *t;
    s->seq = p->seq++;
    s->stage_pos = pos;
    p->tail++;
    return GMK_BRIDGE_OK;
}

/* The producer's side of the wake line: the stores that published (slot
 * words, tail) before the load of cons_waiting, then ring the bell when the
 * consumer sleeps or is about to. */
GMK_BRIDGE_INLINE void gmk_bridge_wake_line_(gmk_bridge_ring_t *r, int *wake) {
    GMK_FENCE_SEQ_CST();
    if (GMK_LOAD_RELAXED(&r->cons_waiting)) {
        GMK_FETCH_ADD(&r->cons_bell, 1u);
        *wake = 1;
    }
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
    gmk_bridge_wake_line_(r, wake);
    return k;
}

/* Attach the consumer of r; the ring must be quiescent on the consumer side. */
GMK_BRIDGE_INLINE void gmk_bridge_cons_attach(gmk_bridge_cons_t *c, gmk_bridge_ring_t *r) {
    c->r = r;
    c->head = GMK_LOAD_RELAXED(&r->head);
    c->seq = GMK_LOAD_RELAXED(&r->cons_seq);
    c->stage_head = GMK_LOAD_RELAXED(&r->stage_head);
    c->releases = GMK_LOAD_RELAXED(&r->releases);
    c->start_seq = r->start_seq;
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

/*
 * LL rings (gmk_bridge.h, LL RINGS). The producer writes a slot's words as it
 * stages it, so a polling consumer sees the task at once; gmk_bridge_ll_publish
 * only updates the telemetry words and tail (relaxed) and rings the wake line.
 * The consumer polls the slot at head for the expected tag instead of loading
 * tail, and releases with gmk_bridge_release (C2 unchanged).
 */

/* Whether t needs the extension line (words 8-15) to cross whole. */
GMK_BRIDGE_INLINE int gmk_bridge_ll_needs_ext(const gmk_task_t *t) {
    return t->payload != 0 || t->payload_len != 0 || t->yield_count != 0 || t->_pad != 0;
}

/* Write t (staging position pos) into slot s for seq: the extension line
 * first when needed, then words 7..0. Each word is one 8-byte store (L1); the
 * order is a courtesy, not a requirement. */
GMK_BRIDGE_INLINE void gmk_bridge_ll_write(gmk_bridge_ll_slot_t *s, const gmk_task_t *t, uint64_t pos,
                                           uint64_t seq) {
    uint32_t tag = GMK_BRIDGE_LL_TAG(seq), flags = t->flags;
    if (gmk_bridge_ll_needs_ext(t)) {
        flags |= GMK_BRIDGE_LL_EXT;
        GMK_STORE_RELAXED(&s->w[15], GMK_BRIDGE_LL_WORD(tag, 0));
        GMK_STORE_RELAXED(&s->w[14], GMK_BRIDGE_LL_WORD(tag, 0));
        GMK_STORE_RELAXED(&s->w[13], GMK_BRIDGE_LL_WORD(tag, pos >> 32));
        GMK_STORE_RELAXED(&s->w[12], GMK_BRIDGE_LL_WORD(tag, pos));
        GMK_STORE_RELAXED(&s->w[11], GMK_BRIDGE_LL_WORD(tag, t->yield_count | (uint32_t)t->_pad << 16));
        GMK_STORE_RELAXED(&s->w[10], GMK_BRIDGE_LL_WORD(tag, t->payload_len));
        GMK_STORE_RELAXED(&s->w[9], GMK_BRIDGE_LL_WORD(tag, t->payload >> 32));
        GMK_STORE_RELAXED(&s->w[8], GMK_BRIDGE_LL_WORD(tag, t->payload));
    }
    GMK_STORE_RELAXED(&s->w[7], GMK_BRIDGE_LL_WORD(tag, t->meta1 >> 32));
    GMK_STORE_RELAXED(&s->w[6], GMK_BRIDGE_LL_WORD(tag, t->meta1));
    GMK_STORE_RELAXED(&s->w[5], GMK_BRIDGE_LL_WORD(tag, t->meta0 >> 32));
    GMK_STORE_RELAXED(&s->w[4], GMK_BRIDGE_LL_WORD(tag, t->meta0));
    GMK_STORE_RELAXED(&s->w[3], GMK_BRIDGE_LL_WORD(tag, t->seq));
    GMK_STORE_RELAXED(&s->w[2], GMK_BRIDGE_LL_WORD(tag, t->channel));
    GMK_STORE_RELAXED(&s->w[1], GMK_BRIDGE_LL_WORD(tag, flags | (uint32_t)t->tenant << 16));
    GMK_STORE_RELAXED(&s->w[0], GMK_BRIDGE_LL_WORD(tag, t->type));
}

/* Stage one task into an LL ring: visible to a polling consumer as soon as
 * its last word lands. The payload is copied into staging first and ordered
 * before the slot words (L2). GMK_BRIDGE_E_CORRUPT: t->flags carries
 * GMK_BRIDGE_LL_EXT, which the LL format reserves. */
GMK_BRIDGE_INLINE int gmk_bridge_ll_stage(gmk_bridge_prod_t *p, const gmk_task_t *t, const unsigned char *payload) {
    uint64_t pos;
    if (t->flags & GMK_BRIDGE_LL_EXT)
        return GMK_BRIDGE_E_CORRUPT;
    int rc = gmk_bridge_claim_(p, t, payload, &pos);
    if (rc != GMK_BRIDGE_OK)
        return rc;
    if (t->payload_len > 0)
        GMK_FENCE_RELEASE(); /* L2: staging bytes before the slot words */
    gmk_bridge_ll_write(gmk_bridge_ll_slot(p->r, p->tail), t, pos, p->seq);
    p->seq++;
    p->tail++;
    return GMK_BRIDGE_OK;
}

/* Store the telemetry words and tail of everything staged (relaxed: the
 * slots are already visible, L4), then run the wake line. Returns how many
 * tasks the call covered; *wake as gmk_bridge_publish. */
GMK_BRIDGE_INLINE uint64_t gmk_bridge_ll_publish(gmk_bridge_prod_t *p, int *wake) {
    gmk_bridge_ring_t *r = p->r;
    uint64_t k = p->tail - GMK_LOAD_RELAXED(&r->tail);
    *wake = 0;
    if (k == 0)
        return 0;
    GMK_STORE_RELAXED(&r->stage_tail, p->stage_tail);
    GMK_STORE_RELAXED(&r->prod_seq, p->seq);
    GMK_STORE_RELAXED(&r->transfers, ++p->transfers);
    GMK_STORE_RELAXED(&r->tail, p->tail);
    gmk_bridge_wake_line_(r, wake);
    return k;
}

/* What a word's tag means to a consumer expecting want (L3): 1 the word is
 * new; 0 not yet written (old, the tag a stale word carries); otherwise the
 * error: GAP for another seq's tag, CORRUPT for a word that is no tag. */
GMK_BRIDGE_INLINE int gmk_bridge_ll_tag_(uint32_t tag, uint32_t want, uint32_t old) {
    if (tag == want)
        return 1;
    if (tag == old)
        return 0;
    return (tag & GMK_BRIDGE_LL_TAG_BIT) ? GMK_BRIDGE_E_GAP : GMK_BRIDGE_E_CORRUPT;
}

/* The extension line's rule (L3): a word not yet rewritten carries 0 or the
 * tag of an earlier lap of this slot, seq - k*capacity for some k >= 1. */
GMK_BRIDGE_INLINE int gmk_bridge_ll_ext_tag_(uint32_t tag, uint32_t want, uint32_t cap) {
    uint32_t back = (want - tag) & ~GMK_BRIDGE_LL_TAG_BIT;
    if (tag == want)
        return 1;
    if (tag == 0 || ((tag & GMK_BRIDGE_LL_TAG_BIT) && (back & (cap - 1)) == 0 && back < (1u << 30)))
        return 0;
    return (tag & GMK_BRIDGE_LL_TAG_BIT) ? GMK_BRIDGE_E_GAP : GMK_BRIDGE_E_CORRUPT;
}

/* Read the slot at c->head for c->seq into *t and *stage_pos: 1 when every
 * word it needs is new, 0 when one is not yet, or an error code. */
GMK_BRIDGE_INLINE int gmk_bridge_ll_read_(gmk_bridge_cons_t *c, gmk_task_t *t, uint64_t *stage_pos) {
    gmk_bridge_ring_t *r = c->r;
    gmk_bridge_ll_slot_t *s = gmk_bridge_ll_slot(r, c->head);
    uint32_t cap = r->capacity, want = GMK_BRIDGE_LL_TAG(c->seq);
    uint32_t old = c->seq - c->start_seq < cap ? 0u : GMK_BRIDGE_LL_TAG(c->seq - cap);
    uint32_t d[GMK_BRIDGE_LL_WORDS] = {0};
    for (uint32_t i = 0; i < GMK_BRIDGE_LL_HEAD_WORDS; i++) {
        uint64_t w = GMK_LOAD_RELAXED(&s->w[i]);
        int rc = gmk_bridge_ll_tag_((uint32_t)(w >> 32), want, old);
        if (rc != 1)
            return rc;
        d[i] = (uint32_t)w;
    }
    if (d[GMK_BRIDGE_LL_W_FLAGS] & GMK_BRIDGE_LL_EXT) {
        for (uint32_t i = GMK_BRIDGE_LL_HEAD_WORDS; i < GMK_BRIDGE_LL_WORDS; i++) {
            uint64_t w = GMK_LOAD_RELAXED(&s->w[i]);
            int rc = gmk_bridge_ll_ext_tag_((uint32_t)(w >> 32), want, cap);
            if (rc != 1)
                return rc;
            d[i] = (uint32_t)w;
        }
    }
    t->type = d[0];
    t->flags = (uint16_t)(d[1] & ~GMK_BRIDGE_LL_EXT);
    t->tenant = (uint16_t)(d[1] >> 16);
    t->channel = d[2];
    t->seq = d[3];
    t->meta0 = d[4] | (uint64_t)d[5] << 32;
    t->meta1 = d[6] | (uint64_t)d[7] << 32;
    t->payload = d[8] | (uint64_t)d[9] << 32;
    t->payload_len = d[10];
    t->yield_count = (uint16_t)d[11];
    t->_pad = (uint16_t)(d[11] >> 16);
    *stage_pos = d[12] | (uint64_t)d[13] << 32;
    return 1;
}

/* Poll the next task of an LL ring: as gmk_bridge_peek (1, 0 when the slot is
 * not complete yet, or an error code; *payload valid until the release), but
 * by the slot's tags instead of tail (L3). */
GMK_BRIDGE_INLINE int gmk_bridge_ll_poll(gmk_bridge_cons_t *c, gmk_task_t *t, const unsigned char **payload) {
    gmk_bridge_ring_t *r = c->r;
    uint64_t pos;
    int rc = gmk_bridge_ll_read_(c, t, &pos);
    if (rc == 0) {
        if (!(GMK_LOAD_ACQUIRE(&r->flags) & GMK_BRIDGE_CLOSED))
            return 0;
        rc = gmk_bridge_ll_read_(c, t, &pos); /* drain what preceded CLOSED */
        if (rc == 0)
            return GMK_BRIDGE_E_CLOSED;
    }
    if (rc < 0)
        return rc;
    *payload = 0;
    if (t->payload_len > 0) {
        uint64_t size = r->staging_size, off = pos & (size - 1);
        if ((uint64_t)t->payload_len > size / 2 || off + t->payload_len > size)
            return GMK_BRIDGE_E_CORRUPT;
        GMK_FENCE_ACQUIRE(); /* L3: the slot words before the staging bytes */
        *payload = gmk_bridge_stage(r, pos);
        c->stage_head = pos + gmk_bridge_stage_round(t->payload_len);
    }
    c->head++;
    c->seq++;
    return 1;
}

#endif /* GMK_BRIDGE_RING_H */
