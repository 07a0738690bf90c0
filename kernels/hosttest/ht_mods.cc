//go:build cgo

/*
 * ht_mods.cc — the standard GPU modules compiled as host C++ (see ht_mods.h).
 *
 * The host build of the handler API: the same names and contracts as
 * gmk_gpu.h's device calls, over host state. One thread runs one handler at
 * a time, so the emit buffer needs no atomics here; the modules' own
 * gmk_lock_t and atomics run as the GCC builtins of gmk_dev.h.
 */
#include "ht_mods.h"

#include <string.h>

#include "gmk_types.h"

/* ---- the host build of the handler API ---------------------------------- */

static uint64_t ht_now;                                    /* gmk_now's clock */
alignas(64) static unsigned char ht_arena[HT_MOD_BLOCKS * HT_MOD_BLOCK]; /* payload_base */
static uint32_t ht_freed[HT_MOD_BLOCKS], ht_nfree;         /* free block stack */
static uint8_t ht_held[HT_MOD_BLOCKS];                     /* double-free guard */
static int ht_bad_free;                                    /* frees of blocks not held */

#define GMK_HANDLER(fn) static int fn(gmk_ctx_t *ctx, gmk_task_t *t)

static inline int gmk_emit_to(gmk_ctx_t *ctx, const gmk_task_t *t, uint32_t dest, uint64_t delay = 0) {
    uint32_t i = *ctx->nout;
    if (i >= ctx->out_cap)
        return GMK_CHAN_FULL;
    *ctx->nout = i + 1;
    ctx->out[i].task = *t;
    ctx->out[i].dest = dest;
    ctx->out[i].src = ctx->src;
    ctx->out[i].delay = delay;
    return GMK_OK;
}
static inline int gmk_emit(gmk_ctx_t *ctx, const gmk_task_t *t) { return gmk_emit_to(ctx, t, GMK_DEST_LOCAL); }
static inline int gmk_emit_host(gmk_ctx_t *ctx, const gmk_task_t *t) { return gmk_emit_to(ctx, t, GMK_DEST_HOST); }
static inline int gmk_emit_after(gmk_ctx_t *ctx, const gmk_task_t *t, uint64_t ns) {
    return gmk_emit_to(ctx, t, GMK_DEST_LATER, ns);
}
static inline uint64_t gmk_now(void) { return ht_now; }
static inline unsigned char *gmk_payload(gmk_ctx_t *ctx, const gmk_task_t *t) {
    return t->payload_len ? ctx->payload_base + t->payload : (unsigned char *)0;
}
static inline uint64_t gmk_payload_alloc(gmk_ctx_t *, uint32_t len) {
    if (len == 0 || len > HT_MOD_BLOCK || ht_nfree == 0)
        return GMK_NO_PAYLOAD;
    uint32_t b = ht_freed[--ht_nfree];
    ht_held[b] = 1;
    return (uint64_t)b * HT_MOD_BLOCK;
}
static inline void gmk_payload_free(gmk_ctx_t *, uint64_t off) {
    uint64_t b = off / HT_MOD_BLOCK;
    if (off % HT_MOD_BLOCK != 0 || b >= HT_MOD_BLOCKS || !ht_held[b]) {
        ht_bad_free++;
        return;
    }
    ht_held[b] = 0;
    ht_freed[ht_nfree++] = (uint32_t)b;
}

/* ---- the modules, as the kernel build includes them --------------------- */

#include "mod_gate.h"
#include "mod_kv.h"
#include "mod_log.h"
#include "mod_reduce.h"
#include "mod_stats.h"
#include "mod_timer.h"

/* The dispatch switch of these modules (kernels/gen/gmk_dispatch.cuh's, for
 * the standard modules' types). */
static int ht_dispatch(uint32_t type, gmk_ctx_t *ctx, gmk_task_t *t) {
    switch (type) {
    case GMK_TYPE_KV_REQ: return gmk_kv_request(ctx, t);
    case GMK_TYPE_LOG_WRITE: return gmk_log_write(ctx, t);
    case GMK_TYPE_TIMER_SET: return gmk_timer_set(ctx, t);
    case GMK_TYPE_TIMER_CANCEL: return gmk_timer_cancel(ctx, t);
    case GMK_TYPE_TIMER_FIRE_INTERNAL: return gmk_timer_fire(ctx, t);
    case GMK_TYPE_GATE_ARRIVE: return gmk_gate_arrive(ctx, t);
    case GMK_TYPE_REDUCE_IN: return gmk_reduce_element(ctx, t);
    case GMK_TYPE_STATS_IN: return gmk_stats_update(ctx, t);
    default: return GMK_UNKNOWN_TYPE;
    }
}

extern "C" void ht_mod_reset(const ht_mod_cfg_t *cfg) {
    memset(&gmk_kv, 0, sizeof gmk_kv);
    memset(&gmk_reduce, 0, sizeof gmk_reduce);
    memset(&gmk_timer, 0, sizeof gmk_timer);
    memset(&gmk_gate, 0, sizeof gmk_gate);
    memset(&gmk_stats, 0, sizeof gmk_stats);
    memset(&gmk_log, 0, sizeof gmk_log);
    gmk_kv.cfg.buckets = cfg->kv_buckets;
    gmk_kv.cfg.entries = cfg->kv_entries;
    gmk_kv.cfg.max_key = cfg->kv_max_key;
    gmk_kv.cfg.max_value = cfg->kv_max_value;
    gmk_reduce.cfg.op = cfg->reduce_op;
    gmk_reduce.cfg.kind = cfg->reduce_kind;
    gmk_reduce.cfg.max_groups = cfg->reduce_groups;
    gmk_reduce.cfg.max_elems = cfg->reduce_elems;
    gmk_timer.cfg.max_timers = cfg->timer_max;
    gmk_timer.cfg.step = cfg->timer_step;
    gmk_gate.cfg.max_gates = cfg->gate_max;
    gmk_gate.cfg.max_arrivals = cfg->gate_max_arrivals;
    gmk_log.level = cfg->log_level;
    gmk_stats.cfg.nmetrics = cfg->stats_n;
    memcpy(gmk_stats.cfg.kind, cfg->stats_kind, sizeof gmk_stats.cfg.kind);
    for (uint32_t i = 0; i < HT_MOD_BLOCKS; i++) {
        ht_freed[i] = HT_MOD_BLOCKS - 1 - i;
        ht_held[i] = 0;
    }
    ht_nfree = HT_MOD_BLOCKS;
    ht_bad_free = 0;
}

/* Copy the payloads of host emits into pbuf and release their blocks, as
 * host.tx staging does; local and delayed emits keep theirs. Returns -1 when
 * pbuf is too small. */
static int ht_stage(gmk_ctx_t *ctx, gmk_out_t *outs, uint32_t n, unsigned char *pbuf, uint32_t pcap) {
    uint32_t used = 0;
    for (uint32_t i = 0; i < n; i++) {
        gmk_task_t *x = &outs[i].task;
        if (outs[i].dest != GMK_DEST_HOST || x->payload_len == 0)
            continue;
        if (used + x->payload_len > pcap)
            return -1;
        memcpy(pbuf + used, ctx->payload_base + x->payload, x->payload_len);
        gmk_payload_free(ctx, x->payload);
        x->payload = used;
        used += x->payload_len;
    }
    return 0;
}

extern "C" int ht_mod_run(const gmk_task_t *in, const unsigned char *payload, uint64_t now, uint32_t out_cap,
                          gmk_task_t *after, gmk_out_t *outs, uint32_t *nout, unsigned char *pbuf, uint32_t pcap) {
    gmk_ctx_t ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.width = 1; /* lane 0 of a unit of one: every granularity's working lane */
    ctx.out = outs;
    ctx.nout = nout;
    ctx.out_cap = out_cap < HT_MOD_OUT_CAP ? out_cap : HT_MOD_OUT_CAP;
    ctx.payload_base = ht_arena;
    *nout = 0;
    ht_now = now;
    gmk_task_t t = *in;
    if (t.payload_len > 0) {
        t.payload = gmk_payload_alloc(&ctx, t.payload_len);
        if (t.payload == GMK_NO_PAYLOAD)
            return GMK_ALLOC_FAIL;
        memcpy(ht_arena + t.payload, payload, t.payload_len);
    }
    int rc = ht_dispatch(t.type, &ctx, &t);
    /* The kernel's release after dispatch: the input's block goes back unless
     * an emit carries it on or the handler kept it (payload_len 0). */
    if (t.payload_len > 0) {
        int moved = 0;
        for (uint32_t k = 0; k < *nout && !moved; k++)
            moved = outs[k].task.payload_len > 0 && outs[k].task.payload == t.payload;
        if (!moved)
            gmk_payload_free(&ctx, t.payload);
    }
    *after = t;
    if (ht_stage(&ctx, outs, *nout, pbuf, pcap) != 0 || ht_bad_free != 0)
        return -0x7FFF; /* a harness failure, not a module status */
    return rc;
}

extern "C" uint32_t ht_mod_live(void) { return HT_MOD_BLOCKS - ht_nfree; }

extern "C" void ht_mod_stat(uint32_t id, uint64_t *value, uint64_t *hsum, uint64_t *hist) {
    if (id >= GMK_STATS_MAX)
        return;
    *value = gmk_stats.value[id];
    *hsum = gmk_stats.hsum[id];
    memcpy(hist, gmk_stats.hist[id], sizeof gmk_stats.hist[id]);
}
