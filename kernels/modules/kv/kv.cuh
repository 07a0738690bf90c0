/*
 * kv — the key-value module on GMK/gpu: the device twin of modules/kv, with
 * the wire format of kernel/sdk/kv.go (types 962 kv.req, 963 kv.resp):
 *
 *   request  meta0 = ReplyTo (reply channel | corr<<32; 0 = no reply)
 *            meta1 = op (bits 0..7: 1 put, 2 get, 3 del) | key length (8..23)
 *            payload = key bytes, then (put) the value bytes
 *   reply    to the CPU kernel (host.tx), type 963, channel = the ReplyTo's
 *            channel, meta0 = the ReplyTo, meta1 = result (get: the value's
 *            length, the value as payload; put, del: 0; or a failure code)
 *
 * Behaviour is modules/kv's, step for step: the same store (32-bit FNV-1a
 * hash, chained buckets, a fixed entry table with a LIFO free list, entries
 * appended at the end of their chain), the same checks in the same order, the
 * same codes (CodeBadRequest, CodeNotFound, CodeKeyTooLong, CodeValTooLong,
 * CodeFull, ALLOC_FAIL), and the same once-only rule: a request whose reply
 * does not fit the out buffer returns RETRY with the done bit (meta1 bit 24)
 * and its result (bits 32..63) recorded in the task, so the re-run replies
 * without applying the operation again. A request without a reply address
 * returns its failure as the handler's status.
 *
 * Granularity BLOCK: one request at a time per worker, in batch order, so
 * requests from host.rx (all taken by worker 0) apply in the order they were
 * sent, as on the CPU kernel's one subscription. Lane 0 does the work.
 *
 * State: gmk_kv (device memory, GMK_MODULE_STATE), sized by the compile-time
 * capacities below (modules/kv's defaults); gmk_kv.cfg may lower the limits
 * (zero fields: the capacities). One gmk_lock_t guards the table, since
 * tasks that other workers emit may run kv there at the same time. A get's
 * value leaves in a payload block (gmk_payload_alloc): at most the kernel's
 * payload_block bytes, which the 256-byte value limit is far below.
 */
#include "gmk_types.h"

#ifndef GMK_KV_BUCKETS
#define GMK_KV_BUCKETS 65536u /* hash buckets, a power of two (modules/kv DefaultBuckets) */
#endif
#ifndef GMK_KV_ENTRIES
#define GMK_KV_ENTRIES 8192u /* keys held at most (DefaultEntries) */
#endif
#ifndef GMK_KV_MAX_KEY
#define GMK_KV_MAX_KEY 64u /* DefaultMaxKey */
#endif
#ifndef GMK_KV_MAX_VALUE
#define GMK_KV_MAX_VALUE 256u /* DefaultMaxValue */
#endif

#define GMK_KV_PUT 1u
#define GMK_KV_GET 2u
#define GMK_KV_DEL 3u
#define GMK_KV_DONE (1ull << 24) /* meta1: applied; result in bits 32..63 */

/* Limits; a zero field (or one above its capacity) means the capacity. */
typedef struct gmk_kv_cfg {
    uint32_t buckets; /* a power of two */
    uint32_t entries;
    uint32_t max_key;
    uint32_t max_value;
} gmk_kv_cfg_t;

typedef struct gmk_kv_ent {
    uint32_t next; /* index+1 of the next entry of the bucket; 0 = end */
    uint32_t hash;
    uint16_t klen, vlen;
} gmk_kv_ent_t;

typedef struct gmk_kv_state {
    gmk_kv_cfg_t cfg;
    gmk_lock_t lock;
    uint32_t fresh; /* entries [fresh, entries) were never used */
    uint32_t nfree; /* depth of the free stack */
    uint32_t heads[GMK_KV_BUCKETS]; /* bucket -> index+1 of its first entry */
    gmk_kv_ent_t ents[GMK_KV_ENTRIES];
    uint32_t freed[GMK_KV_ENTRIES]; /* stack of freed entries: reused first, last freed first */
    unsigned char data[GMK_KV_ENTRIES][GMK_KV_MAX_KEY + GMK_KV_MAX_VALUE]; /* key, then value at MAX_KEY */
} gmk_kv_state_t;

GMK_MODULE_STATE gmk_kv_state_t gmk_kv;

GMK_MODULE_FN uint32_t gmk_kv_lim(uint32_t v, uint32_t cap) { return v == 0 || v > cap ? cap : v; }

GMK_MODULE_FN uint32_t gmk_kv_hash(const unsigned char *key, uint32_t n) {
    uint32_t h = 2166136261u; /* FNV-1a, as modules/kv */
    GMK_NO_UNROLL
    for (uint32_t i = 0; i < n; i++) {
        h ^= key[i];
        h *= 16777619u;
    }
    return h;
}

/* The entry of key (or ~0u), and the link that points to it or would. */
GMK_MODULE_FN uint32_t gmk_kv_find(const unsigned char *key, uint32_t klen, uint32_t h, uint32_t **link) {
    gmk_kv_state_t *s = &gmk_kv;
    uint32_t nb = s->cfg.buckets;
    nb = nb == 0 || nb > GMK_KV_BUCKETS || (nb & (nb - 1)) != 0 ? GMK_KV_BUCKETS : nb;
    uint32_t *l = &s->heads[h & (nb - 1)];
    GMK_NO_UNROLL
    while (*l != 0) {
        uint32_t i = *l - 1;
        const gmk_kv_ent_t *e = &s->ents[i];
        if (e->hash == h && e->klen == klen) {
            uint32_t k = 0;
            GMK_NO_UNROLL
            while (k < klen && s->data[i][k] == key[k])
                k++;
            if (k == klen) {
                *link = l;
                return i;
            }
        }
        l = &s->ents[i].next;
    }
    *link = l;
    return ~0u;
}

/* Store.Put. Caller holds the lock. */
GMK_MODULE_FN int gmk_kv_put(const unsigned char *key, uint32_t klen, const unsigned char *val, uint32_t vlen) {
    gmk_kv_state_t *s = &gmk_kv;
    if (klen == 0)
        return GMK_CODE_BAD_REQUEST;
    if (klen > gmk_kv_lim(s->cfg.max_key, GMK_KV_MAX_KEY))
        return GMK_CODE_KEY_TOO_LONG;
    if (vlen > gmk_kv_lim(s->cfg.max_value, GMK_KV_MAX_VALUE))
        return GMK_CODE_VAL_TOO_LONG;
    uint32_t h = gmk_kv_hash(key, klen), *link;
    uint32_t i = gmk_kv_find(key, klen, h, &link);
    if (i == ~0u) {
        if (s->nfree > 0)
            i = s->freed[--s->nfree];
        else if (s->fresh < gmk_kv_lim(s->cfg.entries, GMK_KV_ENTRIES))
            i = s->fresh++;
        else
            return GMK_CODE_FULL;
        s->ents[i].next = 0;
        s->ents[i].hash = h;
        s->ents[i].klen = (uint16_t)klen;
        GMK_NO_UNROLL
        for (uint32_t k = 0; k < klen; k++)
            s->data[i][k] = key[k];
        *link = i + 1; /* appended at the end of the chain */
    }
    s->ents[i].vlen = (uint16_t)vlen;
    GMK_NO_UNROLL
    for (uint32_t k = 0; k < vlen; k++)
        s->data[i][GMK_KV_MAX_KEY + k] = val[k];
    return GMK_OK;
}

/* Store.Del. Caller holds the lock. */
GMK_MODULE_FN int gmk_kv_del(const unsigned char *key, uint32_t klen) {
    gmk_kv_state_t *s = &gmk_kv;
    uint32_t *link, i = gmk_kv_find(key, klen, gmk_kv_hash(key, klen), &link);
    if (i == ~0u)
        return GMK_CODE_NOT_FOUND;
    *link = s->ents[i].next;
    s->ents[i].next = 0;
    s->ents[i].hash = 0;
    s->ents[i].klen = s->ents[i].vlen = 0;
    s->freed[s->nfree++] = i;
    return GMK_OK;
}

/* Store.getAlloc: the value in a new payload block (*h; none for an empty
 * value). Caller holds the lock. */
GMK_MODULE_FN int gmk_kv_get(gmk_ctx_t *ctx, const unsigned char *key, uint32_t klen, uint64_t *h, uint32_t *n) {
    gmk_kv_state_t *s = &gmk_kv;
    uint32_t *link, i = gmk_kv_find(key, klen, gmk_kv_hash(key, klen), &link);
    if (i == ~0u)
        return GMK_CODE_NOT_FOUND;
    *n = s->ents[i].vlen;
    if (*n == 0)
        return GMK_OK;
    *h = gmk_payload_alloc(ctx, *n);
    if (*h == GMK_NO_PAYLOAD) {
        *n = 0;
        return GMK_ALLOC_FAIL;
    }
    unsigned char *dst = ctx->payload_base + *h;
    GMK_NO_UNROLL
    for (uint32_t k = 0; k < *n; k++)
        dst[k] = s->data[i][GMK_KV_MAX_KEY + k];
    return GMK_OK;
}

/* Reply with status st (and a get's value, n bytes in block h); without a
 * reply address, fail with st instead. */
GMK_MODULE_FN int gmk_kv_reply(gmk_ctx_t *ctx, const gmk_task_t *t, int st, uint64_t h, uint32_t n) {
    const uint64_t r = t->meta0;
    if ((uint32_t)r == 0) {
        if (h != GMK_NO_PAYLOAD)
            gmk_payload_free(ctx, h);
        return st < 0 ? st : GMK_OK;
    }
    gmk_task_t x = {};
    x.type = GMK_TYPE_KV_RESP;
    x.tenant = t->tenant;
    x.channel = (uint32_t)r;
    x.meta0 = r;
    x.meta1 = st == GMK_OK ? (uint64_t)n : (uint64_t)(int64_t)st;
    if (h != GMK_NO_PAYLOAD) {
        x.payload = h;
        x.payload_len = n;
    }
    if (gmk_emit_host(ctx, &x) != GMK_OK) { /* out buffer full: the kernel re-runs the task */
        if (h != GMK_NO_PAYLOAD)
            gmk_payload_free(ctx, h);
        return GMK_RETRY;
    }
    return GMK_OK;
}

/* The handler body. */
GMK_MODULE_FN int gmk_kv_serve_(gmk_ctx_t *ctx, gmk_task_t *t) {
    if (t->meta1 & GMK_KV_DONE) /* applied before; only the reply is left */
        return gmk_kv_reply(ctx, t, (int)(int32_t)(t->meta1 >> 32), GMK_NO_PAYLOAD, 0);
    const uint32_t op = (uint32_t)(t->meta1 & 0xFFu), klen = (uint32_t)((t->meta1 >> 8) & 0xFFFFu);
    const unsigned char *key = gmk_payload(ctx, t);
    if (klen == 0 || klen > t->payload_len)
        return gmk_kv_reply(ctx, t, GMK_CODE_BAD_REQUEST, GMK_NO_PAYLOAD, 0);
    const unsigned char *val = key + klen;
    const uint32_t vlen = t->payload_len - klen;
    int st = GMK_CODE_BAD_REQUEST;
    if (op == GMK_KV_GET) {
        if (vlen != 0)
            return gmk_kv_reply(ctx, t, GMK_CODE_BAD_REQUEST, GMK_NO_PAYLOAD, 0);
        uint64_t h = GMK_NO_PAYLOAD;
        uint32_t n = 0;
        gmk_lock(&gmk_kv.lock);
        st = gmk_kv_get(ctx, key, klen, &h, &n);
        gmk_unlock(&gmk_kv.lock);
        return gmk_kv_reply(ctx, t, st, h, n);
    }
    if (op == GMK_KV_PUT || op == GMK_KV_DEL) {
        gmk_lock(&gmk_kv.lock);
        st = op == GMK_KV_PUT ? gmk_kv_put(key, klen, val, vlen) : gmk_kv_del(key, klen);
        gmk_unlock(&gmk_kv.lock);
    }
    t->meta1 = (t->meta1 & (GMK_KV_DONE - 1)) | GMK_KV_DONE | ((uint64_t)(uint32_t)st << 32);
    return gmk_kv_reply(ctx, t, st, GMK_NO_PAYLOAD, 0);
}

/* Out of line (GMK_MODULE_SLOW), lane 0 only: the task by value, its changed words returned. */
GMK_MODULE_SLOW gmk_slow_ret_t gmk_kv_serve(gmk_ctx_t *ctx, gmk_task_t tv) {
    const int st = gmk_kv_serve_(ctx, &tv);
    return gmk_slow_ret(st, &tv);
}

GMK_HANDLER(gmk_kv_request) { return ctx->lane == 0 ? gmk_slow_done(gmk_kv_serve(ctx, *t), t) : GMK_OK; }
