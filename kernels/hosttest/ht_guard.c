//go:build cgo

/*
 * ht_guard.c — the harness's own hang guard (ht_util.h: ht_stuck,
 * ht_progress, the watchdog), with no structure under test.
 *
 * cfg: producers (0 or 1: whether a trickler runs), items (the progress
 * marks it makes), block (milliseconds between two marks), timeout_s (the
 * guard's window). res: ops = marks the waiter saw.
 *
 * A waiter retries on ht_stuck until it has seen every mark; the trickler
 * makes them one at a time. Marks slower than nothing but inside the window
 * keep the run going however long it takes; no marks at all fail it once a
 * window passes.
 */
#define _GNU_SOURCE
#include "ht_util.h"

typedef struct guard_shared {
    ht_run_t *run;
    int64_t want;
    int64_t made;
    uint32_t step_ms;
} guard_shared_t;

typedef struct guard_thread {
    guard_shared_t *sh;
    int trickler;
} guard_thread_t;

static void *guard_main(void *arg) {
    guard_thread_t *th = arg;
    guard_shared_t *sh = th->sh;
    if (ht_gate(sh->run))
        return NULL;
    if (th->trickler) {
        for (int64_t i = 0; i < sh->want && !ht_failed(sh->run); i++) {
            struct timespec ts = {(time_t)(sh->step_ms / 1000), (long)(sh->step_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            __atomic_fetch_add(&sh->made, 1, __ATOMIC_RELEASE);
            ht_progress(sh->run);
        }
        return NULL;
    }
    while (__atomic_load_n(&sh->made, __ATOMIC_ACQUIRE) < sh->want)
        if (ht_stuck(sh->run, "waiter: marks missing"))
            return NULL;
    return NULL;
}

int ht_guard(const ht_cfg_t *cfg, ht_result_t *res) {
    ht_run_t run;
    ht_run_init(&run, cfg, res);
    guard_shared_t sh = {.run = &run, .want = cfg->items, .step_ms = cfg->block};
    guard_thread_t th[2] = {{.sh = &sh, .trickler = 0}, {.sh = &sh, .trickler = 1}};
    ht_threads(&run, cfg->producers > 0 ? 2 : 1, guard_main, th, sizeof th[0]);
    res->ops = __atomic_load_n(&sh.made, __ATOMIC_ACQUIRE);
    return ht_run_done(&run);
}
