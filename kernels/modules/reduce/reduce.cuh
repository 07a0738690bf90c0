/*
 * reduce — reductions on GMK/gpu: the device twin of modules/reduce, with the
 * wire format of kernel/sdk/reduce.go (types 971 reduce.in, 972 reduce.out):
 *
 *   in   meta0 = group (bits 32..63) | last (bit 31) | index (bits 0..30)
 *        meta1 = the element's value; payload = its bytes (concat)
 *   out  to the CPU kernel (host.tx), type 972, meta0 = group<<32 | count,
 *        meta1 = the result (sum, min, max) or the total length (concat),
 *        payload = the elements' bytes in index order (concat)
 *
 * A group opens with its first element and completes when the element
 * flagged last (index L) and all of 0..L have arrived; the fold runs over
 * indices 0..L in order (sdk.Reducer.Fold), so the result does not depend on
 * arrival order and equals the CPU module's bit for bit — floats included:
 * min and max follow Go's math.Min/Max (NaN and ±Inf first, -0 below +0,
 * Go's NaN bits), sums are IEEE double adds in index order. Codes as
 * modules/reduce: CodeBadRequest (index >= max_elems, or an op the device
 * lacks), CodeDuplicate, CodeMismatch, CodeFull (max_groups open), ALLOC_FAIL
 * (a concat result larger than a payload block, or no block: the group is
 * dropped). A result that does not fit the out buffer leaves its group
 * pending and the completing element returns RETRY; its re-run (same seq and
 * meta0) sends it, and an element of the next group with that id that gets
 * there first sends it too, then starts the next group.
 *
 * Configuration (gmk_reduce.cfg; zero is modules/reduce's default, sum of
 * int64): op 0 sum, 1 min, 2 max, 3 concat (sdk.Op); kind 0 int64, 1
 * uint64, 2 float64 bits (sdk.Kind). OpCustom (a Go function) cannot run on
 * the device: its elements fail with CodeBadRequest.
 *
 * Concat keeps each element's payload block (gmk_payload_keep) until its
 * group completes or is dropped, as modules/reduce retains them.
 *
 * Granularity BLOCK (lane 0 working), one gmk_lock_t over the group table.
 */
#include "gmk_types.h"

#ifndef GMK_REDUCE_GROUPS
#define GMK_REDUCE_GROUPS 64u /* groups open at once (DefaultMaxGroups) */
#endif
#ifndef GMK_REDUCE_ELEMS
#define GMK_REDUCE_ELEMS 1024u /* elements per group (DefaultMaxElems) */
#endif
#define GMK_REDUCE_LAST (1ull << 31)
#define GMK_REDUCE_INDEX 0x7FFFFFFFull

#define GMK_REDUCE_SUM 0u
#define GMK_REDUCE_MIN 1u
#define GMK_REDUCE_MAX 2u
#define GMK_REDUCE_CONCAT 3u
#define GMK_REDUCE_INT 0u
#define GMK_REDUCE_UINT 1u
#define GMK_REDUCE_FLOAT 2u

typedef struct gmk_reduce_cfg {
    uint32_t op, kind;
    uint32_t max_groups; /* 0 or above GMK_REDUCE_GROUPS: GMK_REDUCE_GROUPS */
    uint32_t max_elems;  /* 0 or above GMK_REDUCE_ELEMS: GMK_REDUCE_ELEMS */
} gmk_reduce_cfg_t;

typedef struct gmk_reduce_group {
    uint32_t id;
    uint32_t used;    /* the slot holds an open group */
    int64_t last;     /* index of the element flagged last; -1 until it arrives */
    int64_t max_seen; /* highest index seen; -1 at first */
    uint32_t count;   /* elements arrived */
    uint32_t pending; /* complete; out not sent yet */
    uint64_t by_seq, by_meta0; /* the element that completed the group */
    gmk_task_t out;
} gmk_reduce_group_t;

typedef struct gmk_reduce_state {
    gmk_reduce_cfg_t cfg;
    gmk_lock_t lock;
    uint32_t fresh, nfree; /* slots [fresh, max) never used; freed stack depth */
    uint32_t freed[GMK_REDUCE_GROUPS];
    gmk_reduce_group_t groups[GMK_REDUCE_GROUPS];
    uint64_t have[GMK_REDUCE_GROUPS][(GMK_REDUCE_ELEMS + 63) / 64]; /* arrived indices */
    uint64_t vals[GMK_REDUCE_GROUPS][GMK_REDUCE_ELEMS];            /* meta1 of element i */
    uint64_t boff[GMK_REDUCE_GROUPS][GMK_REDUCE_ELEMS];            /* concat: element i's kept block */
    uint32_t blen[GMK_REDUCE_GROUPS][GMK_REDUCE_ELEMS];            /* concat: its bytes; 0 = none */
} gmk_reduce_state_t;

GMK_MODULE_STATE gmk_reduce_state_t gmk_reduce;

/* ---- the fold (sdk.Reducer.step) ---------------------------------------- */

typedef union gmk_reduce_f64 {
    uint64_t u;
    double f;
} gmk_reduce_f64_t;

#define GMK_REDUCE_NAN 0x7FF8000000000001ull  /* Go's math.NaN() */
#define GMK_REDUCE_PINF 0x7FF0000000000000ull
#define GMK_REDUCE_NINF 0xFFF0000000000000ull

GMK_MODULE_FN int gmk_reduce_isnan(uint64_t u) { return (u & 0x7FFFFFFFFFFFFFFFull) > GMK_REDUCE_PINF; }

/* Go's math.Min (lo = 1) and math.Max (lo = 0) on float64 bits. */
GMK_MODULE_FN uint64_t gmk_reduce_fminmax(uint64_t a, uint64_t b, int lo) {
    const uint64_t inf = lo ? GMK_REDUCE_NINF : GMK_REDUCE_PINF;
    if (a == inf || b == inf)
        return inf;
    if (gmk_reduce_isnan(a) || gmk_reduce_isnan(b))
        return GMK_REDUCE_NAN;
    gmk_reduce_f64_t x, y;
    x.u = a;
    y.u = b;
    if (x.f == 0 && x.f == y.f) /* ±0: Min prefers -0, Max +0 */
        return ((a >> 63) != 0) == (lo != 0) ? a : b;
    return (lo ? x.f < y.f : x.f > y.f) ? a : b;
}

GMK_MODULE_FN uint64_t gmk_reduce_step(uint32_t op, uint32_t kind, uint64_t acc, uint64_t v) {
    if (kind == GMK_REDUCE_FLOAT) {
        if (op != GMK_REDUCE_SUM)
            return gmk_reduce_fminmax(acc, v, op == GMK_REDUCE_MIN);
        gmk_reduce_f64_t x, y;
        x.u = acc;
        y.u = v;
        x.f = x.f + y.f;
        return x.u;
    }
    if (op == GMK_REDUCE_SUM)
        return acc + v; /* wraps, for int64 and uint64 alike */
    const int less = kind == GMK_REDUCE_INT ? (int64_t)v < (int64_t)acc : v < acc;
    return (op == GMK_REDUCE_MIN) == (less != 0) ? v : acc;
}

/* ---- the group table ---------------------------------------------------- */

GMK_MODULE_FN uint32_t gmk_reduce_lim(uint32_t v, uint32_t cap) { return v == 0 || v > cap ? cap : v; }

/* The slot of open group gid, or ~0u. Caller holds the lock. */
GMK_MODULE_FN uint32_t gmk_reduce_find(uint32_t gid) {
    GMK_NO_UNROLL
    for (uint32_t i = 0; i < gmk_reduce.fresh; i++)
        if (gmk_reduce.groups[i].used && gmk_reduce.groups[i].id == gid)
            return i;
    return ~0u;
}

/* Free slot g: give back what it kept, clear its bits. Caller holds the lock. */
GMK_MODULE_FN void gmk_reduce_drop(gmk_ctx_t *ctx, uint32_t g) {
    gmk_reduce_group_t *gr = &gmk_reduce.groups[g];
    if (gr->pending && gr->out.payload_len > 0)
        gmk_payload_free(ctx, gr->out.payload);
    GMK_NO_UNROLL
    for (int64_t i = 0; i <= gr->max_seen; i++) {
        if (gmk_reduce.blen[g][i] > 0)
            gmk_payload_free(ctx, gmk_reduce.boff[g][i]);
        gmk_reduce.blen[g][i] = 0;
    }
    GMK_NO_UNROLL
    for (uint32_t w = 0; w < (GMK_REDUCE_ELEMS + 63) / 64; w++)
        gmk_reduce.have[g][w] = 0;
    gmk_reduce_group_t zero = {};
    *gr = zero;
    gmk_reduce.freed[gmk_reduce.nfree++] = g;
}

/* Send slot g's result and free the slot; RETRY while it does not fit. */
GMK_MODULE_FN int gmk_reduce_send(gmk_ctx_t *ctx, uint32_t g) {
    gmk_reduce_group_t *gr = &gmk_reduce.groups[g];
    if (gmk_emit_host(ctx, &gr->out) != GMK_OK)
        return GMK_RETRY;
    gr->out.payload_len = 0; /* moved with the emit */
    gmk_reduce_drop(ctx, g);
    return GMK_OK;
}

/* Fold a complete group into its result task (pending). */
GMK_MODULE_FN int gmk_reduce_complete(gmk_ctx_t *ctx, uint32_t g, uint16_t tenant) {
    gmk_reduce_group_t *gr = &gmk_reduce.groups[g];
    const uint32_t n = gr->count, op = gmk_reduce.cfg.op, kind = gmk_reduce.cfg.kind;
    gmk_task_t x = {};
    x.type = GMK_TYPE_REDUCE_OUT;
    x.tenant = tenant;
    x.meta0 = (uint64_t)gr->id << 32 | n;
    if (op != GMK_REDUCE_CONCAT) {
        uint64_t acc = gmk_reduce.vals[g][0];
        GMK_NO_UNROLL
        for (uint32_t i = 1; i < n; i++)
            acc = gmk_reduce_step(op, kind, acc, gmk_reduce.vals[g][i]);
        x.meta1 = acc;
    } else {
        uint64_t total = 0;
        GMK_NO_UNROLL
        for (uint32_t i = 0; i < n; i++)
            total += gmk_reduce.blen[g][i];
        x.meta1 = total;
        if (total > 0) {
            const uint64_t h = total > 0xFFFFFFFFull ? GMK_NO_PAYLOAD : gmk_payload_alloc(ctx, (uint32_t)total);
            if (h == GMK_NO_PAYLOAD)
                return GMK_ALLOC_FAIL;
            unsigned char *dst = ctx->payload_base + h;
            GMK_NO_UNROLL
            for (uint32_t i = 0; i < n; i++) {
                const unsigned char *src = ctx->payload_base + gmk_reduce.boff[g][i];
                GMK_NO_UNROLL
                for (uint32_t k = 0; k < gmk_reduce.blen[g][i]; k++)
                    *dst++ = src[k];
            }
            x.payload = h;
            x.payload_len = (uint32_t)total;
        }
    }
    gr->out = x;
    gr->pending = 1;
    return GMK_OK;
}

/* Record element idx of slot g; GMK_OK, or a code with the group unchanged.
 * *done is set when the group is complete. Caller holds the lock. */
GMK_MODULE_FN int gmk_reduce_add(gmk_task_t *t, uint32_t g, int64_t i, int last, int *done) {
    gmk_reduce_group_t *gr = &gmk_reduce.groups[g];
    if (gmk_reduce.have[g][i / 64] & (1ull << (i % 64)))
        return GMK_CODE_DUPLICATE;
    if ((gr->last >= 0 && (last || i > gr->last)) || (last && i < gr->max_seen))
        return GMK_CODE_MISMATCH;
    if (gmk_reduce.cfg.op == GMK_REDUCE_CONCAT && t->payload_len > 0) {
        gmk_reduce.blen[g][i] = t->payload_len;
        gmk_reduce.boff[g][i] = gmk_payload_keep(t); /* the group holds the block now */
    }
    gmk_reduce.have[g][i / 64] |= 1ull << (i % 64);
    gmk_reduce.vals[g][i] = t->meta1;
    gr->count++;
    gr->max_seen = i > gr->max_seen ? i : gr->max_seen;
    if (last)
        gr->last = i;
    *done = gr->last >= 0 && (int64_t)gr->count == gr->last + 1;
    return GMK_OK;
}

/* modules/reduce's element(), under the lock. */
GMK_MODULE_FN int gmk_reduce_locked(gmk_ctx_t *ctx, gmk_task_t *t) {
    gmk_reduce_state_t *s = &gmk_reduce;
    const uint32_t gid = (uint32_t)(t->meta0 >> 32), idx = (uint32_t)(t->meta0 & GMK_REDUCE_INDEX);
    const int last = (t->meta0 & GMK_REDUCE_LAST) != 0;
    uint32_t g = gmk_reduce_find(gid);
    if (g != ~0u && s->groups[g].pending) {
        const int mine = s->groups[g].by_seq == t->seq && s->groups[g].by_meta0 == t->meta0;
        const int st = gmk_reduce_send(ctx, g);
        if (st != GMK_OK || mine)
            return st;
        g = ~0u;
    }
    if (idx >= gmk_reduce_lim(s->cfg.max_elems, GMK_REDUCE_ELEMS) || s->cfg.op > GMK_REDUCE_CONCAT ||
        s->cfg.kind > GMK_REDUCE_FLOAT)
        return GMK_CODE_BAD_REQUEST;
    if (g == ~0u) {
        if (s->nfree > 0)
            g = s->freed[--s->nfree];
        else if (s->fresh < gmk_reduce_lim(s->cfg.max_groups, GMK_REDUCE_GROUPS))
            g = s->fresh++;
        else
            return GMK_CODE_FULL;
        s->groups[g].id = gid;
        s->groups[g].used = 1;
        s->groups[g].last = s->groups[g].max_seen = -1;
        s->groups[g].count = 0;
    }
    int done = 0;
    const int st = gmk_reduce_add(t, g, idx, last, &done);
    if (st != GMK_OK || !done) /* a new group cannot reject its first element */
        return st;
    s->groups[g].by_seq = t->seq;
    s->groups[g].by_meta0 = t->meta0;
    const int cs = gmk_reduce_complete(ctx, g, t->tenant);
    if (cs != GMK_OK) {
        gmk_reduce_drop(ctx, g);
        return cs;
    }
    return gmk_reduce_send(ctx, g);
}

/* The handler body. */
GMK_MODULE_FN int gmk_reduce_element_body_(gmk_ctx_t *ctx, gmk_task_t *t) {
    gmk_lock(&gmk_reduce.lock);
    const int st = gmk_reduce_locked(ctx, t);
    gmk_unlock(&gmk_reduce.lock);
    return st;
}

/* Out of line (GMK_MODULE_SLOW), lane 0 only: the task by value, its changed words returned. */
GMK_MODULE_SLOW gmk_slow_ret_t gmk_reduce_element_body(gmk_ctx_t *ctx, gmk_task_t tv) {
    const int st = gmk_reduce_element_body_(ctx, &tv);
    return gmk_slow_ret(st, &tv);
}

GMK_HANDLER(gmk_reduce_element) { return ctx->lane == 0 ? gmk_slow_done(gmk_reduce_element_body(ctx, *t), t) : GMK_OK; }
