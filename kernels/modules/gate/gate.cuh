/*
 * gate — barriers of N arrivals on GMK/gpu: the device twin of modules/gate,
 * with the wire format of kernel/sdk/gate.go (types 969 gate.arrive, 970
 * gate.open):
 *
 *   arrive  meta0 = gate id (bits 0..31) | N (bits 32..63)
 *   open    to the CPU kernel (host.tx), type 970, meta0 as arrived,
 *           meta1 = round (1, 2, 3 …)
 *
 * The N-th arrival of a round opens the gate and the next round starts
 * empty; N is fixed from a round's first arrival to its opening. Failure
 * codes as modules/gate: CodeBadRequest (N = 0 or above max_arrivals),
 * CodeMismatch (an N other than the round's), CodeFull (more than max_gates
 * distinct ids); a failed arrival is not counted. An opening that does not
 * fit the out buffer returns RETRY with meta1 = round<<1 | 1 (counted), so
 * the re-run sends the opening and does not count again.
 *
 * Granularity BLOCK, lane 0 working: arrivals count in batch order. State:
 * gmk_gate (device memory), an open-addressing table of gate ids (linear
 * probing, never deleted: an id keeps its entry for the module's life, as in
 * modules/gate), guarded by one gmk_lock_t across workers.
 */
#include "gmk_types.h"

#ifndef GMK_GATE_MAX
#define GMK_GATE_MAX 1024u /* distinct gate ids (modules/gate DefaultMaxGates) */
#endif
#define GMK_GATE_SLOTS (2u * GMK_GATE_MAX) /* table slots: at most half full */
#define GMK_GATE_MAX_ARRIVALS (1u << 20)   /* DefaultMaxArrivals */
#define GMK_GATE_COUNTED 1ull              /* meta1: counted and opened; round in bits 1..63 */

typedef struct gmk_gate_cfg {
    uint32_t max_gates;    /* 0 or above GMK_GATE_MAX: GMK_GATE_MAX */
    uint32_t max_arrivals; /* largest N; 0: GMK_GATE_MAX_ARRIVALS */
} gmk_gate_cfg_t;

typedef struct gmk_gate_bar {
    uint32_t id;
    uint32_t used;  /* the slot holds gate id */
    uint32_t n;     /* arrivals per round (fixed by the round's first) */
    uint32_t count; /* arrivals in the current round */
    uint64_t round; /* rounds opened */
} gmk_gate_bar_t;

typedef struct gmk_gate_state {
    gmk_gate_cfg_t cfg;
    gmk_lock_t lock;
    uint32_t ngates; /* slots in use */
    gmk_gate_bar_t bars[GMK_GATE_SLOTS];
} gmk_gate_state_t;

GMK_MODULE_STATE gmk_gate_state_t gmk_gate;

/* The barrier of gate id, taking a slot for a new id; 0 when the table has
 * max_gates ids already. Caller holds the lock. */
GMK_MODULE_FN gmk_gate_bar_t *gmk_gate_bar(uint32_t id) {
    gmk_gate_state_t *s = &gmk_gate;
    uint32_t i = (id * 2654435769u) & (GMK_GATE_SLOTS - 1); /* Fibonacci hash, then linear probing */
    GMK_NO_UNROLL
    while (s->bars[i].used && s->bars[i].id != id)
        i = (i + 1) & (GMK_GATE_SLOTS - 1);
    gmk_gate_bar_t *b = &s->bars[i];
    if (b->used)
        return b;
    uint32_t max = s->cfg.max_gates;
    if (s->ngates >= (max == 0 || max > GMK_GATE_MAX ? GMK_GATE_MAX : max))
        return 0;
    s->ngates++;
    b->used = 1;
    b->id = id;
    return b;
}

/* Count an arrival: GMK_OK with *round set when it opened the gate (else
 * *round = 0), or a failure code. */
GMK_MODULE_FN int gmk_gate_count(uint32_t id, uint32_t n, uint64_t *round) {
    *round = 0;
    gmk_lock(&gmk_gate.lock);
    int st = GMK_OK;
    gmk_gate_bar_t *b = gmk_gate_bar(id);
    if (b == 0) {
        st = GMK_CODE_FULL;
    } else if (b->count != 0 && b->n != n) {
        st = GMK_CODE_MISMATCH;
    } else {
        b->n = n;
        if (++b->count == n) {
            b->count = 0;
            *round = ++b->round;
        }
    }
    gmk_unlock(&gmk_gate.lock);
    return st;
}

GMK_MODULE_FN int gmk_gate_open(gmk_ctx_t *ctx, const gmk_task_t *t, uint64_t round) {
    gmk_task_t x = {};
    x.type = GMK_TYPE_GATE_OPEN;
    x.tenant = t->tenant;
    x.meta0 = t->meta0;
    x.meta1 = round;
    return gmk_emit_host(ctx, &x) == GMK_OK ? GMK_OK : GMK_RETRY;
}

/* The handler body. */
GMK_MODULE_FN int gmk_gate_arrive_body_(gmk_ctx_t *ctx, gmk_task_t *t) {
    if (t->meta1 & GMK_GATE_COUNTED)
        return gmk_gate_open(ctx, t, t->meta1 >> 1);
    const uint32_t id = (uint32_t)t->meta0, n = (uint32_t)(t->meta0 >> 32);
    uint32_t max = gmk_gate.cfg.max_arrivals;
    if (n == 0 || n > (max == 0 ? GMK_GATE_MAX_ARRIVALS : max))
        return GMK_CODE_BAD_REQUEST;
    uint64_t round = 0;
    const int st = gmk_gate_count(id, n, &round);
    if (st != GMK_OK || round == 0)
        return st;
    t->meta1 = round << 1 | GMK_GATE_COUNTED;
    return gmk_gate_open(ctx, t, round);
}

/* Out of line (GMK_MODULE_SLOW), lane 0 only: the task by value, its changed words returned. */
GMK_MODULE_SLOW gmk_slow_ret_t gmk_gate_arrive_body(gmk_ctx_t *ctx, gmk_task_t tv) {
    const int st = gmk_gate_arrive_body_(ctx, &tv);
    return gmk_slow_ret(st, &tv);
}

GMK_HANDLER(gmk_gate_arrive) { return ctx->lane == 0 ? gmk_slow_done(gmk_gate_arrive_body(ctx, *t), t) : GMK_OK; }
