/*
 * ht_util.h — what every harness file shares: the run state (first failure
 * wins, the others stop), a hang guard, per-thread random streams, threads
 * and a start gate. Harness code only; the structures under test never
 * see it.
 */
#ifndef HT_UTIL_H
#define HT_UTIL_H

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ht.h"

/* The state of one run, shared by its threads. */
typedef struct ht_run {
    ht_result_t *res;
    int failed; /* set once by the first failure; threads poll it and stop */
    /* The hang guard's deadline (CLOCK_MONOTONIC seconds): window seconds
     * after the run started, moved window seconds on whenever it passes
     * with progress made since it was set (ht_progress counts it; mark is
     * the count the deadline was set at). deadline and mark are written
     * under mu; deadline is read without it, atomically. */
    double deadline;
    double window;
    uint64_t progress;
    uint64_t mark;
    int gate; /* set once every thread of a phase is started: they begin together */
    /* The watchdog (below): finished is guarded by mu and signalled on cv. */
    pthread_t dog;
    int dog_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int finished;
} ht_run_t;

static inline double ht_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A task (or event) arrived: the run is making progress. */
static inline void ht_progress(ht_run_t *run) { __atomic_fetch_add(&run->progress, 1, __ATOMIC_RELAXED); }

static inline double ht_deadline(ht_run_t *run) {
    double d;
    __atomic_load(&run->deadline, &d, __ATOMIC_ACQUIRE);
    return d;
}

/* With mu held, at or after the deadline: moves it on when the run made
 * progress since it was set, and reports whether it did. */
static inline int ht_extend_locked(ht_run_t *run, double now) {
    uint64_t p = __atomic_load_n(&run->progress, __ATOMIC_RELAXED);
    if (p == run->mark)
        return 0;
    run->mark = p;
    double d = now + run->window;
    __atomic_store(&run->deadline, &d, __ATOMIC_RELEASE);
    return 1;
}

/*
 * The watchdog. A thread that waits in the harness gives up at the deadline
 * (ht_stuck), but one spinning inside a structure's own wait loop (a lost
 * publication: a cell whose sequence never comes) cannot be reached, and that
 * may be the run's main thread. Rather than hang the test binary until go
 * test's timeout, a run still going HT_GRACE_S after a deadline it made no
 * progress by reports and aborts the process.
 */
#define HT_GRACE_S 10
static inline void *ht_dog(void *arg) {
    ht_run_t *run = arg;
    pthread_mutex_lock(&run->mu);
    for (;;) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        double left = run->deadline + HT_GRACE_S - ht_now();
        until.tv_sec += (time_t)(left > 0 ? left : 0) + 1;
        int rc = 0;
        while (!run->finished && rc == 0)
            rc = pthread_cond_timedwait(&run->cv, &run->mu, &until);
        if (run->finished)
            break;
        double now = ht_now();
        if (now < run->deadline + HT_GRACE_S || ht_extend_locked(run, now))
            continue;
        break;
    }
    int finished = run->finished;
    pthread_mutex_unlock(&run->mu);
    if (finished)
        return NULL;
    fprintf(stderr,
            "hosttest: the run is still going %d s after its deadline: a thread spins inside a structure's wait "
            "loop (a lost publication, or a position nobody fills). First failure: %s\n",
            HT_GRACE_S, run->res->err[0] ? run->res->err : "(none recorded)");
    abort();
}

static inline void ht_run_init(ht_run_t *run, const ht_cfg_t *cfg, ht_result_t *res) {
    memset(res, 0, sizeof *res);
    run->res = res;
    run->failed = 0;
    run->gate = 0;
    run->window = cfg->timeout_s > 0 ? cfg->timeout_s : 60;
    run->deadline = ht_now() + run->window;
    run->progress = 0;
    run->mark = 0;
    run->finished = 0;
    pthread_mutex_init(&run->mu, NULL);
    pthread_cond_init(&run->cv, NULL);
    run->dog_started = pthread_create(&run->dog, NULL, ht_dog, run) == 0;
}

/* End the run: stop the watchdog; 0 when every check held, else -1. */
static inline int ht_run_done(ht_run_t *run) {
    pthread_mutex_lock(&run->mu);
    run->finished = 1;
    pthread_cond_signal(&run->cv);
    pthread_mutex_unlock(&run->mu);
    if (run->dog_started)
        pthread_join(run->dog, NULL);
    pthread_cond_destroy(&run->cv);
    pthread_mutex_destroy(&run->mu);
    return run->failed ? -1 : 0;
}

/* Record a failure; only the first one's message is kept. */
__attribute__((format(printf, 2, 3))) static inline void ht_fail(ht_run_t *run, const char *fmt, ...) {
    int expect = 0;
    if (!__atomic_compare_exchange_n(&run->failed, &expect, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(run->res->err, sizeof run->res->err, fmt, ap);
    va_end(ap);
}

static inline int ht_failed(ht_run_t *run) { return __atomic_load_n(&run->failed, __ATOMIC_ACQUIRE); }

/*
 * The hang guard, for loops that wait on other threads: returns 1 (and fails
 * the run, naming what) once the run has failed, or its deadline passed with
 * no progress (ht_progress) for a whole window. Cheap enough to call on every
 * empty/full retry, which also yields the CPU: on a two-core machine the
 * thread being waited for is often not running.
 *
 * The deadline measures progress, not the run's length: it catches a lost
 * publication, which stops every consumer. A run that is only slow — other
 * test binaries keeping both cores busy while sixteen threads here take
 * turns — goes on. With an absolute deadline such a run once failed in CI
 * after 60 s (TestR1_MPMCEveryTaskExactlyOnce, 8x8/cap64, 0.05 s on an idle
 * machine).
 */
static inline int ht_stuck(ht_run_t *run, const char *what) {
    if (ht_failed(run))
        return 1;
    double now = ht_now();
    if (now > ht_deadline(run)) {
        pthread_mutex_lock(&run->mu);
        int goes_on = now <= run->deadline || ht_extend_locked(run, now);
        pthread_mutex_unlock(&run->mu);
        if (!goes_on) {
            ht_fail(run, "no progress for %.3g s: %s", run->window, what);
            return 1;
        }
    }
    sched_yield();
    return 0;
}

/* xorshift64*: a per-thread stream; seed it from the run seed and the thread id. */
static inline uint64_t ht_rand(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static inline uint64_t ht_seed(uint64_t seed, uint64_t id) {
    uint64_t s = seed ^ (0x9E3779B97F4A7C15ULL * (id + 1));
    return s ? s : 1;
}

/* A 64-bit mix (splitmix64's finaliser): derives check words from ids. */
static inline uint64_t ht_mix(uint64_t x) {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 31;
    return x;
}

/* Memory aligned for the structures' 128-byte lines, zeroed. */
static inline void *ht_alloc(size_t n) {
    size_t sz = (n + 127) & ~(size_t)127;
    void *p = aligned_alloc(128, sz ? sz : 128);
    if (p)
        memset(p, 0, sz ? sz : 128);
    return p;
}

/*
 * Run fn(args + i * argsize) on n threads and wait for all of them. The
 * threads call ht_gate first: it holds them until all are started, so they
 * collide from the first operation on.
 */
static inline void ht_threads(ht_run_t *run, int n, void *(*fn)(void *), void *args, size_t argsize) {
    pthread_t tid[64];
    int started = 0;
    __atomic_store_n(&run->gate, 0, __ATOMIC_RELEASE);
    if (n > 64)
        ht_fail(run, "harness: %d threads, at most 64", n);
    for (; started < n && !ht_failed(run); started++)
        if (pthread_create(&tid[started], NULL, fn, (char *)args + (size_t)started * argsize) != 0)
            ht_fail(run, "harness: pthread_create failed after %d threads", started);
    __atomic_store_n(&run->gate, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
}

/* Wait at the start gate; returns 1 when the run failed (the thread returns). */
static inline int ht_gate(ht_run_t *run) {
    while (!__atomic_load_n(&run->gate, __ATOMIC_ACQUIRE))
        sched_yield();
    return ht_failed(run);
}

#endif /* HT_UTIL_H */
