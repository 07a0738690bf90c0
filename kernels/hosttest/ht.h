/*
 * ht.h — the host test harness's entry points, called from Go (hosttest_cgo.go).
 *
 * Each ht_* function builds one GMK/gpu device structure in malloc'd memory,
 * runs it under pthreads standing in for worker blocks, checks it, and fills
 * *res. It returns 0 when every check held, else -1 with the first failure
 * described in res->err. No function keeps state between calls.
 */
#ifndef HT_H
#define HT_H

#include <stdint.h>

/* One run's size. Each function says which fields it reads. */
typedef struct ht_cfg {
    int32_t producers;  /* producing threads: pushers, posters, allocating threads */
    int32_t consumers;  /* consuming threads */
    int64_t items;      /* items per producer, or iterations per thread */
    uint32_t capacity;  /* ring slots, slab blocks, EVQ entries, bump bytes */
    uint32_t block;     /* slab block size; bridge staging bytes */
    uint64_t seed;      /* per-thread random streams derive from it */
    double timeout_s;   /* hang guard: give up and fail after this long */
} ht_cfg_t;

/* What a run saw; the meaning of each count is documented per function. */
typedef struct ht_result {
    int64_t ops;   /* items moved, blocks or bytes handed out */
    int64_t full;  /* a producer found the structure full (or an allocator empty) */
    int64_t empty; /* a consumer found the structure empty */
    int64_t aux;   /* a function-specific count */
    char err[512]; /* the first failed check; "" when all held */
} ht_result_t;

int ht_mpmc(const ht_cfg_t *cfg, ht_result_t *res);
int ht_slab(const ht_cfg_t *cfg, ht_result_t *res);
int ht_bump(const ht_cfg_t *cfg, ht_result_t *res);
int ht_evq(const ht_cfg_t *cfg, ht_result_t *res);
int ht_bridge(const ht_cfg_t *cfg, ht_result_t *res);
int ht_bridge_ll(const ht_cfg_t *cfg, ht_result_t *res);
int ht_guard(const ht_cfg_t *cfg, ht_result_t *res);

#endif /* HT_H */
