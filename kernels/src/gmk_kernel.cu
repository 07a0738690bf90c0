/*
 * gmk_kernel.cu — GMK/gpu, the persistent kernel (GMK.md §13 [G1]-[G4]).
 *
 * gmk_worker is launched once with one block per worker and stays resident
 * until the host sets ctl->stop: there is no launch per task. Each round of a
 * worker block:
 *
 *   1. gather (lead thread claims, the lanes copy in parallel): worker 0 first
 *      takes up to rx_batch tasks from the bridge ring host.rx (payloads
 *      copied into device payload blocks by the whole block, [B3]); every
 *      worker then takes up to `batch` tasks from its own LQ, else from a GRQ
 *      type bucket found by a rotating (aging) scan;
 *   2. sort a mixed batch by type (stable), so each handler runs on a
 *      homogeneous sub-batch;
 *   3. dispatch each sub-batch through the generated switch
 *      (gen/gmk_dispatch.cuh) at the handler's granularity: SCALAR one task
 *      per thread, WARP one per warp, BLOCK one per block;
 *   4. flush the emits the handlers buffered in shared memory: local emits go
 *      to the worker's LQ with one reservation (overflow to the GRQ), host
 *      emits go onto host.tx — directly from worker 0, through the egress
 *      ring from the others, which worker 0 drains;
 *   5. statistics, a trace record for sampled dispatches, a heartbeat in
 *      mapped host memory every GMK_HEARTBEAT_NS, the stop flag every few
 *      rounds, and back-off when idle.
 *
 * Memory model, deliberately:
 *   - Device-memory queues (LQ, GRQ, egress) use gmk_mpmc.h's GPU-scope
 *     acquire/release protocol: a claim by the lead thread, then cell copies
 *     by the lanes. The lanes' copies are ordered after the claim by the block
 *     barrier that hands them the claimed positions (bar.sync orders shared
 *     and global accesses of the block's threads).
 *   - Host-mapped memory (the bridge region, ctl, heartbeats) is shared with a
 *     CPU thread, so it takes system-scope fences (__threadfence_system): the
 *     lead's acquire load of host.rx's tail is followed by a system fence
 *     before the barrier that releases the lanes to read the slots; the lanes'
 *     slot and staging writes on host.tx are followed by the barrier and a
 *     system fence in the lead before its store of tail (the release of P1 in
 *     gmk_bridge.h). The host never waits for the device's futex bumps: a
 *     waiting host side is woken by a plain bell increment it polls for.
 */
#include "gmk_bridge_ring.h"
#include "gmk_evq.h"
#include "gmk_gpu.h"
#include "gmk_mpmc.h"
#include "gmk_state.h"

#ifndef GMK_MAX_BATCH
#define GMK_MAX_BATCH 128 /* the most tasks one round gathers (rx_batch, batch) */
#endif
#define GMK_OUT_CAP (2 * GMK_MAX_BATCH) /* buffered emits per round */
#define GMK_TYPE_REJECTED 0xFFFFFFFFu   /* a host.rx task whose payload exceeds payload_block */

/* Tracing: one record per sampled dispatch; compiled out by GMK_STRIP_TRACE. */
#ifdef GMK_STRIP_TRACE
#define GMK_TRACE(st, w, ev, ty, sq, arg) ((void)0)
#else
#define GMK_TRACE(st, w, ev, ty, sq, arg) gmk_trace_((st), (w), (ev), (ty), (sq), (arg))
#endif

/* Handlers (included next) may trace: declare what GMK_TRACE calls. */
__device__ __noinline__ void gmk_trace_(gmk_gpu_state_t *st, uint32_t w, uint32_t ev, uint32_t type, uint32_t seq,
                                        uint64_t arg);

#include "gen/gmk_dispatch.cuh"

static_assert(sizeof(gmk_gpu_state_t) == 144, "gpu/cuda/state.go mirrors gmk_gpu_state_t");
static_assert(sizeof(gmk_wstat_t) == 256, "gpu/cuda/state.go mirrors gmk_wstat_t");


__device__ __noinline__ void gmk_trace_(gmk_gpu_state_t *st, uint32_t w, uint32_t ev, uint32_t type,
                                        uint32_t seq, uint64_t arg) {
    if (st->trace_mask == 0)
        return;
    uint64_t i = st->trace_pos[w]++;
    gmk_trace_rec_t *r = &st->trace[(uint64_t)w * (st->trace_mask + 1) + (i & st->trace_mask)];
    r->time = gmk_now();
    r->event = ev;
    r->type = type;
    r->seq = seq;
    r->worker = w;
    r->arg = arg;
}

/* Host-memory accesses (system scope): acquire loads and release stores
 * rather than __threadfence_system (fence.sc.sys), which would also wait for
 * every earlier posted write of the thread to reach the host — a PCIe round
 * trip per poll. */
__device__ __forceinline__ uint64_t gmk_sys_ld_acq64(const uint64_t *p) {
    uint64_t v;
    asm volatile("ld.acquire.sys.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
    return v;
}
__device__ __forceinline__ uint32_t gmk_sys_ld_rlx32(const uint32_t *p) {
    uint32_t v;
    asm volatile("ld.relaxed.sys.global.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
    return v;
}
/* Release: every write this thread observed before (the block's slot and
 * staging writes, ordered by the barrier that precedes the call; fences are
 * cumulative) is visible to the host before v is. */
__device__ __forceinline__ void gmk_sys_st_rel64(uint64_t *p, uint64_t v) {
    asm volatile("st.release.sys.global.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}
__device__ __forceinline__ void gmk_sys_st_rlx64(uint64_t *p, uint64_t v) {
    asm volatile("st.relaxed.sys.global.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}
__device__ __forceinline__ void gmk_sys_bump(uint32_t *bell) {
    /* The host sleeps on its bell for at most a millisecond; a plain increment
     * wakes a poller early and needs no PCIe atomic. The wake line's seq_cst
     * fence (gmk_bridge.h) is left out on the device for the same reason: a
     * missed wake costs the host at most its bounded sleep, never progress. */
    *(volatile uint32_t *)bell = *(volatile uint32_t *)bell + 1u;
}

/* Copy the payloads of tasks [0, n) with the whole block, flattened: chunk c
 * of 16 bytes belongs to the task whose prefix range holds it, so every
 * thread keeps several independent 16-byte loads in flight across all the
 * payloads at once (PCIe reads of mapped host memory are latency-bound).
 * pre[i] is the first chunk of task i, pre[n] the total; dst(i) and src(i)
 * give the 16-byte aligned buffers; a tail of len % 16 bytes is copied
 * bytewise by the chunk's owner. */
template <typename Dst, typename Src>
__device__ __forceinline__ void gmk_copy_flat(const uint32_t *pre, uint32_t n, const uint32_t *len, Dst dst, Src src) {
    const uint32_t total = pre[n], T = blockDim.x;
    constexpr uint32_t U = 4;
    for (uint32_t base = threadIdx.x; base < total; base += U * T) {
        uint4 v[U];
        uint32_t task[U];
#pragma unroll
        for (uint32_t u = 0; u < U; u++) {
            uint32_t c = base + u * T;
            task[u] = n;
            if (c < total) {
                uint32_t lo = 0, hi = n; /* the last i with pre[i] <= c */
                while (hi - lo > 1) {
                    uint32_t mid = (lo + hi) / 2;
                    if (pre[mid] <= c)
                        lo = mid;
                    else
                        hi = mid;
                }
                task[u] = lo;
                uint32_t k = c - pre[lo];
                if ((k + 1) * 16 <= len[lo])
                    v[u] = ((const uint4 *)src(lo))[k];
            }
        }
#pragma unroll
        for (uint32_t u = 0; u < U; u++) {
            if (task[u] == n)
                continue;
            uint32_t i = task[u], k = base + u * T - pre[i];
            if ((k + 1) * 16 <= len[i]) {
                ((uint4 *)dst(i))[k] = v[u];
            } else {
                for (uint32_t b = k * 16; b < len[i]; b++)
                    dst(i)[b] = src(i)[b];
            }
        }
    }
}

/* A bridge ring's geometry, read once at start (the creator wrote it before
 * sharing, gmk_bridge.h) and kept in shared memory: reading it from the ring
 * header per slot would cost a PCIe round trip each time. */
struct gmk_geom {
    gmk_bridge_slot_t *slots;
    unsigned char *stage;
    uint64_t mask, ssize;
    __device__ gmk_bridge_slot_t *slot(uint64_t pos) const { return slots + (pos & mask); }
    __device__ unsigned char *at(uint64_t pos) const { return stage + (pos & (ssize - 1)); }
    __device__ void load(gmk_bridge_ring_t *r) {
        slots = (gmk_bridge_slot_t *)((unsigned char *)r + r->slots_off);
        stage = (unsigned char *)r + r->staging_off;
        mask = r->capacity - 1;
        ssize = r->staging_size;
    }
};

/* One round's shared state. */
struct gmk_round {
    gmk_task_t batch[GMK_MAX_BATCH];
    gmk_out_t out[GMK_OUT_CAP];
    const unsigned char *src[GMK_MAX_BATCH]; /* host.rx staging of each payload */
    uint64_t pos[GMK_OUT_CAP];               /* host.tx staging positions */
    uint16_t loc[GMK_OUT_CAP], host[GMK_OUT_CAP];
    uint32_t pre[GMK_OUT_CAP + 1], plen[GMK_OUT_CAP]; /* payload copy plan: first chunk, bytes */
    uint64_t freeq[GMK_OUT_CAP + GMK_MAX_BATCH];       /* payload blocks to give back to the pool */
    uint32_t nfree, need, pidx;
    uint32_t n, nout, nloc, nhost, nlater, mixed, stop, fails, cut;
    uint64_t qpos, qn;
    gmk_geom rxg, txg;
    /* Lead-owned bridge cursors (mirrors of gmk_bridge_cons_t / _prod_t). */
    uint64_t rx_head, rx_tail_cache, rx_seq, rx_stage_head, rx_releases;
    uint64_t rx_rel, rx_rel_stage; /* head and stage_head as last released */
    uint64_t tx_tail, tx_head_cache, tx_stage_tail, tx_stage_head_cache, tx_seq, tx_transfers;
};

/* ---- payload blocks ------------------------------------------------------
 * The payload arena's blocks live in a pool: an MPMC ring of free block
 * offsets (a task per block, its payload field the offset), so a batch takes
 * or returns all its blocks with one claim or one reservation — a Treiber
 * stack would serialise one CAS per block on a single hot word. */

/* Queue a block for return (any thread). */
__device__ __forceinline__ void gmk_pool_free(gmk_round &r, uint64_t off) { r.freeq[atomicAdd(&r.nfree, 1u)] = off; }

/* Return the queued blocks: the lead reserves, the lanes fill. Every thread
 * of the block calls it. */
__device__ void gmk_pool_flush(gmk_gpu_state_t *st, gmk_round &r) {
    __syncthreads();
    const uint32_t n = r.nfree;
    if (n == 0)
        return;
    if (threadIdx.x == 0) {
        uint64_t pos = 0;
        r.qn = gmk_mpmc_reserve(st->pool, n, &pos); /* the pool holds every block: always n */
        r.qpos = pos;
    }
    __syncthreads();
    const uint32_t got = (uint32_t)r.qn;
    for (uint32_t i = threadIdx.x; i < got; i += blockDim.x) {
        gmk_task_t t = {};
        t.payload = r.freeq[i];
        gmk_mpmc_put(st->pool, r.qpos + i, &t);
    }
    __syncthreads();
    if (threadIdx.x == 0)
        r.nfree = 0;
    __syncthreads();
}

/* ---- gather ---------------------------------------------------------- */

/* Release the host.rx slots taken so far (lead thread). A system-scope
 * release waits until every earlier write of the block is visible to the host
 * — measured at 10-30 µs per release on an H100 — so it is paid once per
 * eighth of the ring (or of the staging area), and whenever the worker has
 * caught up with the producer (force, or nothing left): a producer never
 * waits for slots the device has finished with for longer than one poll. */
__device__ void gmk_rx_release(gmk_gpu_state_t *st, gmk_round &r, bool force) {
    const uint64_t pending = r.rx_head - r.rx_rel;
    if (pending == 0)
        return;
    const bool caught_up = r.rx_head == r.rx_tail_cache;
    if (!force && !caught_up && pending < (r.rxg.mask + 1) / 8 &&
        r.rx_stage_head - r.rx_rel_stage < r.rxg.ssize / 8)
        return;
    gmk_bridge_ring_t *rh = st->rx_host;
    gmk_sys_st_rlx64(&rh->stage_head, r.rx_stage_head);
    gmk_sys_st_rlx64(&rh->cons_seq, r.rx_seq);
    gmk_sys_st_rlx64(&rh->releases, ++r.rx_releases);
    gmk_sys_st_rel64(&rh->head, r.rx_head); /* C2: our slot and staging reads come first */
    /* The producer waits only on a full ring: look for a sleeper (a PCIe
     * read) only when the ring was at least half full. */
    if (r.rx_tail_cache - r.rx_rel >= (r.rxg.mask + 1) / 2 && gmk_sys_ld_rlx32(&rh->prod_waiting))
        gmk_sys_bump(&rh->prod_bell);
    r.rx_rel = r.rx_head;
    r.rx_rel_stage = r.rx_stage_head;
}

/* Worker 0: take up to rx_batch tasks from host.rx. Returns the count. */
__device__ uint32_t gmk_gather_rx(gmk_gpu_state_t *st, gmk_round &r, gmk_wstat_t *ws) {
    gmk_bridge_ring_t *rx = st->rx;
    uint64_t t0 = threadIdx.x == 0 ? gmk_now() : 0;
    if (threadIdx.x == 0) {
        uint64_t n = r.rx_tail_cache - r.rx_head;
        if (n == 0) {
            r.rx_tail_cache = gmk_sys_ld_acq64(&rx->tail); /* C1 */
            n = r.rx_tail_cache - r.rx_head;
        }
        r.n = (uint32_t)gmk_min64(n, st->rx_batch);
        r.cut = r.n;
        r.need = 0;
    }
    __syncthreads();
    const uint32_t n = r.n;
    uint64_t t1 = threadIdx.x == 0 ? gmk_now() : 0;
    if (threadIdx.x == 0)
        ws->ns_rx_poll += t1 - t0;
    if (n == 0) {
        if (threadIdx.x == 0)
            gmk_rx_release(st, r, true);
        return 0;
    }
    for (uint32_t i = threadIdx.x; i < n; i += blockDim.x) {
        /* A slot is one 64-byte line: four independent 16-byte loads, so a
         * slot read over PCIe costs one round trip, not eight. */
        const uint4 *sv = (const uint4 *)r.rxg.slot(r.rx_head + i);
        union {
            uint4 v[4];
            gmk_bridge_slot_t s;
        } u;
        u.v[0] = sv[0];
        u.v[1] = sv[1];
        u.v[2] = sv[2];
        u.v[3] = sv[3];
        gmk_task_t t = u.s.task;
        uint64_t seq = u.s.seq, spos = u.s.stage_pos;
        bool ok = seq == r.rx_seq + i;
        r.src[i] = 0; /* set once the payload has a device block */
        r.plen[i] = 0; /* 1: wants a payload block */
        if (ok && t.payload_len > 0) {
            uint64_t size = r.rxg.ssize, off = spos & (size - 1);
            if ((uint64_t)t.payload_len > size / 2 || off + t.payload_len > size) {
                ok = false; /* corrupt slot: leave it for the host to see */
            } else if (t.payload_len > st->payload_block) {
                /* Never fits a payload block: consumed and rejected, counted. */
                t.type = GMK_TYPE_REJECTED;
                atomicAdd((unsigned long long *)&ws->payload_fail, 1ull);
            } else {
                atomicAdd(&r.need, 1u);
                r.plen[i] = 1;
                r.pos[i] = spos;
            }
        }
        if (!ok)
            atomicMin(&r.cut, i); /* stop before a gap or a corrupt slot */
        t._pad = 0;
        r.batch[i] = t;
    }
    __syncthreads();
    uint64_t t2 = threadIdx.x == 0 ? gmk_now() : 0;
    if (threadIdx.x == 0) { /* one claim for every payload block of the batch */
        uint64_t pos = 0;
        r.qn = r.need ? gmk_mpmc_claim(st->pool, r.need, &pos) : 0;
        r.qpos = pos;
        r.pidx = 0;
    }
    __syncthreads();
    for (uint32_t i = threadIdx.x; i < n; i += blockDim.x) {
        gmk_task_t &t = r.batch[i];
        if (r.plen[i] == 0)
            continue;
        /* Every task that asked takes a ticket, so exactly qn claimed
         * positions are taken (a claimed cell left untaken would block the
         * pool's producers forever). */
        uint32_t j = atomicAdd(&r.pidx, 1u);
        if (j < r.qn) {
            gmk_task_t b;
            gmk_mpmc_take(st->pool, r.qpos + j, &b);
            t.payload = b.payload; /* rewrite the reference to this kernel's copy ([B3]) */
            r.src[i] = r.rxg.at(r.pos[i]);
        } else {
            atomicAdd((unsigned long long *)&ws->payload_fail, 1ull);
            atomicMin(&r.cut, i); /* no block now: it waits in the ring */
        }
    }
    __syncthreads();
    const uint32_t k = r.cut;
    /* Blocks taken beyond the cut go back; those tasks stay in the ring. */
    for (uint32_t i = k + threadIdx.x; i < n; i += blockDim.x)
        if (r.src[i] != 0)
            gmk_pool_free(r, r.batch[i].payload);
    gmk_pool_flush(st, r);
    uint64_t t3 = threadIdx.x == 0 ? gmk_now() : 0;
    if (threadIdx.x == 0) {
        uint32_t c = 0;
        for (uint32_t i = 0; i < k; i++) {
            r.pre[i] = c;
            r.plen[i] = r.src[i] != 0 ? r.batch[i].payload_len : 0;
            c += (r.plen[i] + 15) / 16;
        }
        r.pre[k] = c;
    }
    __syncthreads();
    unsigned char *arena = st->arena;
    gmk_copy_flat(r.pre, k, r.plen, [&](uint32_t i) { return arena + r.batch[i].payload; },
                  [&](uint32_t i) { return r.src[i]; });
    __syncthreads();
    uint64_t t4 = threadIdx.x == 0 ? gmk_now() : 0;
    if (threadIdx.x == 0) {
        if (k < n && k == 0) {
            gmk_bridge_slot_t *s = r.rxg.slot(r.rx_head);
            if (s->seq != r.rx_seq)
                ws->bridge_gap++;
        }
        if (k > 0) {
            for (uint32_t i = 0; i < k; i++)
                if (r.batch[i].payload_len > 0)
                    r.rx_stage_head = r.pos[i] + gmk_bridge_stage_round(r.batch[i].payload_len);
            r.rx_head += k;
            r.rx_seq += k;
            ws->bridge_in += k;
        }
        gmk_rx_release(st, r, false);
        r.n = k;
        uint64_t t5 = gmk_now();
        ws->ns_rx_slots += t2 - t1;
        ws->ns_rx_blocks += t3 - t2;
        ws->ns_rx_copy += t4 - t3;
        ws->ns_rx_release += t5 - t4;
        if (k > 0) /* one record per batch: its first task and its size */
            GMK_TRACE(st, 0, GMK_EV_BRIDGE_IN, r.batch[0].type, r.batch[0].seq, k);
    }
    __syncthreads();
    return r.n;
}

/* Take up to max tasks from q into r.batch[at..]: the lead claims, lanes copy. */
__device__ uint32_t gmk_gather_q(gmk_mpmc_t *q, gmk_round &r, uint32_t at, uint32_t max) {
    if (threadIdx.x == 0) {
        uint64_t pos = 0;
        r.qn = gmk_mpmc_claim(q, max, &pos);
        r.qpos = pos;
    }
    __syncthreads();
    const uint32_t n = (uint32_t)r.qn;
    for (uint32_t i = threadIdx.x; i < n; i += blockDim.x)
        gmk_mpmc_take(q, r.qpos + i, &r.batch[at + i]);
    __syncthreads();
    return n;
}

/* The worker's LQ, else the first non-empty GRQ bucket from a rotating start. */
__device__ uint32_t gmk_gather(gmk_gpu_state_t *st, gmk_round &r, uint32_t w, uint64_t round) {
    uint32_t n = gmk_gather_q(&st->lq[w], r, 0, st->batch);
    if (n > 0)
        return n;
    /* Aging scan: the buckets' lengths are loaded by one thread each, in
     * parallel (one L2 round trip, not nbuckets), and the first non-empty one
     * from a rotating start wins. */
    for (uint32_t b0 = 0; b0 < st->nbuckets; b0 += 32) {
        uint32_t b = b0 + threadIdx.x;
        bool full = false;
        if (threadIdx.x < 32 && b < st->nbuckets) {
            const gmk_mpmc_t *q = &st->grq[(w + round + b) % st->nbuckets];
            full = gmk_ld_rlx64(&q->tail) != gmk_ld_rlx64(&q->head);
        }
        if (threadIdx.x < 32) {
            uint32_t m = __ballot_sync(0xffffffffu, full);
            if (threadIdx.x == 0)
                r.cut = m ? b0 + __ffs(m) - 1 : ~0u;
        }
        __syncthreads();
        const uint32_t hit = r.cut;
        __syncthreads();
        if (hit == ~0u)
            continue;
        n = gmk_gather_q(&st->grq[(w + round + hit) % st->nbuckets], r, 0, st->batch);
        if (n > 0)
            return n;
    }
    return 0;
}

/* Due events of the worker's EVQ ([G1]: the lead checks it every round). */
__device__ uint32_t gmk_gather_evq(gmk_gpu_state_t *st, gmk_round &r, uint32_t w, gmk_wstat_t *ws) {
    if (threadIdx.x == 0) {
        gmk_evq_t *e = &st->evq[w];
        r.n = gmk_evq_len(e) == 0 ? 0 : gmk_evq_pop_due(e, gmk_now(), r.batch, st->batch);
        ws->evq_fired += r.n;
    }
    __syncthreads();
    return r.n;
}

/* ---- dispatch -------------------------------------------------------- */

__device__ void gmk_sort(gmk_round &r, uint32_t n) {
    if (threadIdx.x == 0) {
        for (uint32_t i = 1; i < n; i++) { /* stable insertion sort by type */
            gmk_task_t x = r.batch[i];
            uint32_t j = i;
            for (; j > 0 && r.batch[j - 1].type > x.type; j--)
                r.batch[j] = r.batch[j - 1];
            r.batch[j] = x;
        }
    }
    __syncthreads();
}

__device__ void gmk_dispatch_batch(gmk_gpu_state_t *st, gmk_round &r, uint32_t w, uint32_t n, uint64_t tick,
                                   gmk_wstat_t *ws, uint64_t round) {
    const uint32_t tid = threadIdx.x, T = blockDim.x, warp = tid / 32, nwarps = T / 32;
    gmk_ctx_t c;
    c.st = st;
    c.worker = w;
    c.tick = tick;
    c.out = r.out;
    c.nout = &r.nout;
    c.out_cap = GMK_OUT_CAP;
    c.payload_base = st->arena;
    uint32_t i = 0;
    while (i < n) {
        const uint32_t ty = r.batch[i].type;
        uint32_t j = i + 1;
        while (j < n && r.batch[j].type == ty)
            j++;
        const int g = gmk_granularity(ty);
        int rc = GMK_OK;
        if (g == GMK_SCALAR) {
            c.lane = 0;
            c.width = 1;
            for (uint32_t k = i + tid; k < j; k += T) {
                c.src = k;
                rc = gmk_dispatch(ty, &c, &r.batch[k]);
                if (rc == GMK_RETRY)
                    rc = gmk_emit(&c, &r.batch[k]);
                if (rc < 0)
                    atomicAdd(&r.fails, 1u);
            }
        } else if (g == GMK_WARP) {
            c.lane = tid % 32;
            c.width = 32;
            for (uint32_t k = i + warp; k < j; k += nwarps) {
                c.src = k;
                rc = gmk_dispatch(ty, &c, &r.batch[k]);
                __syncwarp();
                if (c.lane == 0) {
                    if (rc == GMK_RETRY)
                        rc = gmk_emit(&c, &r.batch[k]);
                    if (rc < 0)
                        atomicAdd(&r.fails, 1u);
                }
            }
        } else if (g == GMK_BLOCK) {
            c.lane = tid;
            c.width = T;
            for (uint32_t k = i; k < j; k++) {
                c.src = k;
                rc = gmk_dispatch(ty, &c, &r.batch[k]);
                __syncthreads();
                if (tid == 0) {
                    if (rc == GMK_RETRY)
                        rc = gmk_emit(&c, &r.batch[k]);
                    if (rc < 0)
                        atomicAdd(&r.fails, 1u);
                }
            }
        } else if (tid == 0) {
            if (ty == GMK_TYPE_REJECTED)
                ws->failed += j - i;
            else
                ws->unknown += j - i;
        }
        if (tid == 0 && (round & ((1ull << st->trace_sample) - 1)) == 0)
            GMK_TRACE(st, w, GMK_EV_DISPATCH, ty, r.batch[i].seq, j - i);
        __syncthreads();
        i = j;
    }
}

/* Free the payload blocks of dispatched tasks that no emit carries on: a
 * payload moves with the (one) emit that carries its reference. */
__device__ void gmk_free_payloads(gmk_gpu_state_t *st, gmk_round &r, uint32_t n) {
    const uint32_t nout = min(r.nout, (uint32_t)GMK_OUT_CAP);
    for (uint32_t i = threadIdx.x; i < n; i += blockDim.x) {
        const gmk_task_t &t = r.batch[i];
        if (t.payload_len == 0)
            continue;
        bool moved = false;
        for (uint32_t k = 0; k < nout && !moved; k++)
            moved = r.out[k].task.payload_len > 0 && r.out[k].task.payload == t.payload;
        if (!moved)
            gmk_pool_free(r, t.payload);
    }
    gmk_pool_flush(st, r);
}

/* ---- flush ----------------------------------------------------------- */

/* Stage r.out[r.host[0..m)] onto host.tx (worker 0 only) and publish them.
 * Returns how many fit; the rest stay for the caller. */
__device__ uint32_t gmk_stage_tx(gmk_gpu_state_t *st, gmk_round &r, uint32_t m, gmk_wstat_t *ws) {
    gmk_bridge_ring_t *tx = st->tx;
    if (threadIdx.x == 0) {
        const uint64_t cap = r.txg.mask + 1, size = r.txg.ssize;
        uint32_t k = 0;
        for (; k < m; k++) {
            if (r.tx_tail + k - r.tx_head_cache >= cap) {
                r.tx_head_cache = gmk_sys_ld_acq64(&tx->head); /* P2 */
                if (r.tx_tail + k - r.tx_head_cache >= cap)
                    break;
            }
            const gmk_task_t &t = r.out[r.host[k]].task;
            uint64_t pos = 0;
            if (t.payload_len > 0) {
                uint64_t need = gmk_bridge_stage_round(t.payload_len);
                pos = r.tx_stage_tail;
                if ((pos & (size - 1)) + need > size)
                    pos += size - (pos & (size - 1));
                if (pos + need - r.tx_stage_head_cache > size) {
                    r.tx_stage_head_cache = gmk_sys_ld_acq64(&tx->stage_head);
            r.txg.load(tx); /* P2 */
                    if (pos + need - r.tx_stage_head_cache > size)
                        break;
                }
                r.tx_stage_tail = pos + need;
            }
            r.pos[k] = pos;
        }
        r.cut = k;
    }
    __syncthreads();
    const uint32_t k = r.cut;
    for (uint32_t i = threadIdx.x; i < k; i += blockDim.x) {
        gmk_bridge_slot_t *s = r.txg.slot(r.tx_tail + i);
        s->task = r.out[r.host[i]].task;
        s->seq = r.tx_seq + i;
        s->stage_pos = r.pos[i];
    }
    if (threadIdx.x == 0) {
        uint32_t c = 0;
        for (uint32_t i = 0; i < k; i++) {
            r.pre[i] = c;
            r.plen[i] = r.out[r.host[i]].task.payload_len;
            c += (r.plen[i] + 15) / 16;
        }
        r.pre[k] = c;
    }
    __syncthreads();
    unsigned char *arena = st->arena;
    gmk_copy_flat(r.pre, k, r.plen, [&](uint32_t i) { return r.txg.at(r.pos[i]); },
                  [&](uint32_t i) { return (const unsigned char *)arena + r.out[r.host[i]].task.payload; });
    __syncthreads();
    for (uint32_t i = threadIdx.x; i < k; i += blockDim.x) {
        const gmk_task_t &t = r.out[r.host[i]].task;
        if (t.payload_len > 0)
            gmk_pool_free(r, t.payload); /* the source copy is released ([B3]) */
    }
    gmk_pool_flush(st, r);
    if (threadIdx.x == 0 && k > 0) {
        r.tx_tail += k;
        r.tx_seq += k;
        gmk_sys_st_rlx64(&tx->stage_tail, r.tx_stage_tail);
        gmk_sys_st_rlx64(&tx->prod_seq, r.tx_seq);
        gmk_sys_st_rlx64(&tx->transfers, ++r.tx_transfers);
        gmk_sys_st_rel64(&tx->tail, r.tx_tail); /* P1: the block's slot and staging writes come first */
        if (gmk_sys_ld_rlx32(&tx->cons_waiting))
            gmk_sys_bump(&tx->cons_bell);
        ws->bridge_out += k;
    }
    __syncthreads();
    return k;
}

/* Push r.out[idx[0..m)] into q: the lead reserves, the lanes fill. Returns
 * how many went in. */
__device__ uint32_t gmk_push_q(gmk_mpmc_t *q, gmk_round &r, const uint16_t *idx, uint32_t m) {
    if (threadIdx.x == 0) {
        uint64_t pos = 0;
        r.qn = gmk_mpmc_reserve(q, m, &pos);
        r.qpos = pos;
    }
    __syncthreads();
    const uint32_t n = (uint32_t)r.qn;
    for (uint32_t i = threadIdx.x; i < n; i += blockDim.x)
        gmk_mpmc_put(q, r.qpos + i, &r.out[idx[i]].task);
    __syncthreads();
    return n;
}

__device__ void gmk_flush(gmk_gpu_state_t *st, gmk_round &r, uint32_t w, gmk_wstat_t *ws) {
    const uint32_t nout = min(r.nout, (uint32_t)GMK_OUT_CAP);
    if (threadIdx.x == 0) {
        r.nloc = 0;
        r.nhost = 0;
        r.nlater = 0;
        r.fails = 0;
    }
    __syncthreads();
    /* Order the emits by (task index in the batch, buffer slot): each entry
     * counts the entries of its destination that sort before it — O(n) per
     * thread, all threads at once — and lands at that rank. Handlers'
     * atomicAdd on the buffer interleaves lanes; this restores batch order. */
    for (uint32_t i = threadIdx.x; i < nout; i += blockDim.x) {
        const uint32_t d = r.out[i].dest, s = r.out[i].src;
        uint32_t rank = 0;
        for (uint32_t j = 0; j < nout; j++) {
            const gmk_out_t &o = r.out[j];
            rank += o.dest == d && (o.src < s || (o.src == s && j < i));
        }
        if (d == GMK_DEST_LATER) {
            /* Posting never waits (gmk_evq.h): every thread posts its own. */
            if (gmk_evq_post(&st->evq[w], &r.out[i].task, gmk_now() + r.out[i].delay) != 0)
                atomicAdd(&r.fails, 1u); /* counted below as refused */
            else
                atomicAdd(&r.nlater, 1u);
        } else if (d == GMK_DEST_HOST) {
            r.host[rank] = (uint16_t)i;
            atomicAdd(&r.nhost, 1u);
        } else {
            r.loc[rank] = (uint16_t)i;
            atomicAdd(&r.nloc, 1u);
        }
    }
    __syncthreads();
    const uint32_t nloc = r.nloc, nhost = r.nhost;
    uint32_t lost = 0;
    if (nloc > 0) {
        uint32_t put = gmk_push_q(&st->lq[w], r, r.loc, nloc);
        if (put < nloc) { /* LQ full: spill to the GRQ bucket of the first one's type */
            gmk_mpmc_t *b = &st->grq[r.out[r.loc[put]].task.type % st->nbuckets];
            put += gmk_push_q(b, r, r.loc + put, nloc - put);
        }
        lost += nloc - put;
    }
    if (nhost > 0) {
        uint32_t put = 0;
        /* Worker 0 stages onto host.tx itself unless earlier emits still wait
         * in the egress ring: then these queue behind them (FIFO). */
        if (threadIdx.x == 0)
            r.cut = w == 0 && st->tx != 0 && gmk_mpmc_len(st->egress) == 0;
        __syncthreads();
        if (r.cut)
            put = gmk_stage_tx(st, r, nhost, ws);
        if (put < nhost)
            put += gmk_push_q(st->egress, r, r.host + put, nhost - put);
        lost += nhost - put;
    }
    if (threadIdx.x == 0) {
        lost += r.fails; /* EVQ full */
        ws->emitted += nout - lost;
        ws->emit_full += lost + (r.nout > GMK_OUT_CAP ? r.nout - GMK_OUT_CAP : 0);
    }
    __syncthreads();
}

/* Worker 0: move up to batch tasks from the egress ring onto host.tx. */
__device__ void gmk_drain_egress(gmk_gpu_state_t *st, gmk_round &r, gmk_wstat_t *ws) {
    if (threadIdx.x == 0) {
        /* Claim no more than host.tx has slots for, so what is claimed is
         * staged now and the egress order holds (only a full staging area can
         * still send some back to the end of the ring). */
        const uint64_t cap = r.txg.mask + 1;
        uint64_t room = cap - (r.tx_tail - r.tx_head_cache);
        if (room < st->batch) {
            r.tx_head_cache = gmk_sys_ld_acq64(&st->tx->head); /* P2 */
            room = cap - (r.tx_tail - r.tx_head_cache);
        }
        uint64_t pos = 0;
        r.qn = room == 0 ? 0 : gmk_mpmc_claim(st->egress, gmk_min64(st->batch, room), &pos);
        r.qpos = pos;
        r.nhost = (uint32_t)r.qn;
    }
    __syncthreads();
    const uint32_t n = r.nhost;
    if (n == 0)
        return;
    for (uint32_t i = threadIdx.x; i < n; i += blockDim.x) {
        gmk_mpmc_take(st->egress, r.qpos + i, &r.out[i].task);
        r.out[i].dest = GMK_DEST_HOST;
        r.out[i].src = i;
        r.host[i] = (uint16_t)i;
    }
    __syncthreads();
    uint32_t put = gmk_stage_tx(st, r, n, ws);
    if (put < n) /* host.tx full: back to the egress ring (order among them kept) */
        gmk_push_q(st->egress, r, r.host + put, n - put);
}

/* ---- the worker ------------------------------------------------------ */

extern "C" __global__ void gmk_worker(gmk_gpu_state_t *st) {
    __shared__ gmk_round r;
    const uint32_t w = blockIdx.x, tid = threadIdx.x;
    gmk_wstat_t *ws = &st->stats[w];
    if (tid == 0) {
        r.stop = 0;
        if (w == 0 && st->rx != 0) {
            gmk_bridge_ring_t *rh = st->rx_host; /* the consumer line lives in host memory */
            r.rx_head = r.rx_rel = rh->head;
            r.rx_seq = rh->cons_seq;
            r.rx_stage_head = r.rx_rel_stage = rh->stage_head;
            r.rx_releases = rh->releases;
            r.rx_tail_cache = gmk_sys_ld_acq64(&st->rx->tail);
            r.rxg.load(st->rx);
        }
        if (w == 0 && st->tx != 0) {
            gmk_bridge_ring_t *tx = st->tx;
            r.tx_tail = tx->tail;
            r.tx_stage_tail = tx->stage_tail;
            r.tx_seq = tx->prod_seq;
            r.tx_transfers = tx->transfers;
            r.tx_head_cache = gmk_sys_ld_acq64(&tx->head);
            r.tx_stage_head_cache = gmk_sys_ld_acq64(&tx->stage_head);
            r.txg.load(tx);
        }
    }
    uint64_t last_beat = gmk_now(), round = 0, idle = 0, beats = 0;
    for (;;) {
        round++;
        if (tid == 0) {
            r.nout = 0;
            r.fails = 0;
            /* Host memory is touched once per GMK_HEARTBEAT_NS per worker: a
             * read of the stop flag and a heartbeat. Hundreds of workers
             * polling it every round would crowd the PCIe link that the
             * bridge's latency depends on. */
            uint64_t now = gmk_now();
            if (now - last_beat >= GMK_HEARTBEAT_NS) {
                last_beat = now;
                r.stop = gmk_sys_ld_rlx32(&st->ctl->stop);
                gmk_heartbeat_t *hb = &st->heartbeat[w];
                gmk_sys_st_rlx64(&hb->rounds, round);
                gmk_sys_st_rlx64(&hb->beat, ++beats);
            }
        }
        __syncthreads();
        if (r.stop)
            break;
        uint32_t n = 0;
        uint64_t t0 = tid == 0 ? gmk_now() : 0;
        if (w == 0 && st->rx != 0)
            n = gmk_gather_rx(st, r, ws);
        if (n == 0)
            n = gmk_gather_evq(st, r, w, ws);
        if (n == 0)
            n = gmk_gather(st, r, w, round);
        uint64_t t1 = tid == 0 ? gmk_now() : 0;
        if (w == 0 && st->tx != 0)
            gmk_drain_egress(st, r, ws);
        if (tid == 0) {
            uint64_t t2 = gmk_now();
            ws->ns_gather += t1 - t0;
            ws->ns_egress += t2 - t1;
        }
        if (n == 0) {
            idle++;
            if (tid == 0)
                ws->idle++;
            if (w != 0) /* worker 0 keeps polling host.rx: its latency is the bridge's */
                __nanosleep((uint32_t)min(idle * 64ull, 20000ull));
            continue;
        }
        idle = 0;
        bool differs = false;
        for (uint32_t k = tid; k < n; k += blockDim.x)
            differs |= r.batch[k].type != r.batch[0].type;
        bool mixed = __syncthreads_or(differs);
        if (mixed)
            gmk_sort(r, n);
        uint64_t t3 = tid == 0 ? gmk_now() : 0;
        gmk_dispatch_batch(st, r, w, n, round, ws, round);
        gmk_free_payloads(st, r, n);
        __syncthreads();
        uint64_t t4 = tid == 0 ? gmk_now() : 0;
        gmk_flush(st, r, w, ws);
        if (tid == 0) {
            ws->ns_dispatch += t4 - t3;
            ws->ns_flush += gmk_now() - t4;
            ws->done += n;
            ws->batches++;
            ws->failed += r.fails;
        }
    }
    if (tid == 0) {
        if (w == 0 && st->rx != 0)
            gmk_rx_release(st, r, true);
        ws->rounds = round;
        gmk_heartbeat_t *hb = &st->heartbeat[w];
        *(volatile uint64_t *)&hb->rounds = round;
        __threadfence_system();
    }
}

/* ---- setup and seeding (host-launched, before gmk_worker) ------------ */

/* Format every device queue and the payload pool (npayload a power of two).
 * Launch with any grid; the cells are initialised grid-stride, the headers
 * by thread 0. */
extern "C" __global__ void gmk_setup(gmk_gpu_state_t *st, gmk_mpmc_cell_t *lq_cells, uint64_t lq_cap,
                                     gmk_mpmc_cell_t *grq_cells, uint64_t grq_cap, gmk_mpmc_cell_t *eg_cells,
                                     uint64_t eg_cap, gmk_mpmc_cell_t *pool_cells, gmk_evq_cell_t *evq_inbox,
                                     gmk_evq_ent_t *evq_heap, uint64_t evq_cap) {
    const uint64_t gid = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x;
    const uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
    for (uint64_t i = gid; i < st->nworkers * lq_cap; i += stride)
        lq_cells[i].seq = i % lq_cap;
    for (uint64_t i = gid; i < st->nbuckets * grq_cap; i += stride)
        grq_cells[i].seq = i % grq_cap;
    for (uint64_t i = gid; i < eg_cap; i += stride)
        eg_cells[i].seq = i;
    for (uint64_t i = gid; i < st->npayload; i += stride) {
        gmk_task_t t = {};
        t.payload = i * st->payload_block;
        pool_cells[i].task = t;
        pool_cells[i].seq = i + 1; /* full */
    }
    for (uint64_t w = gid; w < st->nworkers; w += stride) /* one thread per EVQ: its init loops over cells */
        gmk_evq_init(&st->evq[w], evq_inbox + w * evq_cap, evq_heap + w * evq_cap, (uint32_t)evq_cap);
    if (gid == 0) {
        for (uint32_t w = 0; w < st->nworkers; w++) {
            gmk_mpmc_t *q = &st->lq[w];
            q->head = q->tail = 0;
            q->cells = lq_cells + w * lq_cap;
            q->mask = lq_cap - 1;
            st->trace_pos[w] = 0;
        }
        for (uint32_t b = 0; b < st->nbuckets; b++) {
            gmk_mpmc_t *q = &st->grq[b];
            q->head = q->tail = 0;
            q->cells = grq_cells + b * grq_cap;
            q->mask = grq_cap - 1;
        }
        st->egress->head = st->egress->tail = 0;
        st->egress->cells = eg_cells;
        st->egress->mask = eg_cap - 1;
        st->pool->head = 0;
        st->pool->tail = st->npayload; /* every block free: positions [0, npayload) full */
        st->pool->cells = pool_cells;
        st->pool->mask = st->npayload - 1;
    }
}

/* Seed each worker's LQ with `per` tasks of type (meta0 given, meta1 = worker * per + i, a
 * distinct id per task): the no-op throughput benchmark's start. One block
 * per worker, run after gmk_setup and before gmk_worker. */
extern "C" __global__ void gmk_seed(gmk_gpu_state_t *st, uint64_t type, uint64_t meta0, uint64_t per) {
    const uint32_t w = blockIdx.x;
    if (w >= st->nworkers || threadIdx.x != 0)
        return;
    for (uint64_t i = 0; i < per; i++) {
        gmk_task_t x = {};
        x.type = (uint32_t)type;
        x.seq = (uint32_t)i;
        x.meta0 = meta0;
        x.meta1 = (uint64_t)w * per + i;
        gmk_mpmc_push(&st->lq[w], &x, 1);
    }
}

/* Probe: n dependent reads of a host-mapped word by one thread; the mean
 * PCIe read latency the bridge's polling pays, in ns, goes to out[0]. */
extern "C" __global__ void gmk_probe_read(uint64_t *host, uint64_t n, uint64_t *out) {
    uint64_t t0 = gmk_now(), x = 0;
    for (uint64_t i = 0; i < n; i++)
        x += *(volatile uint64_t *)(host + (x & 1));
    out[0] = (gmk_now() - t0) / (n ? n : 1);
    out[1] = x;
}

/* The per-task-launch baseline: one launch does what one task does. */
extern "C" __global__ void gmk_one_task(gmk_gpu_state_t *st, uint64_t *counter) {
    if (threadIdx.x == 0 && blockIdx.x == 0)
        *counter += 1;
}
