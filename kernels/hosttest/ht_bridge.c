//go:build cgo

/*
 * ht_bridge.c — gmk_bridge_ring.h, the C producer and consumer of a bridge
 * ring (GMK.md [B2], [B3], [B4]), under two threads: the shape of the device
 * side of the bridge, with malloc'd memory standing in for the pinned region.
 *
 * cfg: items (tasks), capacity (slots, a power of two), block (staging bytes,
 * a power of two). res: ops = tasks received, full = stage attempts refused
 * for want of slots or staging, empty = peeks that found nothing, aux =
 * batches published.
 *
 * The region is formatted here as bridge/region.go formats it (header, ring
 * header, slots, staging), with every counter — slot positions, staging
 * positions, sequence numbers — starting just below 2^32.
 *
 * ht_bridge_ll runs the same over an LL ring (GMK_BRIDGE_LL): the producer
 * stages with gmk_bridge_ll_stage (the slot visible at once) and publishes
 * with gmk_bridge_ll_publish (telemetry, tail, wake line), the consumer polls
 * with gmk_bridge_ll_poll; after the same checks it runs the single-threaded
 * LL checks of ht_bridge_ll.c (stale and torn slots, gaps, corruption).
 *
 * Checks:
 *   - single-threaded: a payload larger than staging/2 is refused as
 *     TOO_LARGE and changes nothing;
 *   - one producer thread stages tasks with payloads of random size (a
 *     quarter inline, the rest 1..staging/2 bytes, so the staging area wraps
 *     and skips to its start often) and publishes them in random batches of
 *     1..32; one consumer thread peeks random batches and releases them. Every
 *     task arrives once and in order, with the sequence numbers gapless (a gap
 *     is the consumer's GAP error) and every payload byte intact; the producer
 *     then closes the ring and the consumer drains it and sees CLOSED.
 */
#define _GNU_SOURCE
#include "ht_bridge.h"

#define HT_BRIDGE_POS (0xFFFFFFFFull - 40)            /* first slot position */
#define HT_BRIDGE_STAGE (0x100000000ull - 16 * 100)   /* first staging position: grain-aligned */
#define HT_BRIDGE_SEQ (0xFFFFFFFFull - 5)             /* first sequence number */
#define HT_BRIDGE_BATCH 32

typedef struct bridge_shared {
    ht_run_t *run;
    gmk_bridge_ring_t *r;
    int64_t n;
    uint64_t seed;
    int64_t full, empty, batches, received;
    int ll; /* LL ring: the gmk_bridge_ll_* functions */
} bridge_shared_t;

static int bridge_stage(bridge_shared_t *sh, gmk_bridge_prod_t *p, const gmk_task_t *t, const unsigned char *pl) {
    return sh->ll ? gmk_bridge_ll_stage(p, t, pl) : gmk_bridge_stage_task(p, t, pl);
}

static int64_t bridge_publish(bridge_shared_t *sh, gmk_bridge_prod_t *p) {
    int wake;
    return (sh->ll ? gmk_bridge_ll_publish(p, &wake) : gmk_bridge_publish(p, &wake)) > 0;
}

/* Task k's payload length: a quarter inline, the rest up to staging/2. */
static uint32_t bridge_len(uint64_t seed, int64_t k, uint64_t staging) {
    uint64_t h = ht_mix(seed ^ (uint64_t)k);
    return (h & 3) == 0 ? 0 : (uint32_t)(1 + (h >> 8) % (staging / 2));
}

/* Payload byte j of task k. */
static unsigned char bridge_byte(int64_t k, uint32_t j) {
    return (unsigned char)(ht_mix((uint64_t)k) >> (8 * (j & 7))) ^ (unsigned char)(j >> 3);
}

static void bridge_task(gmk_task_t *t, uint64_t seed, int64_t k, uint64_t staging) {
    memset(t, 0, sizeof *t);
    t->type = 7;
    t->payload_len = bridge_len(seed, k, staging);
    t->payload = 0xABC0000000000000ull | (uint64_t)k; /* the sender's reference: opaque on the wire */
    t->meta0 = (uint64_t)k;
    t->meta1 = ht_mix((uint64_t)k);
}

static void *bridge_producer(void *arg) {
    bridge_shared_t *sh = arg;
    gmk_bridge_ring_t *r = sh->r;
    uint64_t rng = ht_seed(sh->seed, 1), staging = r->staging_size;
    unsigned char *buf = malloc(staging / 2 + 1);
    gmk_bridge_prod_t p;
    if (!buf) {
        ht_fail(sh->run, "out of memory");
        return NULL;
    }
    gmk_bridge_prod_attach(&p, r);
    if (ht_gate(sh->run))
        goto out;
    uint64_t batch = 1 + ht_rand(&rng) % HT_BRIDGE_BATCH, staged = 0;
    for (int64_t k = 0; k < sh->n;) {
        gmk_task_t t;
        bridge_task(&t, sh->seed, k, staging);
        for (uint32_t j = 0; j < t.payload_len; j++)
            buf[j] = bridge_byte(k, j);
        int rc = bridge_stage(sh, &p, &t, buf);
        if (rc == GMK_BRIDGE_OK) {
            k++;
            if (++staged >= batch) {
                sh->batches += bridge_publish(sh, &p);
                staged = 0;
                batch = 1 + ht_rand(&rng) % HT_BRIDGE_BATCH;
            }
            continue;
        }
        if (rc != GMK_BRIDGE_E_FULL) {
            ht_fail(sh->run, "producer: stage of task %lld (%u bytes) failed with %d", (long long)k, t.payload_len,
                    rc);
            goto out;
        }
        /* Full: what is staged must be published before the consumer can free room. */
        sh->full++;
        if (staged > 0) {
            sh->batches += bridge_publish(sh, &p);
            staged = 0;
        }
        if (ht_stuck(sh->run, "producer: ring stays full"))
            goto out;
    }
    sh->batches += bridge_publish(sh, &p);
    GMK_FETCH_OR(&r->flags, GMK_BRIDGE_CLOSED); /* after the last publish, as gmk_bridge.h says */
out:
    free(buf);
    return NULL;
}

static void *bridge_consumer(void *arg) {
    bridge_shared_t *sh = arg;
    gmk_bridge_ring_t *r = sh->r;
    uint64_t rng = ht_seed(sh->seed, 2), staging = r->staging_size;
    gmk_bridge_cons_t c;
    int wake;
    gmk_bridge_cons_attach(&c, r);
    if (ht_gate(sh->run))
        return NULL;
    int64_t k = 0;
    for (;;) {
        uint64_t batch = 1 + ht_rand(&rng) % HT_BRIDGE_BATCH, got = 0;
        int rc = 0;
        while (got < batch) {
            gmk_task_t t, want;
            const unsigned char *pl;
            rc = sh->ll ? gmk_bridge_ll_poll(&c, &t, &pl) : gmk_bridge_peek(&c, &t, &pl);
            if (rc != 1)
                break;
            bridge_task(&want, sh->seed, k, staging);
            if (memcmp(&t, &want, sizeof t) != 0 || c.seq != HT_BRIDGE_SEQ + (uint64_t)k + 1) {
                ht_fail(sh->run, "consumer: task %lld arrived as meta0 %llu (seq now %llu)", (long long)k,
                        (unsigned long long)t.meta0, (unsigned long long)c.seq);
                return NULL;
            }
            for (uint32_t j = 0; j < t.payload_len; j++)
                if (pl[j] != bridge_byte(k, j)) {
                    ht_fail(sh->run, "consumer: task %lld payload byte %u of %u corrupted", (long long)k, j,
                            t.payload_len);
                    return NULL;
                }
            got++;
            k++;
        }
        gmk_bridge_release(&c, &wake);
        sh->received = k;
        if (got > 0)
            ht_progress(sh->run);
        if (rc == GMK_BRIDGE_E_CLOSED)
            break;
        if (rc < 0) {
            ht_fail(sh->run, "consumer: peek of task %lld failed with %d", (long long)k, rc);
            return NULL;
        }
        if (rc == 0) {
            sh->empty++;
            if (ht_stuck(sh->run, "consumer: tasks missing"))
                return NULL;
        }
    }
    if (k != sh->n || c.seq != HT_BRIDGE_SEQ + (uint64_t)sh->n)
        ht_fail(sh->run, "consumer: CLOSED after %lld of %lld tasks (seq %llu)", (long long)k, (long long)sh->n,
                (unsigned long long)c.seq);
    return NULL;
}

typedef struct bridge_role {
    bridge_shared_t *sh;
    int producer;
} bridge_role_t;

static void *bridge_main(void *arg) {
    bridge_role_t *role = arg;
    return role->producer ? bridge_producer(role->sh) : bridge_consumer(role->sh);
}

/* Format a one-ring region in mem (zeroed), as bridge/region.go does, with
 * every counter started at the HT_BRIDGE_* values; an LL ring when ll.
 * Returns the ring. */
gmk_bridge_ring_t *ht_bridge_format(unsigned char *mem, uint64_t size, uint32_t cap, uint64_t staging, int ll) {
    gmk_bridge_region_t *rg = (gmk_bridge_region_t *)mem;
    gmk_bridge_ring_t *r = (gmk_bridge_ring_t *)(mem + sizeof *rg);
    rg->magic = GMK_BRIDGE_MAGIC;
    rg->version = GMK_BRIDGE_VERSION;
    rg->header_size = sizeof *rg;
    rg->nrings = 1;
    rg->size = size;
    rg->ring_off[0] = sizeof *rg;
    r->magic = GMK_BRIDGE_RING_MAGIC;
    r->version = GMK_BRIDGE_VERSION;
    r->header_size = sizeof *r;
    r->capacity = cap;
    r->slot_size = ll ? sizeof(gmk_bridge_ll_slot_t) : sizeof(gmk_bridge_slot_t);
    r->staging_size = staging;
    r->slots_off = sizeof *r;
    r->staging_off = sizeof *r + (uint64_t)cap * r->slot_size;
    if (ll) {
        r->version = GMK_BRIDGE_VERSION_LL;
        r->flags = GMK_BRIDGE_LL;
    }
    r->start_seq = r->prod_seq = r->cons_seq = HT_BRIDGE_SEQ;
    r->tail = r->head = HT_BRIDGE_POS;
    r->stage_tail = r->stage_head = HT_BRIDGE_STAGE;
    return r;
}

/* ht_bridge and ht_bridge_ll: the threaded run over a ring of either format. */
static int bridge_run(const ht_cfg_t *cfg, ht_result_t *res, int ll) {
    ht_run_t run;
    ht_run_init(&run, cfg, res);
    uint32_t cap = cfg->capacity;
    uint64_t staging = cfg->block;
    if (cfg->items < 1 || cap < 2 || cap > (1u << 16) || (cap & (cap - 1)) || staging < 64 ||
        staging > (1u << 24) || (staging & (staging - 1))) {
        ht_fail(&run, "bad config: %lld tasks, %u slots, %llu staging bytes", (long long)cfg->items, cap,
                (unsigned long long)staging);
        return ht_run_done(&run);
    }
    uint64_t size = sizeof(gmk_bridge_region_t) + sizeof(gmk_bridge_ring_t) +
                    (uint64_t)cap * (ll ? sizeof(gmk_bridge_ll_slot_t) : sizeof(gmk_bridge_slot_t)) + staging;
    unsigned char *mem = ht_alloc(size), *big = malloc(staging / 2 + 1);
    if (!mem || !big) {
        ht_fail(&run, "out of memory");
        goto out;
    }
    gmk_bridge_ring_t *r = ht_bridge_format(mem, size, cap, staging, ll);

    /* TOO_LARGE: refused, and the producer's state untouched. */
    gmk_bridge_prod_t p;
    gmk_task_t t = {0};
    t.payload_len = (uint32_t)(staging / 2 + 1);
    memset(big, 0x5A, staging / 2 + 1);
    gmk_bridge_prod_attach(&p, r);
    int rc = ll ? gmk_bridge_ll_stage(&p, &t, big) : gmk_bridge_stage_task(&p, &t, big);
    if (rc != GMK_BRIDGE_E_TOO_LARGE || p.tail != HT_BRIDGE_POS || p.stage_tail != HT_BRIDGE_STAGE ||
        p.seq != HT_BRIDGE_SEQ) {
        ht_fail(&run, "a payload of staging/2+1 bytes: rc %d, or the producer moved", rc);
        goto out;
    }

    bridge_shared_t sh = {.run = &run, .r = r, .n = cfg->items, .seed = cfg->seed, .ll = ll};
    bridge_role_t roles[2] = {{&sh, 1}, {&sh, 0}};
    ht_threads(&run, 2, bridge_main, roles, sizeof roles[0]);
    res->ops = sh.received;
    res->full = sh.full;
    res->empty = sh.empty;
    res->aux = sh.batches;
    if (!ht_failed(&run) && (r->tail != HT_BRIDGE_POS + (uint64_t)sh.n || r->head != r->tail ||
                             r->stage_head != r->stage_tail || r->cons_seq != HT_BRIDGE_SEQ + (uint64_t)sh.n))
        ht_fail(&run, "after the run: tail %llu head %llu stage_tail %llu stage_head %llu",
                (unsigned long long)r->tail, (unsigned long long)r->head, (unsigned long long)r->stage_tail,
                (unsigned long long)r->stage_head);
    if (ll && !ht_failed(&run))
        ht_bridge_ll_checks(&run);
out:
    free(big);
    free(mem);
    return ht_run_done(&run);
}

int ht_bridge(const ht_cfg_t *cfg, ht_result_t *res) { return bridge_run(cfg, res, 0); }

int ht_bridge_ll(const ht_cfg_t *cfg, ht_result_t *res) { return bridge_run(cfg, res, 1); }
