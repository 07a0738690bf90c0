/*
 * timer — timers on GMK/gpu: the device twin of modules/timer, with the wire
 * format of kernel/sdk/timer.go (types 965 timer.set, 966 timer.cancel, 967
 * the internal fire task, 968 timer.fire):
 *
 *   set     payload = gmk_timer_spec_t (32 bytes): id (non-zero), delay (ns,
 *           >= 0), period (ns, 0 = once), chan (0 = timer.fire), type
 *   cancel  meta0 = timer id (an unknown id does nothing)
 *   firing  to the CPU kernel (host.tx): type = the spec's type (968 when
 *           chan is 0), channel = the spec's chan, the set request's tenant,
 *           meta0 = timer id, meta1 = firing number (1, 2, 3 …)
 *
 * How it runs is modules/timer's: a set stores the timer under a new
 * generation and parks a fire task (meta0 = id, meta1 = generation) on the
 * worker's EVQ (gmk_emit_after) until its due time or cfg.step, whichever is
 * first; a fire task that comes back early parks again, a stale one (timer
 * cancelled or replaced) ends, a due one sends the firing and, for a
 * repeating timer, parks for the next grid point set + delay + k·period,
 * skipping points the kernel was too late for. Times are device time
 * (gmk_now, %globaltimer ns). Codes: CodeBadRequest (payload not 32 bytes,
 * id 0, negative delay or period), CodeFull (max_timers set), CHAN_FULL (the
 * park did not fit the out buffer: the timer is removed); a firing that does
 * not fit returns RETRY and fires on the re-run (same generation).
 *
 * Differences, by nature of the device: there is no halting kernel to stop
 * re-arming for (the device kernel stops by flag, dropping its EVQ), and an
 * EVQ that is full when the worker flushes its emits loses the park (the
 * worker counts it in emit_full; the timer stays set and never fires).
 *
 * Granularity BLOCK (lane 0 working) and one gmk_lock_t over the table:
 * fire tasks come off the EVQ of the worker that parked them, so one timer's
 * handlers may run on different workers at once with sets and cancels.
 */
#include "gmk_types.h"

#ifndef GMK_TIMER_MAX
#define GMK_TIMER_MAX 4096u /* timers set at once (modules/timer DefaultMaxTimers) */
#endif
#define GMK_TIMER_BUCKETS 4096u             /* id index buckets, a power of two */
#define GMK_TIMER_STEP 100000000ll          /* DefaultStep: 100 ms */

typedef struct gmk_timer_cfg {
    uint32_t max_timers; /* 0 or above GMK_TIMER_MAX: GMK_TIMER_MAX */
    uint32_t _pad;
    int64_t step; /* longest EVQ wait before a re-check, ns; 0: GMK_TIMER_STEP */
} gmk_timer_cfg_t;

typedef struct gmk_timer_slot {
    gmk_timer_spec_t spec;
    uint64_t gen;   /* names this setting; parked fire tasks of others are stale */
    int64_t due;    /* next firing, device ns */
    uint64_t fires; /* firings so far */
    uint32_t next;  /* index+1 of the next slot of the id's bucket; 0 = end */
    uint16_t tenant;
    uint16_t _pad;
} gmk_timer_slot_t;

typedef struct gmk_timer_state {
    gmk_timer_cfg_t cfg;
    gmk_lock_t lock;
    uint32_t fresh, nfree; /* slots [fresh, max) never used; stack depth of freed */
    uint64_t gen;          /* last generation issued */
    uint32_t heads[GMK_TIMER_BUCKETS];
    uint32_t freed[GMK_TIMER_MAX];
    gmk_timer_slot_t slots[GMK_TIMER_MAX];
} gmk_timer_state_t;

GMK_MODULE_STATE gmk_timer_state_t gmk_timer;

GMK_MODULE_FN uint32_t *gmk_timer_bucket(uint64_t id) {
    uint64_t h = id * 0x9E3779B97F4A7C15ull; /* Fibonacci hash of the 64-bit id */
    return &gmk_timer.heads[(uint32_t)(h >> 32) & (GMK_TIMER_BUCKETS - 1)];
}

/* The slot of timer id (~0u if none), and the link that points to it. */
GMK_MODULE_FN uint32_t gmk_timer_find(uint64_t id, uint32_t **link) {
    uint32_t *l = gmk_timer_bucket(id);
    GMK_NO_UNROLL
    while (*l != 0 && gmk_timer.slots[*l - 1].spec.id != id)
        l = &gmk_timer.slots[*l - 1].next;
    *link = l;
    return *l == 0 ? ~0u : *l - 1;
}

/* Free timer id's slot i. Caller holds the lock. */
GMK_MODULE_FN void gmk_timer_remove(uint64_t id) {
    uint32_t *link, i = gmk_timer_find(id, &link);
    if (i == ~0u)
        return;
    *link = gmk_timer.slots[i].next;
    gmk_timer_slot_t zero = {};
    gmk_timer.slots[i] = zero;
    gmk_timer.freed[gmk_timer.nfree++] = i;
}

/* Park slot i's fire task until its due time or a step, whichever is first;
 * on failure the timer is removed. Caller holds the lock. */
GMK_MODULE_FN int gmk_timer_park(gmk_ctx_t *ctx, uint32_t i, int64_t now) {
    const gmk_timer_slot_t *sl = &gmk_timer.slots[i];
    const int64_t step = gmk_timer.cfg.step > 0 ? gmk_timer.cfg.step : GMK_TIMER_STEP;
    const int64_t at = sl->due < now + step ? sl->due : now + step;
    gmk_task_t x = {};
    x.type = GMK_TYPE_TIMER_FIRE_INTERNAL;
    x.tenant = sl->tenant;
    x.meta0 = sl->spec.id;
    x.meta1 = sl->gen;
    if (gmk_emit_after(ctx, &x, (uint64_t)(at - now)) != GMK_OK) {
        gmk_timer_remove(sl->spec.id);
        return GMK_CHAN_FULL;
    }
    return GMK_OK;
}

/* Store spec under a new generation and park it. Caller holds the lock. */
GMK_MODULE_FN int gmk_timer_store(gmk_ctx_t *ctx, const gmk_timer_spec_t *spec, uint16_t tenant, int64_t now) {
    gmk_timer_state_t *s = &gmk_timer;
    uint32_t *link, i = gmk_timer_find(spec->id, &link);
    if (i == ~0u) {
        const uint32_t max = s->cfg.max_timers == 0 || s->cfg.max_timers > GMK_TIMER_MAX ? GMK_TIMER_MAX : s->cfg.max_timers;
        if (s->nfree > 0)
            i = s->freed[--s->nfree];
        else if (s->fresh < max)
            i = s->fresh++;
        else
            return GMK_CODE_FULL;
        *link = i + 1;
        s->slots[i].next = 0;
    }
    gmk_timer_slot_t *sl = &s->slots[i];
    sl->spec = *spec;
    sl->tenant = tenant;
    sl->gen = ++s->gen;
    sl->due = now + spec->delay;
    sl->fires = 0;
    return gmk_timer_park(ctx, i, now);
}

/* The handler body. */
GMK_MODULE_FN int gmk_timer_set_body_(gmk_ctx_t *ctx, gmk_task_t *t) {
    if (t->payload_len != sizeof(gmk_timer_spec_t))
        return GMK_CODE_BAD_REQUEST;
    gmk_timer_spec_t spec = *(const gmk_timer_spec_t *)gmk_payload(ctx, t); /* blocks are 16-byte aligned */
    if (spec.id == 0 || spec.delay < 0 || spec.period < 0)
        return GMK_CODE_BAD_REQUEST;
    if (spec.chan == 0)
        spec.type = GMK_TYPE_TIMER_FIRE; /* the default fire channel's type */
    const int64_t now = (int64_t)gmk_now();
    gmk_lock(&gmk_timer.lock);
    const int st = gmk_timer_store(ctx, &spec, t->tenant, now);
    gmk_unlock(&gmk_timer.lock);
    return st;
}

/* Out of line (GMK_MODULE_SLOW), lane 0 only: the task by value, its changed words returned. */
GMK_MODULE_SLOW gmk_slow_ret_t gmk_timer_set_body(gmk_ctx_t *ctx, gmk_task_t tv) {
    const int st = gmk_timer_set_body_(ctx, &tv);
    return gmk_slow_ret(st, &tv);
}

GMK_HANDLER(gmk_timer_set) { return ctx->lane == 0 ? gmk_slow_done(gmk_timer_set_body(ctx, *t), t) : GMK_OK; }

GMK_HANDLER(gmk_timer_cancel) {
    if (ctx->lane != 0)
        return GMK_OK;
    gmk_lock(&gmk_timer.lock);
    gmk_timer_remove(t->meta0);
    gmk_unlock(&gmk_timer.lock);
    return GMK_OK;
}

/* A due timer fires; a repeating one moves to its next grid point and parks.
 * Caller holds the lock. */
GMK_MODULE_FN int gmk_timer_due(gmk_ctx_t *ctx, uint32_t i, int64_t now) {
    gmk_timer_slot_t *sl = &gmk_timer.slots[i];
    gmk_task_t x = {};
    x.type = sl->spec.type;
    x.channel = sl->spec.chan;
    x.tenant = sl->tenant;
    x.meta0 = sl->spec.id;
    x.meta1 = sl->fires + 1;
    if (gmk_emit_host(ctx, &x) != GMK_OK)
        return GMK_RETRY; /* re-run later: same generation, fires then */
    sl->fires++;
    if (sl->spec.period == 0) {
        gmk_timer_remove(sl->spec.id);
        return GMK_OK;
    }
    sl->due += sl->spec.period * ((now - sl->due) / sl->spec.period + 1);
    return gmk_timer_park(ctx, i, now);
}

/* The handler body. */
GMK_MODULE_FN int gmk_timer_fire_body_(gmk_ctx_t *ctx, gmk_task_t *t) {
    const int64_t now = (int64_t)gmk_now();
    gmk_lock(&gmk_timer.lock);
    uint32_t *link, i = gmk_timer_find(t->meta0, &link);
    int st = GMK_OK; /* cancelled or replaced while parked: ends here */
    if (i != ~0u && gmk_timer.slots[i].gen == t->meta1)
        st = now < gmk_timer.slots[i].due ? gmk_timer_park(ctx, i, now) : gmk_timer_due(ctx, i, now);
    gmk_unlock(&gmk_timer.lock);
    return st;
}

/* Out of line (GMK_MODULE_SLOW), lane 0 only: the task by value, its changed words returned. */
GMK_MODULE_SLOW gmk_slow_ret_t gmk_timer_fire_body(gmk_ctx_t *ctx, gmk_task_t tv) {
    const int st = gmk_timer_fire_body_(ctx, &tv);
    return gmk_slow_ret(st, &tv);
}

GMK_HANDLER(gmk_timer_fire) { return ctx->lane == 0 ? gmk_slow_done(gmk_timer_fire_body(ctx, *t), t) : GMK_OK; }
