//go:build cgo

/*
 * ht_bump.c — gmk_bump.h (GMK.md [A2], [A3], [G2]) under threads.
 *
 * cfg: producers (threads), capacity (bytes), items (rounds: allocate until
 * exhausted, check, reset). res: ops = allocations, full = NONE results,
 * aux = bytes requested by the successful allocations.
 *
 * Checks:
 *   - single-threaded: init rounds an unaligned base up and the end down to
 *     the grain; a zero size, an alignment that is not a power of two, a size
 *     or an alignment beyond the allocator are NONE, counted, and move
 *     nothing; small alignments cost nothing; a request of the whole size
 *     fits exactly, and then nothing else does; reset empties it;
 *   - each round, every thread allocates random sizes (1..256 bytes) at
 *     random alignments (1..512) until it gets NONE, all at once: every
 *     allocation is in bounds and aligned, no two overlap, and they total at
 *     most the size; then the owner resets (after the threads are joined: no
 *     allocation is live), and used() is 0 and hwm() covers the round.
 */
#define _GNU_SOURCE
#include "ht_util.h"
#include "gmk_bump.h"

#define HT_BUMP_BASE 1000u /* not grain-aligned: init must round it */

typedef struct bump_alloc {
    uint64_t off, n, align;
} bump_alloc_t;

typedef struct bump_shared {
    ht_run_t *run;
    gmk_bump_t *b;
} bump_shared_t;

typedef struct bump_thread {
    bump_shared_t *sh;
    int id;
    uint64_t rng;
    bump_alloc_t *got; /* this round's allocations */
    uint64_t ngot, cap;
    int64_t nones;
} bump_thread_t;

static void *bump_main(void *arg) {
    bump_thread_t *th = arg;
    th->ngot = 0;
    if (ht_gate(th->sh->run))
        return NULL;
    for (;;) {
        uint64_t n = 1 + ht_rand(&th->rng) % 256, align = 1ull << (ht_rand(&th->rng) % 10);
        uint64_t off = gmk_bump_alloc(th->sh->b, n, align);
        if (off == GMK_BUMP_NONE) {
            th->nones++;
            return NULL;
        }
        if (th->ngot == th->cap) { /* more allocations than GRAIN-sized ones fit: impossible */
            ht_fail(th->sh->run, "thread %d: more than %llu allocations in one round", th->id,
                    (unsigned long long)th->cap);
            return NULL;
        }
        th->got[th->ngot++] = (bump_alloc_t){off, n, align};
    }
}

static int bump_cmp(const void *a, const void *b) {
    const bump_alloc_t *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* After a round: bounds, alignment, disjointness, total. */
static void bump_check_round(ht_run_t *run, gmk_bump_t *b, bump_thread_t *th, int nt, bump_alloc_t *all,
                             int round) {
    uint64_t n = 0, bytes = 0, lo = b->base_off, hi = b->base_off + b->size;
    for (int i = 0; i < nt; i++)
        for (uint64_t k = 0; k < th[i].ngot; k++)
            all[n++] = th[i].got[k];
    for (uint64_t k = 0; k < n; k++) {
        bump_alloc_t a = all[k];
        if (a.off < lo || a.off + a.n > hi || a.off % a.align != 0) {
            ht_fail(run, "round %d: allocation [%#llx, +%llu) align %llu outside [%#llx, %#llx) or misaligned",
                    round, (unsigned long long)a.off, (unsigned long long)a.n, (unsigned long long)a.align,
                    (unsigned long long)lo, (unsigned long long)hi);
            return;
        }
        bytes += a.n;
    }
    qsort(all, n, sizeof all[0], bump_cmp);
    for (uint64_t k = 1; k < n; k++)
        if (all[k].off < all[k - 1].off + all[k - 1].n) {
            ht_fail(run, "round %d: allocations [%#llx, +%llu) and [%#llx, +%llu) overlap", round,
                    (unsigned long long)all[k - 1].off, (unsigned long long)all[k - 1].n,
                    (unsigned long long)all[k].off, (unsigned long long)all[k].n);
            return;
        }
    if (bytes > b->size || gmk_bump_used(b) > b->size || gmk_bump_used(b) < bytes) {
        ht_fail(run, "round %d: %llu bytes handed out, used %llu, size %llu", round, (unsigned long long)bytes,
                (unsigned long long)gmk_bump_used(b), (unsigned long long)b->size);
        return;
    }
    run->res->ops += (int64_t)n;
    run->res->aux += (int64_t)bytes;
}

/* Single-threaded edges; leaves the allocator reset. */
static void bump_bounds(ht_run_t *run, gmk_bump_t *b, uint64_t capacity) {
    uint64_t g = GMK_BUMP_GRAIN, base = (HT_BUMP_BASE + g - 1) / g * g;
    uint64_t size = (HT_BUMP_BASE + capacity) / g * g - base;
    if (b->base_off != base || b->size != size) {
        ht_fail(run, "init(%u, %llu): base %llu size %llu, want %llu %llu", HT_BUMP_BASE,
                (unsigned long long)capacity, (unsigned long long)b->base_off, (unsigned long long)b->size,
                (unsigned long long)base, (unsigned long long)size);
        return;
    }
    struct {
        uint64_t n, align;
    } bad[] = {{0, 0}, {1, 3}, {1, 48}, {size + 1, 0}, {1, 2 * size}, {size, 32}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        if (gmk_bump_alloc(b, bad[k].n, bad[k].align) != GMK_BUMP_NONE) {
            ht_fail(run, "alloc(%llu, align %llu) succeeded", (unsigned long long)bad[k].n,
                    (unsigned long long)bad[k].align);
            return;
        }
    if (gmk_bump_fails(b) != sizeof bad / sizeof bad[0] || gmk_bump_used(b) != 0) {
        ht_fail(run, "bad requests: fails %llu, used %llu", (unsigned long long)gmk_bump_fails(b),
                (unsigned long long)gmk_bump_used(b));
        return;
    }
    uint64_t a = gmk_bump_alloc(b, 1, 1), c = gmk_bump_alloc(b, 16, 16), d = gmk_bump_alloc(b, 1, 64);
    if (a != base || c != base + g || d % 64 != 0 || d < base + 2 * g || gmk_bump_used(b) != 2 * g + 16 + 48) {
        ht_fail(run, "small allocations: %llu %llu %llu (base %llu), used %llu", (unsigned long long)a,
                (unsigned long long)c, (unsigned long long)d, (unsigned long long)base,
                (unsigned long long)gmk_bump_used(b));
        return;
    }
    gmk_bump_reset(b);
    if (gmk_bump_used(b) != 0 || gmk_bump_hwm(b) != 2 * g + 16 + 48) {
        ht_fail(run, "reset: used %llu, hwm %llu", (unsigned long long)gmk_bump_used(b),
                (unsigned long long)gmk_bump_hwm(b));
        return;
    }
    if (gmk_bump_alloc(b, size, 0) != base || gmk_bump_alloc(b, 1, 0) != GMK_BUMP_NONE ||
        gmk_bump_used(b) != size) {
        ht_fail(run, "a request of the whole size did not fit exactly");
        return;
    }
    gmk_bump_reset(b);
}

int ht_bump(const ht_cfg_t *cfg, ht_result_t *res) {
    ht_run_t run;
    ht_run_init(&run, cfg, res);
    int nt = cfg->producers;
    uint64_t capacity = cfg->capacity;
    if (nt < 1 || nt > 64 || capacity < 1024 || capacity > (1u << 26) || cfg->items < 1) {
        ht_fail(&run, "bad config: %d threads, %llu bytes, %lld rounds", nt, (unsigned long long)capacity,
                (long long)cfg->items);
        return ht_run_done(&run);
    }
    gmk_bump_t *b = ht_alloc(sizeof *b);
    bump_shared_t sh = {.run = &run, .b = b};
    bump_thread_t th[64];
    memset(th, 0, sizeof th);
    uint64_t per = capacity / GMK_BUMP_GRAIN + 1;
    bump_alloc_t *all = calloc(per * (uint64_t)nt, sizeof *all);
    if (!b || !all) {
        ht_fail(&run, "out of memory");
        goto out;
    }
    for (int i = 0; i < nt; i++) {
        th[i] = (bump_thread_t){.sh = &sh, .id = i, .rng = ht_seed(cfg->seed, (uint64_t)i), .cap = per};
        th[i].got = calloc(per, sizeof *th[i].got);
        if (!th[i].got) {
            ht_fail(&run, "out of memory");
            goto out;
        }
    }
    gmk_bump_init(b, HT_BUMP_BASE, capacity);
    bump_bounds(&run, b, capacity);
    uint64_t fails0 = gmk_bump_fails(b), hwm = gmk_bump_hwm(b);
    for (int round = 0; round < cfg->items && !ht_failed(&run); round++) {
        ht_threads(&run, nt, bump_main, th, sizeof th[0]);
        if (ht_failed(&run))
            break;
        bump_check_round(&run, b, th, nt, all, round);
        uint64_t used = gmk_bump_used(b);
        hwm = used > hwm ? used : hwm;
        gmk_bump_reset(b); /* the owner, with every thread joined */
        if (gmk_bump_used(b) != 0 || gmk_bump_hwm(b) != hwm)
            ht_fail(&run, "round %d: after reset used %llu, hwm %llu (want %llu)", round,
                    (unsigned long long)gmk_bump_used(b), (unsigned long long)gmk_bump_hwm(b),
                    (unsigned long long)hwm);
    }
    for (int i = 0; i < nt; i++)
        res->full += th[i].nones;
    if (!ht_failed(&run) && gmk_bump_fails(b) - fails0 != (uint64_t)res->full)
        ht_fail(&run, "fails counted %llu, NONE returned %lld", (unsigned long long)(gmk_bump_fails(b) - fails0),
                (long long)res->full);
out:
    for (int i = 0; i < nt; i++)
        free(th[i].got);
    free(all);
    free(b);
    return ht_run_done(&run);
}
