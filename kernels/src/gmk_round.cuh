/*
 * gmk_round.cuh — a worker round's shared state and the helpers every part of
 * the persistent kernel uses: system-scope accesses to mapped host memory,
 * the flattened block copy, bridge ring geometry, the payload block pool, and
 * the lead-claims/lanes-copy queue transfers. Included by gmk_kernel.cu only
 * (after gmk_state.h and the generated dispatch header).
 */
#ifndef GMK_ROUND_CUH
#define GMK_ROUND_CUH

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
/* Relaxed 8-byte load: single-copy atomic, so an LL word's tag and data
 * arrive together (gmk_bridge.h L1); no ordering, no L1 hit on a stale line. */
__device__ __forceinline__ uint64_t gmk_sys_ld_rlx64(const uint64_t *p) {
    uint64_t v;
    asm volatile("ld.relaxed.sys.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
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
__device__ __forceinline__ void gmk_sys_st_rlx32(uint32_t *p, uint32_t v) {
    asm volatile("st.relaxed.sys.global.u32 [%0], %1;" ::"l"(p), "r"(v) : "memory");
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
    uint64_t start; /* start_seq: tells a first-lap LL slot (never written) */
    bool ll;        /* GMK_BRIDGE_LL: 128-byte LL slots (gmk_bridge_ll_dev.cuh) */
    __device__ gmk_bridge_slot_t *slot(uint64_t pos) const { return slots + (pos & mask); }
    __device__ gmk_bridge_ll_slot_t *llslot(uint64_t pos) const {
        return (gmk_bridge_ll_slot_t *)slots + (pos & mask);
    }
    __device__ unsigned char *at(uint64_t pos) const { return stage + (pos & (ssize - 1)); }
    __device__ void load(gmk_bridge_ring_t *r) {
        slots = (gmk_bridge_slot_t *)((unsigned char *)r + r->slots_off);
        stage = (unsigned char *)r + r->staging_off;
        mask = r->capacity - 1;
        ssize = r->staging_size;
        start = r->start_seq;
        ll = (r->flags & GMK_BRIDGE_LL) != 0; /* set at format, never cleared */
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
    uint32_t n, nout, nloc, nhost, nlater, mixed, stop, cut;
    uint32_t fails;   /* handlers of the round that returned < 0 */
    uint32_t refused; /* emits for later the EVQ refused (full), in the flush */
    uint64_t qpos, qn;
    gmk_geom rxg, txg;
    /* Lead-owned bridge cursors (mirrors of gmk_bridge_cons_t / _prod_t). */
    uint64_t rx_head, rx_tail_cache, rx_seq, rx_stage_head, rx_releases;
    uint64_t rx_rel, rx_rel_stage; /* head and stage_head as last released */
    uint64_t acked, acked_out;     /* host.rx tasks done with (gmk_gpu_state_t.ack); as last published */
    uint64_t rx_last;              /* gmk_now() of the last round that took host.rx tasks */
    uint32_t rx_llwin, rx_llbad;   /* LL host.rx: slots the next poll reads; first broken slot */
    uint64_t tx_tail, tx_head_cache, tx_stage_tail, tx_stage_head_cache, tx_seq, tx_transfers;
};

/* ---- payload blocks ------------------------------------------------------
 * The payload arena's blocks live in a pool: an MPMC ring of free block
 * offsets (a task per block, its payload field the offset), so a batch takes
 * or returns all its blocks with one claim or one reservation — a Treiber
 * stack would serialise one CAS per block on a single hot word. */

/* Queue a block for return (any thread). */
__device__ __forceinline__ void gmk_pool_free(gmk_round &r, uint64_t off) { r.freeq[atomicAdd(&r.nfree, 1u)] = off; }

/* Whether off is a bulk block (gmk_gpu_state_t.bulk_off). */
__device__ __forceinline__ bool gmk_is_bulk(const gmk_gpu_state_t *st, uint64_t off) {
    return st->nbulk != 0 && off >= st->bulk_off;
}

/* Mark bulk block off free for the host: a system-scope store, which the
 * caller orders after every read of the block with __threadfence_system()
 * (cumulative, after a barrier): the host refills a free block by DMA at
 * once. One fence serves a whole batch of marks — a system fence costs
 * 1–3 µs (kernels/NOTES.md), one per block held the bulk path to half the
 * copy engine's rate. */
__device__ __forceinline__ void gmk_bulk_mark(gmk_gpu_state_t *st, uint64_t off) {
    asm volatile("st.relaxed.sys.global.u32 [%0], %1;" ::"l"(&st->bulk_free[(off - st->bulk_off) / st->bulk_block]),
                 "r"(1u)
                 : "memory");
}

/* Whether off is a bulk block; if so, mark it free for the host (fenced). */
__device__ __forceinline__ bool gmk_bulk_free(gmk_gpu_state_t *st, uint64_t off) {
    if (!gmk_is_bulk(st, off))
        return false;
    __threadfence_system();
    gmk_bulk_mark(st, off);
    return true;
}

/* Return the queued blocks: the lead reserves, the lanes fill. Every thread
 * of the block calls it. Bulk blocks among them go back to the host. */
__device__ void gmk_pool_flush(gmk_gpu_state_t *st, gmk_round &r) {
    __syncthreads();
    if (st->nbulk != 0 && threadIdx.x == 0 && r.nfree > 0) {
        uint32_t m = 0;
        bool fenced = false;
        for (uint32_t i = 0; i < r.nfree; i++) {
            const uint64_t off = r.freeq[i];
            if (!gmk_is_bulk(st, off)) {
                r.freeq[m++] = off;
                continue;
            }
            if (!fenced)
                __threadfence_system(); /* once: every read of the batch's blocks before the marks */
            fenced = true;
            gmk_bulk_mark(st, off);
        }
        r.nfree = m;
    }
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

#endif /* GMK_ROUND_CUH */
