//go:build cgo

/*
 * ht_slab.c — gmk_slab.h (GMK.md [A2], [A3], [G2]) under threads.
 *
 * cfg: producers (threads), items (alloc-or-free steps per thread), capacity
 * (blocks), block (block size: a power of two takes the shift path, anything
 * else the division path). res: ops = blocks handed out, full = allocations
 * that found the slab empty, aux = double frees rejected in the races
 * ((producers - 1) * capacity * HT_SLAB_RACES).
 *
 * The slab hands out offsets into an arena the harness allocates; the
 * threads write into the blocks they hold.
 *
 * Checks:
 *   - single-threaded: a fresh slab hands out block 0, 1, … in order, then
 *     NONE (counted in fails, in_use and hwm at nblocks); frees of offsets that
 *     are not block starts (below, inside, past the end) and double frees are
 *     rejected and change nothing; after freeing everything in_use is 0;
 *   - exhaustion under contention: all threads allocate until NONE at once
 *     (no frees in between): together they hold exactly nblocks distinct
 *     blocks;
 *   - the batch calls, single-threaded: alloc_n hands out blocks in order,
 *     returns a partial batch at exhaustion and 0 (counted) when empty;
 *     free_n frees the good offsets of a batch and skips bad ones and
 *     duplicates;
 *   - churn: threads allocate and free at random, single and batch calls
 *     mixed, each holding up to
 *     2 * nblocks / threads blocks (so the slab runs dry often). A holder
 *     claims an ownership word per block (a CAS: a second holder of one block
 *     is caught at once) and fills the block with its mark; before freeing it
 *     checks the mark is intact (another writer of the block is caught).
 *     Tiny slabs make the Treiber stack's ABA case frequent: without the tag
 *     a stale CAS would install a block that is allocated, and two holders
 *     would follow;
 *   - racing frees, HT_SLAB_RACES rounds: with every block allocated, all
 *     threads free every block at once: exactly one free per block succeeds,
 *     the others are rejected as double frees;
 *   - the end: every block back, in_use 0, hwm <= nblocks, and a fresh round
 *     of allocations gets all nblocks blocks again.
 */
#define _GNU_SOURCE
#include "ht_util.h"
#include "gmk_slab.h"

#define HT_SLAB_BASE 65536u /* arena offset of block 0: not 0, so offsets are checked, not indices */
#define HT_SLAB_RACES 100   /* rounds of racing frees */
#define HT_SLAB_BATCH 8     /* largest batch of gmk_slab_alloc_n / free_n in the churn */

typedef struct slab_shared {
    ht_run_t *run;
    gmk_slab_t *s;
    unsigned char *arena;  /* nblocks * block_size bytes: offset base+x lives at arena+x */
    uint32_t *owner;       /* per block: 0 free, else holder id + 1 */
    uint32_t nblocks, bs;
    int nthreads;
    int64_t steps;
    uint32_t hold_max;     /* blocks one thread may hold in the churn */
    pthread_barrier_t phase;
    struct slab_thread *threads;
    uint64_t *all;   /* phase 4: every block, allocated */
    uint32_t *frees; /* phase 4: successful frees per block */
    uint32_t race_ok; /* phase 4, batch rounds: successful frees in all */
} slab_shared_t;

typedef struct slab_thread {
    slab_shared_t *sh;
    int id;
    uint64_t rng;
    uint64_t *held; /* offsets held */
    uint32_t nheld;
    uint64_t mark;  /* bumped per allocation: what this holder writes */
    uint32_t *perm; /* phase 4: this thread's order of frees */
    int64_t allocs, nones, double_frees;
} slab_thread_t;

static unsigned char *slab_bytes(slab_shared_t *sh, uint64_t off) { return sh->arena + (off - HT_SLAB_BASE); }

/* Take block off for holder id: claim its ownership word, then fill it. */
static int slab_take(slab_thread_t *th, uint64_t off) {
    slab_shared_t *sh = th->sh;
    uint64_t rel = off - HT_SLAB_BASE;
    if (off < HT_SLAB_BASE || rel % sh->bs != 0 || rel / sh->bs >= sh->nblocks) {
        ht_fail(sh->run, "thread %d: alloc returned %#llx, not a block start", th->id, (unsigned long long)off);
        return -1;
    }
    uint32_t i = (uint32_t)(rel / sh->bs), expect = 0;
    if (!__atomic_compare_exchange_n(&sh->owner[i], &expect, (uint32_t)th->id + 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        ht_fail(sh->run, "block %u handed to thread %d while thread %u holds it", i, th->id, expect - 1);
        return -1;
    }
    uint64_t m = (uint64_t)th->id << 48 | ++th->mark;
    unsigned char *b = slab_bytes(sh, off);
    for (uint32_t j = 0; j + 8 <= sh->bs; j += 8)
        memcpy(b + j, &m, 8);
    th->held[th->nheld++] = off;
    th->allocs++;
    return 0;
}

/* A held block on its way back: its mark must be intact (nobody else wrote
 * it); then its ownership word is released. */
static int slab_release(slab_thread_t *th, uint64_t off) {
    slab_shared_t *sh = th->sh;
    uint32_t i = (uint32_t)((off - HT_SLAB_BASE) / sh->bs);
    unsigned char *b = slab_bytes(sh, off);
    uint64_t m0;
    memcpy(&m0, b, 8);
    for (uint32_t j = 8; j + 8 <= sh->bs; j += 8)
        if (memcmp(b + j, &m0, 8) != 0 || m0 >> 48 != (uint64_t)th->id) {
            ht_fail(sh->run, "block %u held by thread %d was written by another", i, th->id);
            return -1;
        }
    __atomic_store_n(&sh->owner[i], 0, __ATOMIC_RELEASE);
    return 0;
}

/* Give back held[k] with gmk_slab_free. */
static int slab_give(slab_thread_t *th, uint32_t k) {
    uint64_t off = th->held[k];
    if (slab_release(th, off) != 0)
        return -1;
    if (gmk_slab_free(th->sh->s, off) != 0) {
        ht_fail(th->sh->run, "thread %d: free of held block %#llx failed", th->id, (unsigned long long)off);
        return -1;
    }
    th->held[k] = th->held[--th->nheld];
    return 0;
}

/* Give back the last m held blocks (at most HT_SLAB_BATCH) with one gmk_slab_free_n. */
static int slab_give_n(slab_thread_t *th, uint32_t m) {
    uint64_t *offs = th->held + th->nheld - (m < HT_SLAB_BATCH ? m : HT_SLAB_BATCH);
    m = (uint32_t)(th->held + th->nheld - offs);
    for (uint32_t j = 0; j < m; j++)
        if (slab_release(th, offs[j]) != 0)
            return -1;
    uint32_t n = gmk_slab_free_n(th->sh->s, offs, m);
    if (n != m) {
        ht_fail(th->sh->run, "thread %d: free_n of %u held blocks freed %u", th->id, m, n);
        return -1;
    }
    th->nheld -= m;
    return 0;
}

/* Between phases 1 and 2 (one thread, the others at the barrier): the
 * threads hold every block, each once. slab_take's ownership CAS has already
 * caught a block held twice, so counting suffices. */
static void slab_exhausted(slab_shared_t *sh) {
    uint64_t held = 0;
    for (int i = 0; i < sh->nthreads; i++)
        held += sh->threads[i].nheld;
    if (held != sh->nblocks || gmk_slab_in_use(sh->s) != sh->nblocks)
        ht_fail(sh->run, "exhaustion under contention: threads hold %llu of %u blocks, in_use %llu",
                (unsigned long long)held, sh->nblocks, (unsigned long long)gmk_slab_in_use(sh->s));
}

/* Before phase 4 (one thread): everything is free; allocate it all into sh->all. */
static void slab_take_all(slab_shared_t *sh) {
    if (gmk_slab_in_use(sh->s) != 0) {
        ht_fail(sh->run, "every holder gave back: in_use %llu", (unsigned long long)gmk_slab_in_use(sh->s));
        return;
    }
    memset(sh->frees, 0, sh->nblocks * sizeof *sh->frees);
    for (uint32_t k = 0; k < sh->nblocks; k++) {
        sh->all[k] = gmk_slab_alloc(sh->s);
        if (sh->all[k] == GMK_SLAB_NONE) {
            ht_fail(sh->run, "every block free, yet allocation %u of %u found the slab empty", k, sh->nblocks);
            return;
        }
        if (sh->frees[(sh->all[k] - HT_SLAB_BASE) / sh->bs]++) { /* frees[] as scratch: seen */
            ht_fail(sh->run, "every block free, yet block %#llx came out twice", (unsigned long long)sh->all[k]);
            return;
        }
    }
    memset(sh->frees, 0, sh->nblocks * sizeof *sh->frees);
    sh->race_ok = 0;
}

/* After a round of phase 4 (one thread): each block was freed exactly once.
 * (Batch rounds count successes in total; the next round's slab_take_all, or
 * slab_all_back at the end, then proves that each block is in the list once.) */
static void slab_raced(slab_shared_t *sh, int batch) {
    if (batch) {
        if (sh->race_ok != sh->nblocks)
            ht_fail(sh->run, "racing free_n of %u blocks: %u succeeded", sh->nblocks, sh->race_ok);
        return;
    }
    for (uint32_t k = 0; k < sh->nblocks; k++)
        if (sh->frees[k] != 1) {
            ht_fail(sh->run, "racing frees of block %#llx: %u succeeded", (unsigned long long)sh->all[k],
                    sh->frees[k]);
            return;
        }
    if (gmk_slab_in_use(sh->s) != 0)
        ht_fail(sh->run, "after the racing frees: in_use %llu", (unsigned long long)gmk_slab_in_use(sh->s));
}

static void *slab_drain(slab_thread_t *th);

static void *slab_main(void *arg) {
    slab_thread_t *th = arg;
    slab_shared_t *sh = th->sh;
    if (ht_gate(sh->run))
        return NULL;
    /* Every thread reaches every barrier, failed or not: a failure only
     * skips work, so no thread is left waiting. */

    /* Phase 1, exhaust: no frees run, so NONE means the slab is empty. */
    for (;;) {
        uint64_t off = gmk_slab_alloc(sh->s);
        if (off == GMK_SLAB_NONE || slab_take(th, off) != 0)
            break;
    }
    pthread_barrier_wait(&sh->phase);
    if (th->id == 0)
        slab_exhausted(sh);
    pthread_barrier_wait(&sh->phase);

    /* Phase 2, churn: single and batch calls mixed. */
    for (int64_t step = 0; step < sh->steps && !ht_failed(sh->run); step++) {
        uint64_t r = ht_rand(&th->rng);
        int want_alloc = th->nheld == 0 || (th->nheld < sh->hold_max && (r & 1));
        if (want_alloc && (r & 2)) {
            uint64_t off = gmk_slab_alloc(sh->s);
            if (off == GMK_SLAB_NONE) {
                th->nones++;
                if (th->nheld == 0)
                    sched_yield(); /* the holders of the whole slab are elsewhere */
                continue;
            }
            if (slab_take(th, off) != 0)
                break;
        } else if (want_alloc) {
            uint64_t offs[HT_SLAB_BATCH];
            uint32_t k = 1 + (uint32_t)((r >> 8) % HT_SLAB_BATCH);
            if (k > sh->hold_max - th->nheld)
                k = sh->hold_max - th->nheld;
            uint32_t n = gmk_slab_alloc_n(sh->s, offs, k);
            if (n == 0) {
                th->nones++;
                if (th->nheld == 0)
                    sched_yield();
                continue;
            }
            for (uint32_t j = 0; j < n; j++)
                if (slab_take(th, offs[j]) != 0)
                    return slab_drain(th);
        } else if (r & 2) {
            if (slab_give(th, (uint32_t)((r >> 8) % th->nheld)) != 0)
                break;
        } else if (slab_give_n(th, 1 + (uint32_t)((r >> 8) % th->nheld)) != 0) {
            break;
        }
    }

    return slab_drain(th);
}

/* Phases 3 and 4 (every thread runs them, failed or not: they hold the
 * barriers). */
static void *slab_drain(slab_thread_t *th) {
    slab_shared_t *sh = th->sh;
    /* Phase 3, give everything back. */
    while (th->nheld > 0 && !ht_failed(sh->run))
        if (slab_give(th, th->nheld - 1) != 0)
            break;

    /* Phase 4, racing frees, HT_SLAB_RACES rounds: thread 0 allocates every
     * block, then every thread frees every block. Exactly one free per block
     * may succeed; the rest are double frees and must be rejected. In even
     * rounds all threads go in the same order, so they collide on each block
     * (on two cores the first thread would otherwise often finish alone);
     * in odd rounds each goes in its own random order. Rounds 2 and 3 of
     * every 4 free with gmk_slab_free_n, in chunks. */
    for (int round = 0; round < HT_SLAB_RACES; round++) {
        pthread_barrier_wait(&sh->phase);
        if (th->id == 0 && !ht_failed(sh->run))
            slab_take_all(sh);
        pthread_barrier_wait(&sh->phase);
        if (!ht_failed(sh->run)) {
            uint32_t n = sh->nblocks, *perm = th->perm;
            for (uint32_t k = 0; k < n; k++)
                perm[k] = k;
            for (uint32_t k = n; (round & 1) && k > 1; k--) {
                uint32_t j = (uint32_t)(ht_rand(&th->rng) % k), x = perm[k - 1];
                perm[k - 1] = perm[j];
                perm[j] = x;
            }
            if (round & 2) { /* batch rounds: free_n over chunks of the order */
                uint64_t offs[HT_SLAB_BATCH];
                for (uint32_t k = 0; k < n; k += HT_SLAB_BATCH) {
                    uint32_t m = n - k < HT_SLAB_BATCH ? n - k : HT_SLAB_BATCH;
                    for (uint32_t j = 0; j < m; j++)
                        offs[j] = sh->all[perm[k + j]];
                    uint32_t ok = gmk_slab_free_n(sh->s, offs, m);
                    __atomic_fetch_add(&sh->race_ok, ok, __ATOMIC_RELAXED);
                    th->double_frees += m - ok;
                }
            } else {
                for (uint32_t k = 0; k < n; k++) {
                    if (gmk_slab_free(sh->s, sh->all[perm[k]]) == 0)
                        __atomic_fetch_add(&sh->frees[perm[k]], 1, __ATOMIC_RELAXED);
                    else
                        th->double_frees++;
                }
            }
        }
        pthread_barrier_wait(&sh->phase);
        if (th->id == 0 && !ht_failed(sh->run))
            slab_raced(sh, round & 2);
    }
    return NULL;
}

/* Single-threaded: order, exhaustion, bad frees, double frees. */
static void slab_bounds(ht_run_t *run, gmk_slab_t *s, uint32_t n, uint32_t bs) {
    for (uint32_t i = 0; i < n; i++) {
        uint64_t off = gmk_slab_alloc(s);
        if (off != HT_SLAB_BASE + (uint64_t)i * bs) {
            ht_fail(run, "fresh slab: allocation %u returned %#llx", i, (unsigned long long)off);
            return;
        }
    }
    if (gmk_slab_alloc(s) != GMK_SLAB_NONE || gmk_slab_fails(s) != 1 || gmk_slab_in_use(s) != n ||
        gmk_slab_hwm(s) != n) {
        ht_fail(run, "exhausted slab: fails %llu, in_use %llu, hwm %llu", (unsigned long long)gmk_slab_fails(s),
                (unsigned long long)gmk_slab_in_use(s), (unsigned long long)gmk_slab_hwm(s));
        return;
    }
    uint64_t end = HT_SLAB_BASE + (uint64_t)n * bs;
    uint64_t bad[] = {0, HT_SLAB_BASE - bs, HT_SLAB_BASE + 1, HT_SLAB_BASE + bs / 2, HT_SLAB_BASE + bs - 1,
                      end, end + bs, GMK_SLAB_NONE, HT_SLAB_BASE + (uint64_t)(n - 1) * bs + 8};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        if (gmk_slab_free(s, bad[k]) != -1 || gmk_slab_in_use(s) != n) {
            ht_fail(run, "free(%#llx), not a block start, was accepted", (unsigned long long)bad[k]);
            return;
        }
    for (uint32_t i = 0; i < n; i++)
        if (gmk_slab_free(s, HT_SLAB_BASE + (uint64_t)i * bs) != 0) {
            ht_fail(run, "free of allocated block %u failed", i);
            return;
        }
    if (gmk_slab_free(s, HT_SLAB_BASE) != -1 || gmk_slab_free(s, end - bs) != -1) {
        ht_fail(run, "double free accepted");
        return;
    }
    if (gmk_slab_in_use(s) != 0)
        ht_fail(run, "all freed: in_use %llu", (unsigned long long)gmk_slab_in_use(s));
}

/* Single-threaded batch edges, on a fresh slab (n >= 4): order, partial
 * batches at exhaustion, rejected offsets and duplicates inside a batch. */
static void slab_batch_bounds(ht_run_t *run, gmk_slab_t *s, uint32_t n, uint32_t bs) {
    uint64_t offs[4], bad[5];
    if (gmk_slab_alloc_n(s, offs, 3) != 3 || offs[0] != HT_SLAB_BASE || offs[1] != HT_SLAB_BASE + bs ||
        offs[2] != HT_SLAB_BASE + 2 * (uint64_t)bs || gmk_slab_in_use(s) != 3) {
        ht_fail(run, "fresh slab: alloc_n(3) did not return blocks 0, 1, 2");
        return;
    }
    uint32_t rest = n - 3, got = 0;
    while (got < rest) { /* the rest, in batches of up to 4; the last one partial */
        uint32_t k = gmk_slab_alloc_n(s, offs, 4);
        if (k == 0 || k > 4 || (k < 4 && got + k != rest)) {
            ht_fail(run, "alloc_n(4) returned %u with %u of %u blocks left", k, rest - got, n);
            return;
        }
        for (uint32_t j = 0; j < k; j++)
            if (offs[j] != HT_SLAB_BASE + (uint64_t)(3 + got + j) * bs) {
                ht_fail(run, "fresh slab: batch block %u out of order", 3 + got + j);
                return;
            }
        got += k;
    }
    uint64_t fails = gmk_slab_fails(s);
    if (gmk_slab_alloc_n(s, offs, 4) != 0 || gmk_slab_fails(s) != fails + 1 || gmk_slab_in_use(s) != n) {
        ht_fail(run, "exhausted slab: alloc_n returned blocks, or did not count the failure");
        return;
    }
    /* blocks 0 and 1, block 0 again, an offset inside block 1, one past the end */
    bad[0] = HT_SLAB_BASE;
    bad[1] = HT_SLAB_BASE + bs;
    bad[2] = HT_SLAB_BASE;
    bad[3] = HT_SLAB_BASE + bs + 1;
    bad[4] = HT_SLAB_BASE + (uint64_t)n * bs;
    if (gmk_slab_free_n(s, bad, 5) != 2 || gmk_slab_in_use(s) != n - 2) {
        ht_fail(run, "free_n of 2 good, a duplicate and 2 bad offsets: in_use %llu",
                (unsigned long long)gmk_slab_in_use(s));
        return;
    }
    if (gmk_slab_alloc_n(s, offs, 4) != 2 || gmk_slab_alloc(s) != GMK_SLAB_NONE) {
        ht_fail(run, "after freeing 2 blocks, alloc_n(4) did not get exactly them");
        return;
    }
    for (uint32_t i = 0; i < n; i++)
        if (gmk_slab_free(s, HT_SLAB_BASE + (uint64_t)i * bs) != 0) {
            ht_fail(run, "batch edges: free of block %u failed", i);
            return;
        }
}

/* Allocate everything single-threaded: nblocks distinct blocks, then NONE; free them again. */
static void slab_all_back(ht_run_t *run, gmk_slab_t *s, uint32_t n, uint32_t bs) {
    uint8_t *got = calloc(n, 1);
    uint64_t *offs = calloc(n, sizeof *offs);
    if (!got || !offs) {
        ht_fail(run, "out of memory");
        goto out;
    }
    for (uint32_t k = 0; k < n; k++) {
        uint64_t off = gmk_slab_alloc(s);
        if (off == GMK_SLAB_NONE) {
            ht_fail(run, "after the run only %u of %u blocks came back", k, n);
            goto out;
        }
        uint64_t i = (off - HT_SLAB_BASE) / bs;
        if (i >= n || got[i]++) {
            ht_fail(run, "after the run block %#llx came back twice", (unsigned long long)off);
            goto out;
        }
        offs[k] = off;
    }
    if (gmk_slab_alloc(s) != GMK_SLAB_NONE) {
        ht_fail(run, "after the run the slab had more than %u blocks", n);
        goto out;
    }
    for (uint32_t k = 0; k < n; k++)
        if (gmk_slab_free(s, offs[k]) != 0) {
            ht_fail(run, "final free of %#llx failed", (unsigned long long)offs[k]);
            goto out;
        }
out:
    free(offs);
    free(got);
}

int ht_slab(const ht_cfg_t *cfg, ht_result_t *res) {
    ht_run_t run;
    ht_run_init(&run, cfg, res);
    int nt = cfg->producers;
    uint32_t n = cfg->capacity, bs = cfg->block;
    if (nt < 1 || nt > 64 || n < 1 || n > (1u << 24) || bs < 8 || bs > 4096 || cfg->items < 0) {
        ht_fail(&run, "bad config: %d threads, %u blocks of %u bytes", nt, n, bs);
        return ht_run_done(&run);
    }
    slab_shared_t sh = {.run = &run, .nblocks = n, .bs = bs, .nthreads = nt, .steps = cfg->items};
    sh.hold_max = 2 * n / (uint32_t)nt + 1;
    gmk_slab_t *s = ht_alloc(sizeof *s);
    uint32_t *next = calloc(n, sizeof *next);
    sh.s = s;
    sh.arena = ht_alloc((size_t)n * bs);
    sh.owner = calloc(n, sizeof *sh.owner);
    sh.all = calloc(n, sizeof *sh.all);
    sh.frees = calloc(n, sizeof *sh.frees);
    slab_thread_t th[64];
    memset(th, 0, sizeof th);
    int barrier = 0;
    if (!s || !next || !sh.arena || !sh.owner || !sh.all || !sh.frees) {
        ht_fail(&run, "out of memory");
        goto out;
    }
    for (int i = 0; i < nt; i++) {
        th[i] = (slab_thread_t){.sh = &sh, .id = i, .rng = ht_seed(cfg->seed, (uint64_t)i)};
        th[i].held = calloc(n + 1, sizeof *th[i].held); /* phase 1 may give one thread everything */
        th[i].perm = calloc(n, sizeof *th[i].perm);
        if (!th[i].held || !th[i].perm) {
            ht_fail(&run, "out of memory");
            goto out;
        }
    }
    if (n >= 4) {
        gmk_slab_init(s, HT_SLAB_BASE, bs, n, next);
        slab_batch_bounds(&run, s, n, bs);
    }
    gmk_slab_init(s, HT_SLAB_BASE, bs, n, next);
    slab_bounds(&run, s, n, bs);
    if (ht_failed(&run))
        goto out;

    pthread_barrier_init(&sh.phase, NULL, (unsigned)nt);
    barrier = 1;
    sh.threads = th;
    ht_threads(&run, nt, slab_main, th, sizeof th[0]);
    if (ht_failed(&run))
        goto out;

    for (int i = 0; i < nt; i++) {
        res->ops += th[i].allocs;
        res->full += th[i].nones;
        res->aux += th[i].double_frees;
    }
    if (gmk_slab_in_use(s) != 0 || gmk_slab_hwm(s) > n) {
        ht_fail(&run, "after the run: in_use %llu, hwm %llu of %u", (unsigned long long)gmk_slab_in_use(s),
                (unsigned long long)gmk_slab_hwm(s), n);
        goto out;
    }
    slab_all_back(&run, s, n, bs);
out:
    if (barrier)
        pthread_barrier_destroy(&sh.phase);
    for (int i = 0; i < nt; i++) {
        free(th[i].held);
        free(th[i].perm);
    }
    free(sh.frees);
    free(sh.all);
    free(sh.owner);
    free(sh.arena);
    free(next);
    free(s);
    return ht_run_done(&run);
}
