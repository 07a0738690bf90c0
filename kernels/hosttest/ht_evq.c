//go:build cgo

/*
 * ht_evq.c — gmk_evq.h (GMK.md [S5], [S6], [G1], [G2]) under threads.
 *
 * cfg: producers (posting threads), items (events per poster in phase C),
 * capacity (entries, a power of two). res: ops = events popped in phase C,
 * full = posts refused with GMK_EVQ_FULL, aux = events the owner posted to
 * its own queue.
 *
 * Phases, on one queue whose inbox positions start just below 2^32 (the heap
 * orders by position: a 32-bit truncation would misorder ties):
 *   A. single-threaded: capacity posts succeed and the next is FULL; len and
 *      next_due are right; nothing pops before its due time; the whole queue
 *      pops in (due, post) order; then it is empty (next_due NEVER).
 *   B. posters fill the queue concurrently (random dues, many ties) while the
 *      owner waits; then the owner pops with a clock stepping forward and
 *      random batch limits: every event exactly once, never early, in
 *      non-decreasing due order, a poster's equal-due events in its post
 *      order, and after a pop that returned less than its limit nothing
 *      else is due.
 *   C. posters and the owner run together on a small queue that is often
 *      full; the owner advances the clock, pops random batches and now and
 *      then posts to its own queue (a timer re-arming: a post that waited on
 *      the owner would hang here). Every event pops exactly once, never
 *      early; and for two events of one poster, the earlier-posted one with a
 *      due time no later than the other's pops first (the guarantee that
 *      holds while posts and pops interleave; with equal dues it is "ties
 *      in post order").
 */
#define _GNU_SOURCE
#include "ht_util.h"
#include "gmk_evq.h"

#define HT_EVQ_START (0xFFFFFFFFull - 100) /* first inbox position: below 2^32 */
#define HT_EVQ_BATCH 256u                  /* [S5]'s drain limit: the largest pop_due max used */

typedef struct evq_shared {
    ht_run_t *run;
    gmk_evq_t *e;
    int nposters;   /* posting threads; the owner posts as poster nposters */
    int64_t per;    /* events per poster (phase B or C) */
    int64_t self;   /* events the owner posts to itself (phase C) */
    uint64_t clock; /* the owner's logical time; posters read it (relaxed) */
    int64_t *due;   /* [poster][k]: the due time the owner popped */
    int64_t *order; /* [poster][k]: pop index, -1 until popped */
    int64_t popped;
} evq_shared_t;

typedef struct evq_thread {
    evq_shared_t *sh;
    int id;
    int phase; /* 'B' or 'C' */
    uint64_t rng;
    int64_t full;
} evq_thread_t;

static void evq_task(gmk_task_t *t, uint32_t p, uint64_t k, uint64_t due) {
    memset(t, 0, sizeof *t);
    t->type = p;
    t->seq = (uint32_t)k;
    t->meta0 = (uint64_t)p << 40 | k;
    t->meta1 = due;
    t->payload = ht_mix(t->meta0 ^ due);
}

/* Checks a popped task and records it; returns its poster, or -1 (failed). */
static int evq_record(evq_shared_t *sh, const gmk_task_t *t, uint64_t now) {
    uint32_t p = (uint32_t)(t->meta0 >> 40);
    int64_t k = (int64_t)(t->meta0 & ((1ull << 40) - 1));
    int64_t limit = (int)p == sh->nposters ? sh->self : sh->per;
    if ((int)p > sh->nposters || k >= limit || t->type != p || t->seq != (uint32_t)k ||
        t->payload != ht_mix(t->meta0 ^ t->meta1)) {
        ht_fail(sh->run, "popped a corrupted event (meta0 %#llx)", (unsigned long long)t->meta0);
        return -1;
    }
    if (t->meta1 > now) {
        ht_fail(sh->run, "event (poster %u, %lld) due %llu popped at %llu: early", p, (long long)k,
                (unsigned long long)t->meta1, (unsigned long long)now);
        return -1;
    }
    int64_t i = (int64_t)p * sh->per + k; /* the self row is per wide too: self <= per */
    if (sh->order[i] != -1) {
        ht_fail(sh->run, "event (poster %u, %lld) popped twice", p, (long long)k);
        return -1;
    }
    sh->order[i] = sh->popped++;
    sh->due[i] = (int64_t)t->meta1;
    return (int)p;
}

static void *evq_poster(void *arg) {
    evq_thread_t *th = arg;
    evq_shared_t *sh = th->sh;
    if (ht_gate(sh->run))
        return NULL;
    for (int64_t k = 0; k < sh->per;) {
        uint64_t due;
        if (th->phase == 'B') {
            due = 1 + ht_rand(&th->rng) % 200; /* many ties */
        } else {
            int64_t now = (int64_t)__atomic_load_n(&sh->clock, __ATOMIC_RELAXED);
            int64_t d = now + (int64_t)(ht_rand(&th->rng) % 64) - 16; /* some already due */
            due = d > 0 ? (uint64_t)d : 0;
        }
        gmk_task_t t;
        evq_task(&t, (uint32_t)th->id, (uint64_t)k, due);
        if (gmk_evq_post(sh->e, &t, due) == 0) {
            k++;
            continue;
        }
        th->full++;
        if (th->phase == 'B') {
            ht_fail(sh->run, "phase B: post %lld of poster %d refused; the queue has room", (long long)k, th->id);
            return NULL;
        }
        if (ht_stuck(sh->run, "poster: queue stays full"))
            return NULL;
    }
    return NULL;
}

/* Phase C's owner: advance the clock, pop, re-arm its own events. */
static void *evq_owner(void *arg) {
    evq_thread_t *th = arg;
    evq_shared_t *sh = th->sh;
    gmk_task_t out[HT_EVQ_BATCH];
    int64_t total = sh->nposters * sh->per + sh->self, self = 0;
    if (ht_gate(sh->run))
        return NULL;
    while (sh->popped < total && !ht_failed(sh->run)) {
        uint64_t now = __atomic_load_n(&sh->clock, __ATOMIC_RELAXED) + 1;
        __atomic_store_n(&sh->clock, now, __ATOMIC_RELAXED);
        uint32_t n = gmk_evq_pop_due(sh->e, now, out, 1 + (uint32_t)(ht_rand(&th->rng) % HT_EVQ_BATCH));
        for (uint32_t i = 0; i < n; i++)
            if (evq_record(sh, &out[i], now) < 0)
                return NULL;
        if (n > 0)
            ht_progress(sh->run);
        if (self < sh->self && (ht_rand(&th->rng) & 3) == 0) {
            gmk_task_t t;
            uint64_t due = now + ht_rand(&th->rng) % 8;
            evq_task(&t, (uint32_t)sh->nposters, (uint64_t)self, due);
            if (gmk_evq_post(sh->e, &t, due) == 0)
                self++;
            else
                th->full++;
        }
        if (n == 0 && ht_stuck(sh->run, "owner: events missing"))
            return NULL;
    }
    return NULL;
}

/* Phase C's threads: posters 0..nposters-1, then the owner. */
static void *evq_main_c(void *arg) {
    evq_thread_t *th = arg;
    return th->id == th->sh->nposters ? evq_owner(arg) : evq_poster(arg);
}

/* White box: move an empty queue's inbox positions to start. */
static void evq_start_at(gmk_evq_t *e, uint64_t start) {
    e->head = e->tail = start;
    for (uint64_t i = 0; i <= e->mask; i++)
        e->inbox[(start + i) & e->mask].seq = start + i;
}

/* Phase A (single-threaded). */
static void evq_phase_a(ht_run_t *run, gmk_evq_t *e, uint64_t seed) {
    uint64_t cap = gmk_evq_capacity(e), rng = ht_seed(seed, 1000), min = GMK_EVQ_NEVER;
    gmk_task_t t, out[HT_EVQ_BATCH];
    for (uint64_t k = 0; k < cap; k++) {
        uint64_t due = 100 + ht_rand(&rng) % 50;
        min = due < min ? due : min;
        evq_task(&t, 0, k, due);
        if (gmk_evq_post(e, &t, due) != 0) {
            ht_fail(run, "phase A: post %llu of %llu refused", (unsigned long long)k, (unsigned long long)cap);
            return;
        }
    }
    evq_task(&t, 0, cap, 1);
    if (gmk_evq_post(e, &t, 1) != GMK_EVQ_FULL || gmk_evq_len(e) != cap) {
        ht_fail(run, "phase A: a full queue took a post (len %llu)", (unsigned long long)gmk_evq_len(e));
        return;
    }
    if (gmk_evq_next_due(e) != min || gmk_evq_pop_due(e, min - 1, out, HT_EVQ_BATCH) != 0) {
        ht_fail(run, "phase A: next_due %llu (want %llu), or an event popped early",
                (unsigned long long)gmk_evq_next_due(e), (unsigned long long)min);
        return;
    }
    uint64_t got = 0, last_due = 0, last_k = 0;
    while (got < cap) {
        uint32_t n = gmk_evq_pop_due(e, 1000, out, 1 + (uint32_t)(ht_rand(&rng) % 7));
        if (n == 0) {
            ht_fail(run, "phase A: %llu events stuck", (unsigned long long)(cap - got));
            return;
        }
        for (uint32_t i = 0; i < n; i++, got++) {
            uint64_t due = out[i].meta1, k = out[i].meta0;
            if (got > 0 && (due < last_due || (due == last_due && k < last_k))) {
                ht_fail(run, "phase A: event %llu (due %llu) popped after %llu (due %llu)", (unsigned long long)k,
                        (unsigned long long)due, (unsigned long long)last_k, (unsigned long long)last_due);
                return;
            }
            last_due = due;
            last_k = k;
        }
    }
    if (gmk_evq_len(e) != 0 || gmk_evq_next_due(e) != GMK_EVQ_NEVER || gmk_evq_pop_due(e, ~0ull, out, 1) != 0)
        ht_fail(run, "phase A: the drained queue is not empty");
}

/* Phase B's owner, after the posters are done: pop in order with a stepping clock. */
static void evq_phase_b_pop(evq_shared_t *sh, uint64_t seed) {
    uint64_t rng = ht_seed(seed, 2000), now = 0, last_due = 0;
    int64_t total = sh->nposters * sh->per, last_k[65];
    gmk_task_t out[HT_EVQ_BATCH];
    for (int i = 0; i <= sh->nposters; i++)
        last_k[i] = -1;
    while (sh->popped < total && !ht_failed(sh->run)) {
        now += ht_rand(&rng) % 8;
        uint32_t max = 1 + (uint32_t)(ht_rand(&rng) % 16);
        uint32_t n = gmk_evq_pop_due(sh->e, now, out, max);
        for (uint32_t i = 0; i < n; i++) {
            int p = evq_record(sh, &out[i], now);
            if (p < 0)
                return;
            int64_t k = (int64_t)(out[i].meta0 & ((1ull << 40) - 1));
            uint64_t due = out[i].meta1;
            if (due < last_due) {
                ht_fail(sh->run, "phase B: due %llu popped after due %llu", (unsigned long long)due,
                        (unsigned long long)last_due);
                return;
            }
            if (due != last_due)
                for (int j = 0; j <= sh->nposters; j++)
                    last_k[j] = -1;
            if (k < last_k[p]) {
                ht_fail(sh->run, "phase B: poster %d's events %lld and %lld (due %llu) popped out of post order", p,
                        (long long)last_k[p], (long long)k, (unsigned long long)due);
                return;
            }
            last_k[p] = k;
            last_due = due;
        }
        if (n < max && gmk_evq_next_due(sh->e) <= now) {
            ht_fail(sh->run, "phase B: pop_due(%llu) stopped at %u of %u with an event due at %llu",
                    (unsigned long long)now, n, max, (unsigned long long)gmk_evq_next_due(sh->e));
            return;
        }
        if (now > 1000000) {
            ht_fail(sh->run, "phase B: %lld events never became due", (long long)(total - sh->popped));
            return;
        }
    }
}

/* Phase C, after the threads: every event once; a poster's (earlier, not
 * later due) event pops before its later one. */
static void evq_phase_c_check(evq_shared_t *sh) {
    for (int p = 0; p <= sh->nposters; p++) {
        int64_t n = p == sh->nposters ? sh->self : sh->per;
        int64_t *due = sh->due + (int64_t)p * sh->per, *ord = sh->order + (int64_t)p * sh->per;
        for (int64_t k = 0; k < n; k++) {
            if (ord[k] < 0) {
                ht_fail(sh->run, "phase C: event (poster %d, %lld) never popped", p, (long long)k);
                return;
            }
            for (int64_t j = 0; j < k; j++)
                if (due[j] <= due[k] && ord[j] > ord[k]) {
                    ht_fail(sh->run,
                            "phase C: poster %d's event %lld (due %lld) popped after its later event %lld "
                            "(due %lld)",
                            p, (long long)j, (long long)due[j], (long long)k, (long long)due[k]);
                    return;
                }
        }
    }
}

static void evq_reset_record(evq_shared_t *sh, int64_t per, int64_t self) {
    sh->per = per;
    sh->self = self;
    sh->popped = 0;
    for (int64_t i = 0; i < (int64_t)(sh->nposters + 1) * per; i++)
        sh->order[i] = -1;
}

int ht_evq(const ht_cfg_t *cfg, ht_result_t *res) {
    ht_run_t run;
    ht_run_init(&run, cfg, res);
    int np = cfg->producers;
    uint64_t cap = cfg->capacity;
    if (np < 1 || np > 63 || cfg->items < 1 || cap < (uint64_t)np || cap > (1u << 20) || (cap & (cap - 1))) {
        ht_fail(&run, "bad config: %d posters, %lld events each, capacity %llu", np, (long long)cfg->items,
                (unsigned long long)cap);
        return ht_run_done(&run);
    }
    int64_t per_b = (int64_t)cap / np, per_c = cfg->items, rows = np + 1;
    int64_t width = per_b > per_c ? per_b : per_c;
    gmk_evq_t *e = ht_alloc(sizeof *e);
    gmk_evq_cell_t *inbox = ht_alloc(cap * sizeof *inbox);
    gmk_evq_ent_t *heap = ht_alloc(cap * sizeof *heap);
    evq_shared_t sh = {.run = &run, .e = e, .nposters = np};
    sh.due = calloc((size_t)(rows * width), sizeof *sh.due);
    sh.order = calloc((size_t)(rows * width), sizeof *sh.order);
    evq_thread_t th[64];
    if (!e || !inbox || !heap || !sh.due || !sh.order) {
        ht_fail(&run, "out of memory");
        goto out;
    }
    gmk_evq_init(e, inbox, heap, (uint32_t)cap);
    evq_start_at(e, HT_EVQ_START);
    evq_phase_a(&run, e, cfg->seed);
    if (ht_failed(&run))
        goto out;

    /* B: concurrent posts into a queue with room for all of them, then ordered pops. */
    evq_reset_record(&sh, per_b, 0);
    for (int i = 0; i < np; i++)
        th[i] = (evq_thread_t){.sh = &sh, .id = i, .phase = 'B', .rng = ht_seed(cfg->seed, (uint64_t)i)};
    ht_threads(&run, np, evq_poster, th, sizeof th[0]);
    if (ht_failed(&run))
        goto out;
    evq_phase_b_pop(&sh, cfg->seed);
    if (ht_failed(&run))
        goto out;

    /* C: posters and the owner together. */
    evq_reset_record(&sh, per_c, per_c / 4 + 1);
    for (int i = 0; i <= np; i++)
        th[i] = (evq_thread_t){.sh = &sh, .id = i, .phase = 'C', .rng = ht_seed(cfg->seed, (uint64_t)(100 + i))};
    ht_threads(&run, np + 1, evq_main_c, th, sizeof th[0]);
    if (ht_failed(&run))
        goto out;
    evq_phase_c_check(&sh);
    for (int i = 0; i <= np; i++)
        res->full += th[i].full;
    res->ops = sh.popped;
    res->aux = sh.self;
    if (!ht_failed(&run) && (gmk_evq_len(e) != 0 || gmk_evq_next_due(e) != GMK_EVQ_NEVER))
        ht_fail(&run, "phase C: the queue is not empty at the end (len %llu)", (unsigned long long)gmk_evq_len(e));
out:
    free(sh.order);
    free(sh.due);
    free(heap);
    free(inbox);
    free(e);
    return ht_run_done(&run);
}
