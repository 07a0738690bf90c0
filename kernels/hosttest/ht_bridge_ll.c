//go:build cgo

/*
 * ht_bridge_ll.c — single-threaded checks of the LL ring functions of
 * gmk_bridge_ring.h (gmk_bridge.h, LL RINGS; GMK.md [B2], [B3], [B4]), run by
 * ht_bridge_ll after its threaded run. Each writes slot words by hand where
 * the device would write them in another order than the C producer does.
 *
 * Checks, on a ring of 4 slots whose counters start just below 2^32:
 *   - a zeroed slot (first lap) and a slot of the previous lap (tag seq - 4)
 *     poll as 0, never as a task;
 *   - a torn slot — its words restored to the previous lap's, then rewritten
 *     one at a time in an order that puts word 0 and word 1 (announcing the
 *     extension line) first — polls as 0 until its last word lands, then as
 *     the task with its payload intact;
 *   - a word tagged for another seq polls as GAP, a word that is no tag as
 *     CORRUPT, both leaving the consumer where it was; a task carrying the
 *     reserved GMK_BRIDGE_LL_EXT flag is refused;
 *   - gmk_bridge_ll_publish reports a wake when the consumer is waiting and
 *     bumps its bell; after CLOSED the consumer drains, then sees CLOSED.
 */
#define _GNU_SOURCE
#include "ht_bridge.h"

#define LL_CAP 4u
#define LL_STAGING 1024u

/* A task numbered k, with a payload of len bytes (k + j) when len > 0. */
static void ll_task(gmk_task_t *t, unsigned char *buf, uint32_t k, uint32_t len) {
    memset(t, 0, sizeof *t);
    t->type = 9;
    t->tenant = 2;
    t->channel = 0x01000007u;
    t->seq = k;
    t->meta0 = 0x1122334455667788ull + k;
    t->meta1 = ~(uint64_t)k;
    t->payload_len = len;
    t->payload = len ? 0xABC0000000000000ull | k : 0;
    t->yield_count = (uint16_t)(k & 3);
    for (uint32_t j = 0; j < len; j++)
        buf[j] = (unsigned char)(k + j);
}

/* Poll once and check the result: want_rc, and for 1 the task and payload. */
static int ll_expect(ht_run_t *run, gmk_bridge_cons_t *c, int want_rc, const gmk_task_t *want,
                     const unsigned char *want_pl, const char *what) {
    gmk_task_t t;
    const unsigned char *pl;
    uint64_t seq = c->seq;
    int rc = gmk_bridge_ll_poll(c, &t, &pl);
    if (rc != want_rc) {
        ht_fail(run, "LL %s: poll returned %d, want %d", what, rc, want_rc);
        return -1;
    }
    if (rc != 1 && c->seq != seq) {
        ht_fail(run, "LL %s: a refused slot moved the consumer", what);
        return -1;
    }
    if (rc == 1 && (memcmp(&t, want, sizeof t) != 0 || (t.payload_len && memcmp(pl, want_pl, t.payload_len)))) {
        ht_fail(run, "LL %s: task or payload differ (type %u meta0 %llx len %u)", what, t.type,
                (unsigned long long)t.meta0, t.payload_len);
        return -1;
    }
    return 0;
}

/* Stage, publish, poll and release task k (with len payload bytes). */
static int ll_roundtrip(ht_run_t *run, gmk_bridge_prod_t *p, gmk_bridge_cons_t *c, uint32_t k, uint32_t len) {
    gmk_task_t t;
    unsigned char buf[64];
    int wake;
    ll_task(&t, buf, k, len);
    if (gmk_bridge_ll_stage(p, &t, buf) != GMK_BRIDGE_OK) {
        ht_fail(run, "LL: stage of task %u failed", k);
        return -1;
    }
    gmk_bridge_ll_publish(p, &wake);
    if (ll_expect(run, c, 1, &t, buf, "round trip"))
        return -1;
    gmk_bridge_release(c, &wake);
    return 0;
}

/* The torn slot: task k, written over the previous lap's words one word at
 * a time. */
static int ll_torn(ht_run_t *run, gmk_bridge_prod_t *p, gmk_bridge_cons_t *c, uint32_t k) {
    static const int order[GMK_BRIDGE_LL_WORDS] = {0, 1, 9, 15, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14};
    gmk_bridge_ll_slot_t *s = gmk_bridge_ll_slot(p->r, p->tail), old = *s, fresh;
    gmk_task_t t;
    unsigned char buf[64];
    int wake;
    ll_task(&t, buf, k, 40);
    if (gmk_bridge_ll_stage(p, &t, buf) != GMK_BRIDGE_OK) {
        ht_fail(run, "LL torn: stage failed");
        return -1;
    }
    gmk_bridge_ll_publish(p, &wake);
    fresh = *s;
    *s = old;
    for (uint32_t i = 0; i < GMK_BRIDGE_LL_WORDS; i++) {
        s->w[order[i]] = fresh.w[order[i]];
        int last = i == GMK_BRIDGE_LL_WORDS - 1;
        if (ll_expect(run, c, last, &t, buf, last ? "torn slot, complete" : "torn slot"))
            return -1;
    }
    gmk_bridge_release(c, &wake);
    return 0;
}

/* A foreign tag in word i: GAP (another seq's tag) or CORRUPT (no tag). */
static int ll_foreign(ht_run_t *run, gmk_bridge_cons_t *c, uint32_t i, uint32_t tag, int want_rc) {
    gmk_bridge_ll_slot_t *s = gmk_bridge_ll_slot(c->r, c->head);
    uint64_t saved = s->w[i];
    s->w[i] = GMK_BRIDGE_LL_WORD(tag, saved);
    int rc = ll_expect(run, c, want_rc, NULL, NULL, "foreign tag");
    s->w[i] = saved;
    return rc;
}

void ht_bridge_ll_checks(ht_run_t *run) {
    uint64_t size = sizeof(gmk_bridge_region_t) + sizeof(gmk_bridge_ring_t) +
                    LL_CAP * sizeof(gmk_bridge_ll_slot_t) + LL_STAGING;
    unsigned char *mem = ht_alloc(size);
    if (!mem) {
        ht_fail(run, "out of memory");
        return;
    }
    gmk_bridge_ring_t *r = ht_bridge_format(mem, size, LL_CAP, LL_STAGING, 1);
    gmk_bridge_prod_t p;
    gmk_bridge_cons_t c;
    gmk_task_t t;
    unsigned char buf[64];
    int wake;
    gmk_bridge_prod_attach(&p, r);
    gmk_bridge_cons_attach(&c, r);
    if (ll_expect(run, &c, 0, NULL, NULL, "zeroed slot"))
        goto out;
    for (uint32_t k = 0; k < LL_CAP; k++) /* one lap, payloads in two slots: old tags to tear against */
        if (ll_roundtrip(run, &p, &c, k, (k & 1) ? 0 : 24))
            goto out;
    if (ll_expect(run, &c, 0, NULL, NULL, "previous lap") || ll_torn(run, &p, &c, LL_CAP) ||
        ll_roundtrip(run, &p, &c, LL_CAP + 1, 0))
        goto out;
    ll_task(&t, buf, 6, 8);
    gmk_bridge_ll_stage(&p, &t, buf);
    if (ll_foreign(run, &c, 3, GMK_BRIDGE_LL_TAG(c.seq + 1), GMK_BRIDGE_E_GAP) ||
        ll_foreign(run, &c, 0, GMK_BRIDGE_LL_TAG(c.seq + LL_CAP), GMK_BRIDGE_E_GAP) ||
        ll_foreign(run, &c, 12, GMK_BRIDGE_LL_TAG(c.seq + 2), GMK_BRIDGE_E_GAP) ||
        ll_foreign(run, &c, 5, 0x1234u, GMK_BRIDGE_E_CORRUPT) ||
        ll_foreign(run, &c, 14, 0x1234u, GMK_BRIDGE_E_CORRUPT))
        goto out;
    t.flags |= GMK_BRIDGE_LL_EXT;
    if (gmk_bridge_ll_stage(&p, &t, buf) != GMK_BRIDGE_E_CORRUPT) {
        ht_fail(run, "LL: a task with the reserved flag was staged");
        goto out;
    }
    r->cons_waiting = 1;
    uint32_t bell = r->cons_bell;
    if (gmk_bridge_ll_publish(&p, &wake) != 1 || !wake || r->cons_bell != bell + 1) {
        ht_fail(run, "LL publish to a waiting consumer: wake %d, bell %u -> %u", wake, bell, r->cons_bell);
        goto out;
    }
    GMK_FETCH_OR(&r->flags, GMK_BRIDGE_CLOSED);
    ll_task(&t, buf, 6, 8);
    if (ll_expect(run, &c, 1, &t, buf, "drain after CLOSED") ||
        ll_expect(run, &c, GMK_BRIDGE_E_CLOSED, NULL, NULL, "drained and closed"))
        goto out;
out:
    free(mem);
}
