/*
 * gmk_bridge_ll_dev.cuh — worker 0's side of LL bridge rings (gmk_bridge.h,
 * LL RINGS): polling host.rx's slots for their tags instead of loading tail,
 * and writing host.tx's emits as self-validating LL words. gmk_bridge_dev.cuh
 * branches here when a ring's flags carry GMK_BRIDGE_LL (gmk_geom.ll, read
 * once at start); version-1 rings never reach this file. Included by
 * gmk_kernel.cu only, before gmk_bridge_dev.cuh.
 *
 * Why: a version-1 take costs two dependent PCIe round trips (tail, then the
 * slots) and a publication a system-scope release (it waits for every
 * posted write of the block); an LL slot carries its own validity, so one
 * read finds a task and an inline emit needs no fence (kernels/NOTES.md: an
 * echo over LL slots measured 2.1 µs round trip on an H100 vs 10.5 µs).
 */
#ifndef GMK_BRIDGE_LL_DEV_CUH
#define GMK_BRIDGE_LL_DEV_CUH

/* The gmk_task_t word (uint32 index) that LL word w (w < 12) carries: the
 * slot puts type, flags, channel, seq, meta0, meta1 in the head line and
 * payload, payload_len, yield_count|_pad in the extension (gmk_bridge.h). */
__device__ __forceinline__ uint32_t gmk_ll_task_word(uint32_t w) { return w < 4 ? w : w < 8 ? w + 4 : w - 4; }

/* One slot of gmk_ll_poll_rx's pass, in the eight lanes that read it:
 * words v (head line) and e (extension line when ext) checked; a complete
 * slot's task goes to r.batch[j] and its staging position to r.pos[j]; an
 * incomplete one bounds r.n, a broken one r.rx_llbad. */
__device__ __forceinline__ void gmk_ll_take(gmk_round &r, uint32_t j, uint32_t win, uint64_t v, uint64_t e, bool ext) {
    const uint32_t lane = threadIdx.x % 32, l = lane % 8, gmask = 0xffu << (lane & ~7u);
    const uint64_t seq = r.rx_seq + j;
    const uint32_t cap = (uint32_t)r.rxg.mask + 1, want = GMK_BRIDGE_LL_TAG(seq);
    const uint32_t old = seq - r.rxg.start < cap ? 0u : GMK_BRIDGE_LL_TAG(seq - cap);
    const bool in = j < win;
    const int hs = in ? gmk_bridge_ll_tag_((uint32_t)(v >> 32), want, old) : 1;
    const int es = ext ? gmk_bridge_ll_ext_tag_((uint32_t)(e >> 32), want, cap) : 1;
    const bool done = (__ballot_sync(~0u, hs == 1 && es == 1) & gmask) == gmask;
    const bool broken = (__ballot_sync(~0u, hs < 0 || es < 0) & gmask) != 0;
    const uint32_t hi = __shfl_down_sync(~0u, (uint32_t)e, 1); /* word 13 beside word 12 */
    if (!in)
        return;
    if (done) {
        uint32_t *tw = (uint32_t *)&r.batch[j];
        tw[gmk_ll_task_word(l)] = l == 1 ? (uint32_t)v & ~GMK_BRIDGE_LL_EXT : (uint32_t)v;
        if (l < 4) /* words 8-11; 0 when the slot has no extension */
            tw[gmk_ll_task_word(8 + l)] = (uint32_t)e;
        if (l == 4)
            r.pos[j] = (uint64_t)hi << 32 | (uint32_t)e;
    } else if (l == 0) {
        atomicMin(&r.n, j);
    }
    if (broken && l == 0)
        atomicMin(&r.rx_llbad, j);
}

/* Poll host.rx's LL slots [head, head + r.rx_llwin) (every thread calls it).
 * Eight lanes read one slot's head line, one word each: one 64-byte request
 * per slot, a warp's four slots and every warp's in flight together; a
 * thread keeps up to GMK_LL_POLL_U slots' loads in flight, so the window
 * (rx_batch slots) costs one PCIe round trip with 256 threads. The slots
 * whose word 1 announces GMK_BRIDGE_LL_EXT have their extension lines read
 * the same way, a second round trip for a batch with payloads. The complete
 * slots' tasks go to r.batch, their staging positions to r.pos; r.n is the
 * run of consecutive complete slots from head (L3: a torn or unwritten slot
 * ends it, and so does a broken one, counted in bridge_gap and never
 * consumed [B4]). The window is one slot after a poll that found nothing
 * (polling costs link bandwidth while idle), and after a hit twice the hit,
 * from 32 slots up to one pass (128 slots with 256 threads) or rx_batch. */
#define GMK_LL_POLL_U 4u
__device__ void gmk_ll_poll_rx(gmk_gpu_state_t *st, gmk_round &r, gmk_wstat_t *ws) {
    const uint32_t win = r.rx_llwin;
    if (threadIdx.x == 0) {
        r.n = win;
        r.rx_llbad = win;
    }
    __syncthreads();
    const uint32_t lane = threadIdx.x % 32, l = lane % 8, groups = blockDim.x / 8;
    const uint32_t gmask = 0xffu << (lane & ~7u), cap = (uint32_t)r.rxg.mask + 1;
    /* Uniform: every lane meets the ballots and shuffles. */
    for (uint32_t base = threadIdx.x / 8; base - threadIdx.x / 8 < win; base += GMK_LL_POLL_U * groups) {
        uint64_t v[GMK_LL_POLL_U], e[GMK_LL_POLL_U];
        uint32_t ext = 0; /* bit u: slot u of this pass has a complete head line announcing the extension */
        /* Relaxed: an inline task's words carry their own validity (L1); no
         * staging is read on their account, so nothing to order. */
#pragma unroll
        for (uint32_t u = 0; u < GMK_LL_POLL_U; u++) {
            const uint32_t j = base + u * groups;
            v[u] = j < win ? gmk_sys_ld_rlx64(&r.rxg.llslot(r.rx_head + j)->w[l]) : 0;
        }
#pragma unroll
        for (uint32_t u = 0; u < GMK_LL_POLL_U; u++) {
            const uint64_t seq = r.rx_seq + base + u * groups;
            const uint32_t old = seq - r.rxg.start < cap ? 0u : GMK_BRIDGE_LL_TAG(seq - cap);
            const bool ok = gmk_bridge_ll_tag_((uint32_t)(v[u] >> 32), GMK_BRIDGE_LL_TAG(seq), old) == 1;
            const bool head = (__ballot_sync(~0u, ok) & gmask) == gmask;
            const uint32_t flags = __shfl_sync(~0u, (uint32_t)v[u], (lane & ~7u) | 1u);
            if (base + u * groups < win && head && (flags & GMK_BRIDGE_LL_EXT) != 0)
                ext |= 1u << u;
        }
        /* Relaxed, as the head lines; then the acquire of L3: an extended
         * slot may name staging bytes (or a by-reference or bulk payload)
         * that the lanes copy after the next barriers, and a payload task
         * always has the extension line. Each producer orders a task's bytes
         * (and every earlier task's) before the slot's word 0 — C before
         * every word, Go's Publish stores word 0 atomically last (bridge/
         * ll.go) — so lane 0 re-loads word 0 of its last extended slot with
         * acquire: it reads the write its relaxed load saw (coherence; the
         * producer cannot rewrite a slot before head moves) and covers the
         * earlier slots; barriers carry it to the copying lanes. Issued after
         * the relaxed loads, it stays in flight with them (an acquire orders
         * only what follows it): one round trip for the lines. */
#pragma unroll
        for (uint32_t u = 0; u < GMK_LL_POLL_U; u++) {
            const gmk_bridge_ll_slot_t *s = r.rxg.llslot(r.rx_head + base + u * groups);
            e[u] = ext & (1u << u) ? gmk_sys_ld_rlx64(&s->w[8 + l]) : 0;
            if ((ext >> u) == 1u && l == 0)
                (void)gmk_sys_ld_acq64(&s->w[0]);
        }
#pragma unroll
        for (uint32_t u = 0; u < GMK_LL_POLL_U; u++)
            gmk_ll_take(r, base + u * groups, win, v[u], e[u], (ext >> u) & 1u);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        const uint32_t n = r.n;
        if (n < win && r.rx_llbad == n)
            ws->bridge_gap++; /* the next slot is foreign or corrupt: left for the host to see */
        /* What is known published, for the caught-up release and the
         * producer's wake check (gmk_rx_release): one more than taken when
         * the window was full, as more may be there. */
        r.rx_tail_cache = r.rx_head + n + (n == win ? 1 : 0);
        /* After a hit, twice what it found (at least 32 slots, one load per
         * lane group) up to one pass of the loop above: a window of two
         * passes costs two dependent PCIe round trips, and a ping-pong's
         * next poll (which finds nothing) paid them every time. */
        const uint32_t pass = GMK_LL_POLL_U * (blockDim.x / 8);
        r.rx_llwin = n > 0 ? (uint32_t)gmk_min64(gmk_min64(st->rx_batch, cap), min(pass, max(32u, 2 * n))) : 1;
        r.cut = n;
        r.need = 0;
    }
    __syncthreads();
}

/* Write host.tx's LL slots [tail, tail + k) for r.out[r.host[0..k)] (every
 * thread calls it, after the staging copy and a barrier). Sixteen threads
 * per slot, one 8-byte word each, in any order (L1): the host's consumer
 * takes a slot only when every word carries its tag. The extension line is
 * written when the task needs it (gmk_bridge_ll_needs_ext), and announced
 * in word 1; a task's own GMK_BRIDGE_LL_EXT bit is the format's and dropped. */
__device__ __forceinline__ void gmk_ll_put_tx(gmk_round &r, uint32_t k) {
    /* L2: a batch with payloads wrote staging bytes (other threads, ordered
     * before here by the caller's barrier); each writer's system fence is
     * cumulative over them, so the host sees the bytes before any word of
     * this thread. Inline batches skip it: that is the latency path. */
    if (r.pre[k] != 0 && threadIdx.x < k * GMK_BRIDGE_LL_WORDS)
        __threadfence_system();
    for (uint32_t x = threadIdx.x; x < k * GMK_BRIDGE_LL_WORDS; x += blockDim.x) {
        const uint32_t i = x / GMK_BRIDGE_LL_WORDS, w = x % GMK_BRIDGE_LL_WORDS;
        const gmk_task_t &t = r.out[r.host[i]].task;
        const bool ext = gmk_bridge_ll_needs_ext(&t);
        if (w >= GMK_BRIDGE_LL_HEAD_WORDS && !ext)
            continue; /* left as they are: the reader ignores them without the bit */
        uint32_t d = 0;
        if (w < 12)
            d = ((const uint32_t *)&t)[gmk_ll_task_word(w)];
        else if (w < 14)
            d = (uint32_t)(r.pos[i] >> (w == 13 ? 32 : 0));
        if (w == GMK_BRIDGE_LL_W_FLAGS)
            d = (d & ~GMK_BRIDGE_LL_EXT) | (ext ? GMK_BRIDGE_LL_EXT : 0u);
        const uint32_t tag = GMK_BRIDGE_LL_TAG(r.tx_seq + i);
        /* Relaxed: one single-copy-atomic 8-byte store (L1). */
        gmk_sys_st_rlx64(&r.txg.llslot(r.tx_tail + i)->w[w], GMK_BRIDGE_LL_WORD(tag, d));
    }
}

#endif /* GMK_BRIDGE_LL_DEV_CUH */
