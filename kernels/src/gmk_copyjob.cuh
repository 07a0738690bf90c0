/*
 * gmk_copyjob.cuh — host.rx payload copies spread over idle workers.
 *
 * Worker 0 alone reads host.rx, and one block reading mapped host memory
 * keeps too few loads in flight to fill PCIe (about 3 GB/s measured on an
 * H100 for 4 KiB payloads; the link carries 50+). When a batch's payloads
 * are large, worker 0 publishes them as a copy job: one entry per task
 * (source in the staging area, destination block, length). Idle workers
 * look for a job on every idle round and claim entries; worker 0 claims
 * too, then waits until every entry is copied before it dispatches the
 * batch, so the order, the release of host.rx and the acknowledgements stay
 * as they are. Included by gmk_kernel.cu only (after gmk_round.cuh).
 *
 * Memory model: worker 0 writes the entries, then publishes the job with a
 * fence and one atomic exchange of the claim word; a claimer's atomicAdd
 * reads that word, and its fence orders the entry loads after it (the
 * entries are read through L2, __ldcg: another SM wrote them). A claimer
 * writes the payload bytes, fences, then adds to `done`; worker 0's acquire
 * load of `done` orders its block's later reads of those bytes after them.
 */
#ifndef GMK_COPYJOB_CUH
#define GMK_COPYJOB_CUH

/* A batch whose payloads total fewer bytes is copied by worker 0 alone: a
 * job costs a few device-memory round trips, worth it only for bulk. */
#ifndef GMK_COPY_MIN_BYTES
#define GMK_COPY_MIN_BYTES (32u << 10)
#endif
#define GMK_COPY_CLAIM 2u /* entries a block claims at once */

typedef struct gmk_copy_ent {
    const unsigned char *src;
    unsigned char *dst;
    uint64_t len;
} gmk_copy_ent_t;

typedef struct gmk_copyjob {
    /* [63:40] job number, [39:32] entries, [31:0] the next entry to claim. */
    GMK_ALIGNAS(128) unsigned long long claim;
    GMK_ALIGNAS(128) unsigned int done; /* entries copied of the current job */
    GMK_ALIGNAS(128) gmk_copy_ent_t ent[GMK_MAX_BATCH];
} gmk_copyjob_t;

/* One job at a time, from worker 0; module memory starts zeroed. */
__device__ gmk_copyjob_t gmk_copy_job;

/* Claim up to GMK_COPY_CLAIM entries of the current job (lead thread):
 * r.qpos the first, r.qn how many (0: none left). A plain load first, so
 * idle workers polling an exhausted job do not hammer the word. */
__device__ __forceinline__ void gmk_copy_claim(gmk_round &r) {
    gmk_copyjob_t *j = &gmk_copy_job;
    r.qn = 0;
    unsigned long long c = *(volatile unsigned long long *)&j->claim;
    if ((uint32_t)c >= ((uint32_t)(c >> 32) & 0xffu))
        return;
    c = atomicAdd(&j->claim, (unsigned long long)GMK_COPY_CLAIM);
    const uint32_t n = (uint32_t)(c >> 32) & 0xffu, i = (uint32_t)c;
    if (i >= n)
        return;
    __threadfence(); /* the entries were written before the job was published */
    r.qpos = i;
    r.qn = min(GMK_COPY_CLAIM, n - i);
}

/* Copy entry e with the whole block: each thread keeps U independent
 * 16-byte loads in flight before it stores (a PCIe read is latency-bound:
 * one load at a time would cost a round trip per 4 KiB), then a byte tail. */
__device__ __forceinline__ void gmk_copy_ent(const gmk_copy_ent_t *e) {
    constexpr uint32_t U = 4;
    const uint4 *src = (const uint4 *)__ldcg((const unsigned long long *)&e->src);
    uint4 *dst = (uint4 *)__ldcg((const unsigned long long *)&e->dst);
    const uint64_t len = __ldcg((const unsigned long long *)&e->len), n16 = len / 16, T = blockDim.x;
    for (uint64_t base = threadIdx.x; base < n16; base += U * T) {
        uint4 v[U];
#pragma unroll
        for (uint32_t u = 0; u < U; u++)
            if (base + u * T < n16)
                v[u] = src[base + u * T];
#pragma unroll
        for (uint32_t u = 0; u < U; u++)
            if (base + u * T < n16)
                dst[base + u * T] = v[u];
    }
    for (uint64_t b = n16 * 16 + threadIdx.x; b < len; b += T)
        ((unsigned char *)dst)[b] = ((const unsigned char *)src)[b];
}

/* Copy claimed entries of the current job until none is left (every thread
 * of the block calls it). Returns whether the block copied any. */
__device__ bool gmk_copy_help(gmk_round &r) {
    gmk_copyjob_t *j = &gmk_copy_job;
    bool any = false;
    for (;;) {
        if (threadIdx.x == 0)
            gmk_copy_claim(r);
        __syncthreads();
        const uint32_t first = (uint32_t)r.qpos, n = (uint32_t)r.qn;
        if (n == 0) {
            __syncthreads(); /* everyone read r.qn before the lead's next claim */
            return any;
        }
        for (uint32_t e = first; e < first + n; e++)
            gmk_copy_ent(&j->ent[e]);
        __syncthreads();
        if (threadIdx.x == 0) {
            __threadfence(); /* the block's payload writes before the count */
            atomicAdd(&j->done, n);
        }
        any = true;
    }
}

/* Worker 0: copy the payloads of tasks [0, k) of the batch (r.src, r.plen,
 * destination blocks in r.batch[i].payload) with the idle workers' help, and
 * return when every byte is in place. */
__device__ void gmk_copy_spread(gmk_gpu_state_t *st, gmk_round &r, uint32_t k) {
    gmk_copyjob_t *j = &gmk_copy_job;
    for (uint32_t i = threadIdx.x; i < k; i += blockDim.x) {
        gmk_copy_ent_t e;
        e.src = r.src[i];
        e.dst = st->arena + r.batch[i].payload;
        e.len = r.src[i] != 0 ? r.plen[i] : 0;
        j->ent[i] = e;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        j->done = 0; /* every claimer of the last job has finished (we waited) */
        __threadfence();
        const unsigned long long job = (*(volatile unsigned long long *)&j->claim >> 40) + 1;
        atomicExch(&j->claim, (job << 40) | ((unsigned long long)k << 32));
    }
    gmk_copy_help(r);
    if (threadIdx.x == 0)
        while (gmk_ld_acq32(&j->done) < k)
            ;
    __syncthreads();
}

#endif /* GMK_COPYJOB_CUH */
