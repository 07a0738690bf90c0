/*
 * stats — metric updates on GMK/gpu: the device twin of modules/stats, with
 * the wire format of kernel/sdk/stats.go (type 973 stats.in):
 *
 *   meta0 = metric id (bits 0..31) | op (bits 32..39), meta1 = value
 *   ops   0 add: counter += meta1 (uint64), gauge += meta1 (int64)
 *         1 set: gauge = meta1 (int64)
 *         2 observe: histogram, log2 buckets as kernel/metrics.Histogram
 *           (bucket 0 holds 0, bucket i the values [2^(i-1), 2^i)), and sum
 *
 * CodeBadRequest for an id at or above cfg.nmetrics or an op the metric's
 * kind lacks; nothing changes then. The metric kinds are configuration
 * (cfg.kind[id]: 0 counter, 1 gauge, 2 histogram, modules/stats.Kind), set by
 * the host with the names, which stay on the host; with no metrics
 * configured every update is a bad request, as for modules/stats.
 *
 * The values live in gmk_stats (device memory); the host reads them with a
 * copy (cuModuleGetGlobal) and exports them under the configured names.
 * Each update is one relaxed device-scope atomic (a 64-bit add, or a store
 * for set): updates from several workers must not lose each other, but they
 * publish nothing else, so no fence is needed; a reader sees each value
 * whole. Granularity BLOCK keeps a worker's updates in batch order, so a set
 * followed by an add of one gauge gives what modules/stats gives.
 */
#ifndef GMK_STATS_MAX
#define GMK_STATS_MAX 64u /* metrics configurable at once */
#endif
#define GMK_STATS_BUCKETS 65u /* kernel/metrics.NumBuckets */

#define GMK_STATS_COUNTER 0u
#define GMK_STATS_GAUGE 1u
#define GMK_STATS_HISTOGRAM 2u

#define GMK_STAT_ADD 0u
#define GMK_STAT_SET 1u
#define GMK_STAT_OBSERVE 2u

typedef struct gmk_stats_cfg {
    uint32_t nmetrics;            /* ids 0..nmetrics-1 are configured (at most GMK_STATS_MAX) */
    uint8_t kind[GMK_STATS_MAX];  /* GMK_STATS_COUNTER, _GAUGE or _HISTOGRAM */
} gmk_stats_cfg_t;

typedef struct gmk_stats_state {
    gmk_stats_cfg_t cfg;
    uint64_t value[GMK_STATS_MAX];                   /* counter value, or gauge value (int64 bits) */
    uint64_t hsum[GMK_STATS_MAX];                    /* histogram: sum of observations, mod 2^64 */
    uint64_t hist[GMK_STATS_MAX][GMK_STATS_BUCKETS]; /* histogram: per-bucket counts */
} gmk_stats_state_t;

GMK_MODULE_STATE gmk_stats_state_t gmk_stats;

/* bits.Len64(v): the histogram bucket of v. */
GMK_MODULE_FN uint32_t gmk_stats_bucket(uint64_t v) {
#if defined(__CUDA_ARCH__)
    return 64u - (uint32_t)__clzll((long long)v);
#else
    return v == 0 ? 0u : 64u - (uint32_t)__builtin_clzll(v);
#endif
}

GMK_HANDLER(gmk_stats_update) {
    if (ctx->lane != 0)
        return GMK_OK;
    gmk_stats_state_t *s = &gmk_stats;
    const uint32_t id = (uint32_t)t->meta0, op = (uint32_t)(uint8_t)(t->meta0 >> 32);
    const uint32_t n = s->cfg.nmetrics < GMK_STATS_MAX ? s->cfg.nmetrics : GMK_STATS_MAX;
    if (id >= n)
        return GMK_CODE_BAD_REQUEST;
    const uint32_t kind = s->cfg.kind[id];
    if ((kind == GMK_STATS_COUNTER || kind == GMK_STATS_GAUGE) && op == GMK_STAT_ADD) {
        gmk_faa_rlx64(&s->value[id], t->meta1); /* wraps: int64 add for gauges, uint64 for counters */
    } else if (kind == GMK_STATS_GAUGE && op == GMK_STAT_SET) {
        gmk_st_rlx64(&s->value[id], t->meta1);
    } else if (kind == GMK_STATS_HISTOGRAM && op == GMK_STAT_OBSERVE) {
        gmk_faa_rlx64(&s->hist[id][gmk_stats_bucket(t->meta1)], 1);
        gmk_faa_rlx64(&s->hsum[id], t->meta1);
    } else {
        return GMK_CODE_BAD_REQUEST;
    }
    return GMK_OK;
}
