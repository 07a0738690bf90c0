//go:build cgo

/*
 * ht_mpmc.c — gmk_mpmc.h (GMK.md [R1], [S3], [G2]) under threads.
 *
 * cfg: producers, consumers, items (per producer), capacity (a power of two;
 * small, so the ring wraps thousands of times and is often full and empty).
 * res: ops = tasks consumed, full = pushes that came back short, empty = pops
 * that came back empty, aux = laps of the ring.
 *
 * Checks:
 *   - boundaries, single-threaded: an empty ring pops nothing, a push of more
 *     than capacity stores exactly capacity, a full ring takes nothing, and
 *     the tasks come back in FIFO order, whole;
 *   - under producers x consumers threads pushing and popping random batches
 *     of 1..32: every task arrives exactly once, with every field intact (a
 *     torn copy or a cell read before it was written breaks the check words),
 *     each consumer sees each producer's tasks in increasing sequence order
 *     (the ring is FIFO and a consumer's claims only move forward), and the
 *     ring ends empty.
 * Positions start just below 2^32 so the run crosses the 32-bit boundary: a
 * position truncated to 32 bits anywhere would lose or repeat cells.
 */
#define _GNU_SOURCE
#include "ht_util.h"
#include "gmk_mpmc.h"

#define HT_MPMC_BATCH 32
#define HT_MPMC_START (0xFFFFFFFFull - 1000) /* first position: below 2^32 */

typedef struct mpmc_shared {
    ht_run_t *run;
    gmk_mpmc_t *q;
    int nprod;
    int64_t per;   /* tasks per producer */
    int64_t total; /* nprod * per */
    int64_t consumed;
    uint8_t *seen; /* nprod * per marks, one per task */
} mpmc_shared_t;

typedef struct mpmc_thread {
    mpmc_shared_t *sh;
    int producer; /* 1: pushes, 0: pops */
    int id;
    uint64_t rng;
    int64_t full, empty, got;
} mpmc_thread_t;

/* The task a producer sends as its k-th: every field derived from (p, k). */
static void mpmc_task(gmk_task_t *t, uint32_t p, uint64_t k) {
    uint64_t id = (uint64_t)p << 40 | k;
    memset(t, 0, sizeof *t);
    t->type = p;
    t->flags = (uint16_t)(k & 3);
    t->tenant = (uint16_t)(p + 1);
    t->channel = (uint32_t)ht_mix(id);
    t->seq = (uint32_t)k;
    t->payload = ~id;
    t->payload_len = (uint32_t)(k & 0xFFFF);
    t->yield_count = (uint16_t)(k >> 16);
    t->meta0 = id;
    t->meta1 = ht_mix(id ^ 0x5555);
}

/* Returns the (p, k) of t, or -1 when any field disagrees with mpmc_task. */
static int mpmc_check(const gmk_task_t *t, int nprod, int64_t per, uint32_t *p, uint64_t *k) {
    uint64_t id = t->meta0;
    *p = (uint32_t)(id >> 40);
    *k = id & ((1ull << 40) - 1);
    if ((int)*p >= nprod || (int64_t)*k >= per)
        return -1;
    gmk_task_t want;
    mpmc_task(&want, *p, *k);
    return memcmp(t, &want, sizeof want) == 0 ? 0 : -1;
}

static void *mpmc_producer(void *arg) {
    mpmc_thread_t *th = arg;
    mpmc_shared_t *sh = th->sh;
    gmk_task_t batch[HT_MPMC_BATCH];
    if (ht_gate(sh->run))
        return NULL;
    for (int64_t k = 0; k < sh->per;) {
        uint64_t want = 1 + ht_rand(&th->rng) % HT_MPMC_BATCH;
        if ((int64_t)want > sh->per - k)
            want = (uint64_t)(sh->per - k);
        for (uint64_t i = 0; i < want; i++)
            mpmc_task(&batch[i], (uint32_t)th->id, (uint64_t)k + i);
        uint64_t n = gmk_mpmc_push(sh->q, batch, want);
        k += (int64_t)n;
        if (n < want) {
            th->full++;
            if (ht_stuck(sh->run, "producer: ring stays full"))
                return NULL;
        }
    }
    return NULL;
}

static void *mpmc_consumer(void *arg) {
    mpmc_thread_t *th = arg;
    mpmc_shared_t *sh = th->sh;
    gmk_task_t out[HT_MPMC_BATCH];
    int64_t last[64]; /* per producer: the last sequence this consumer saw */
    for (int i = 0; i < 64; i++)
        last[i] = -1;
    if (ht_gate(sh->run))
        return NULL;
    while (__atomic_load_n(&sh->consumed, __ATOMIC_ACQUIRE) < sh->total) {
        uint64_t want = 1 + ht_rand(&th->rng) % HT_MPMC_BATCH;
        uint64_t n = gmk_mpmc_pop(sh->q, out, want);
        if (n == 0) {
            th->empty++;
            if (ht_stuck(sh->run, "consumer: tasks missing"))
                return NULL;
            continue;
        }
        for (uint64_t i = 0; i < n; i++) {
            uint32_t p;
            uint64_t k;
            if (mpmc_check(&out[i], sh->nprod, sh->per, &p, &k) != 0) {
                ht_fail(sh->run, "consumer %d: task corrupted (meta0 %#llx meta1 %#llx type %u)", th->id,
                        (unsigned long long)out[i].meta0, (unsigned long long)out[i].meta1, out[i].type);
                return NULL;
            }
            if (__atomic_fetch_add(&sh->seen[(int64_t)p * sh->per + (int64_t)k], 1, __ATOMIC_RELAXED) != 0) {
                ht_fail(sh->run, "task (producer %u, seq %llu) delivered twice", p, (unsigned long long)k);
                return NULL;
            }
            if ((int64_t)k <= last[p]) {
                ht_fail(sh->run, "consumer %d: producer %u's seq %llu after %lld (not FIFO)", th->id, p,
                        (unsigned long long)k, (long long)last[p]);
                return NULL;
            }
            last[p] = (int64_t)k;
        }
        th->got += (int64_t)n;
        __atomic_fetch_add(&sh->consumed, (int64_t)n, __ATOMIC_ACQ_REL);
        ht_progress(sh->run);
    }
    return NULL;
}

static void *mpmc_main(void *arg) {
    mpmc_thread_t *th = arg;
    return th->producer ? mpmc_producer(arg) : mpmc_consumer(arg);
}

/* White box: move an empty ring's positions to start (the cells follow). */
static void mpmc_start_at(gmk_mpmc_t *q, uint64_t start) {
    uint64_t cap = gmk_mpmc_capacity(q);
    q->head = q->tail = start;
    for (uint64_t i = 0; i < cap; i++)
        q->cells[(start + i) & q->mask].seq = start + i;
}

/* Single-threaded boundaries: empty, overfull push, full, FIFO drain. */
static void mpmc_bounds(ht_run_t *run, gmk_mpmc_t *q) {
    uint64_t cap = gmk_mpmc_capacity(q);
    gmk_task_t in[HT_MPMC_BATCH], out[HT_MPMC_BATCH];
    if (gmk_mpmc_pop(q, out, 1) != 0) {
        ht_fail(run, "an empty ring popped a task");
        return;
    }
    uint64_t pushed = 0;
    for (;;) { /* fill with batches larger than what is left */
        for (int i = 0; i < HT_MPMC_BATCH; i++)
            mpmc_task(&in[i], 0, pushed + (uint64_t)i);
        uint64_t n = gmk_mpmc_push(q, in, HT_MPMC_BATCH);
        pushed += n;
        if (n < HT_MPMC_BATCH)
            break;
    }
    if (pushed != cap || gmk_mpmc_len(q) != cap) {
        ht_fail(run, "filling a ring of %llu took %llu (len %llu)", (unsigned long long)cap,
                (unsigned long long)pushed, (unsigned long long)gmk_mpmc_len(q));
        return;
    }
    if (gmk_mpmc_push(q, in, 1) != 0) {
        ht_fail(run, "a full ring took another task");
        return;
    }
    for (uint64_t k = 0; k < cap;) {
        uint64_t n = gmk_mpmc_pop(q, out, 7);
        if (n == 0) {
            ht_fail(run, "a ring holding %llu popped nothing", (unsigned long long)(cap - k));
            return;
        }
        for (uint64_t i = 0; i < n; i++, k++) {
            uint32_t p;
            uint64_t kk;
            if (mpmc_check(&out[i], 1, (int64_t)cap, &p, &kk) != 0 || kk != k) {
                ht_fail(run, "drain: task %llu came back as %llu", (unsigned long long)k,
                        (unsigned long long)out[i].meta0);
                return;
            }
        }
    }
    if (gmk_mpmc_pop(q, out, 1) != 0 || gmk_mpmc_len(q) != 0)
        ht_fail(run, "a drained ring is not empty");
}

int ht_mpmc(const ht_cfg_t *cfg, ht_result_t *res) {
    ht_run_t run;
    ht_run_init(&run, cfg, res);
    int np = cfg->producers, nc = cfg->consumers;
    uint64_t cap = cfg->capacity;
    if (np < 1 || nc < 1 || np + nc > 64 || cfg->items < 1 || cap < 2 || (cap & (cap - 1))) {
        ht_fail(&run, "bad config: %d producers, %d consumers, %lld items, capacity %llu", np, nc,
                (long long)cfg->items, (unsigned long long)cap);
        return ht_run_done(&run);
    }
    gmk_mpmc_t *q = ht_alloc(sizeof *q);
    gmk_mpmc_cell_t *cells = ht_alloc(cap * sizeof *cells);
    mpmc_shared_t sh = {.run = &run, .q = q, .nprod = np, .per = cfg->items, .total = np * cfg->items};
    sh.seen = calloc((size_t)sh.total, 1);
    mpmc_thread_t th[64];
    if (!q || !cells || !sh.seen) {
        ht_fail(&run, "out of memory");
        goto out;
    }
    gmk_mpmc_init(q, cells, cap);
    mpmc_start_at(q, HT_MPMC_START);
    mpmc_bounds(&run, q);
    if (ht_failed(&run))
        goto out;

    for (int i = 0; i < np + nc; i++)
        th[i] = (mpmc_thread_t){
            .sh = &sh, .producer = i < np, .id = i < np ? i : i - np, .rng = ht_seed(cfg->seed, (uint64_t)i)};
    uint64_t start = q->head;
    /* Threads 0..np-1 produce, np..np+nc-1 consume, all behind one gate. */
    ht_threads(&run, np + nc, mpmc_main, th, sizeof th[0]);
    if (ht_failed(&run))
        goto out;

    for (int i = 0; i < np; i++)
        res->full += th[i].full;
    for (int i = np; i < np + nc; i++) {
        res->empty += th[i].empty;
        res->ops += th[i].got;
    }
    res->aux = (int64_t)((q->head - start) / cap);
    for (int64_t i = 0; i < sh.total; i++)
        if (sh.seen[i] != 1) {
            ht_fail(&run, "task (producer %lld, seq %lld) seen %d times", (long long)(i / sh.per),
                    (long long)(i % sh.per), sh.seen[i]);
            goto out;
        }
    if (res->ops != sh.total || gmk_mpmc_len(q) != 0 || q->head != start + (uint64_t)sh.total)
        ht_fail(&run, "after the run: %lld consumed of %lld, len %llu", (long long)res->ops, (long long)sh.total,
                (unsigned long long)gmk_mpmc_len(q));
out:
    free(sh.seen);
    free(cells);
    free(q);
    return ht_run_done(&run);
}
