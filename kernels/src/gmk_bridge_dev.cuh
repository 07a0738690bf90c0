/*
 * gmk_bridge_dev.cuh — worker 0's side of the bridge rings (gmk_bridge.h):
 * taking host.rx batches (payloads copied into device blocks, [B3]) and
 * releasing them lazily, staging emits onto host.tx, and draining the egress
 * ring of the other workers. LL rings take gmk_bridge_ll_dev.cuh's paths
 * where noted. Included by gmk_kernel.cu only.
 */
#ifndef GMK_BRIDGE_DEV_CUH
#define GMK_BRIDGE_DEV_CUH

/* ---- host.rx ---------------------------------------------------------- */

/* Release the host.rx slots taken so far (lead thread). A system-scope
 * release waits until every earlier write of the block is visible to the host
 * — measured at 10-30 µs per release on an H100 — so it is paid once per
 * eighth of the ring (or of the staging area), and with force only when
 * worker 0 has taken nothing for GMK_RX_LAZY_NS (gmk_rx_idle) and at exit.
 * Forcing it after every caught-up round put it between a reply and the
 * next request: in a ping-pong the request waited behind the fence. A
 * producer needs room only with an eighth of the ring unreleased, and then
 * the ordinary release comes. */
__device__ void gmk_rx_release(gmk_gpu_state_t *st, gmk_round &r, bool force) {
    const uint64_t pending = r.rx_head - r.rx_rel;
    if (pending == 0)
        return;
    if (!force && pending < (r.rxg.mask + 1) / 8 &&
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

/* Publish the count of host.rx tasks done with (lead): a system-scope
 * release, so the host reads the count only after the round's host.tx
 * publication that came before it. Paid as rarely as the release above. */
__device__ __forceinline__ void gmk_ack_out(gmk_gpu_state_t *st, gmk_round &r) {
    if (st->ack != 0 && r.acked != r.acked_out) {
        gmk_sys_st_rel64(st->ack, r.acked);
        r.acked_out = r.acked;
    }
}

/* How long worker 0 goes without taking a host.rx task before it releases
 * the slots and publishes the acknowledgements it holds back (ns): longer
 * than a bridge round trip, so a ping-pong never pays the fences, short
 * enough that a quiet bridge's counters are exact within a blink. */
#define GMK_RX_LAZY_NS 50000ull

/* A poll found nothing (lead): after GMK_RX_LAZY_NS of that, the held-back
 * release and acknowledgement go out. */
__device__ __forceinline__ void gmk_rx_idle(gmk_gpu_state_t *st, gmk_round &r) {
    if (r.rx_head == r.rx_rel && r.acked == r.acked_out)
        return;
    if (gmk_now() - r.rx_last < GMK_RX_LAZY_NS)
        return;
    gmk_rx_release(st, r, true);
    gmk_ack_out(st, r);
}

/* Worker 0: take up to rx_batch tasks from host.rx. Returns the count. */
__device__ uint32_t gmk_gather_rx(gmk_gpu_state_t *st, gmk_round &r, gmk_wstat_t *ws) {
    gmk_bridge_ring_t *rx = st->rx;
    uint64_t t0 = threadIdx.x == 0 ? gmk_now() : 0;
    if (r.rxg.ll) /* LL: the slots themselves say what is published */
        gmk_ll_poll_rx(st, r, ws);
    else if (threadIdx.x == 0) {
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
            gmk_rx_idle(st, r);
        return 0;
    }
    for (uint32_t i = threadIdx.x; i < n; i += blockDim.x) {
        gmk_task_t t;
        uint64_t spos;
        bool ok = true; /* LL: the poll checked every tag of slots [0, n) */
        if (r.rxg.ll) {
            t = r.batch[i];
            spos = r.pos[i];
        } else {
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
            t = u.s.task;
            spos = u.s.stage_pos;
            ok = u.s.seq == r.rx_seq + i;
        }
        r.src[i] = 0; /* set once the payload has a device block */
        r.plen[i] = 0; /* 1: wants a payload block */
        /* By reference (bridge.RefSender): the bytes are at the host address
         * stage_pos, mapped for the device; no staging to check or free. */
        const bool ref = (t.flags & GMK_TASK_PAYLOAD_REF) != 0, dev = (t.flags & GMK_TASK_PAYLOAD_DEV) != 0;
        r.loc[i] = ref || dev; /* no staging to free */
        t.flags &= (uint16_t)~(GMK_TASK_PAYLOAD_REF | GMK_TASK_PAYLOAD_DEV); /* from here on, an ordinary payload block */
        if (ok && dev) {
            /* Already in a bulk block of the arena (the host's DMA, gpu/cuda
             * Bulk): taken as it is, no copy, no pool block. */
            const uint64_t b = spos - st->bulk_off;
            if (t.payload_len == 0 || st->nbulk == 0 || spos < st->bulk_off || b % st->bulk_block != 0 ||
                b / st->bulk_block >= st->nbulk || t.payload_len > st->bulk_block)
                ok = false; /* corrupt slot: leave it for the host to see */
            else
                t.payload = spos;
        } else if (ok && t.payload_len > 0) {
            uint64_t size = r.rxg.ssize, off = spos & (size - 1);
            if (!ref && ((uint64_t)t.payload_len > size / 2 || off + t.payload_len > size)) {
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
            r.src[i] = r.loc[i] ? (const unsigned char *)r.pos[i] : r.rxg.at(r.pos[i]);
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
    if ((uint64_t)r.pre[k] * 16 >= GMK_COPY_MIN_BYTES) { /* bulk: spread over the idle workers */
        gmk_copy_spread(st, r, k);
    } else {
        unsigned char *arena = st->arena;
        gmk_copy_flat(r.pre, k, r.plen, [&](uint32_t i) { return arena + r.batch[i].payload; },
                      [&](uint32_t i) { return r.src[i]; });
    }
    __syncthreads();
    uint64_t t4 = threadIdx.x == 0 ? gmk_now() : 0;
    if (threadIdx.x == 0) {
        if (k < n && k == 0 && !r.rxg.ll) { /* LL: the poll counts gaps */
            gmk_bridge_slot_t *s = r.rxg.slot(r.rx_head);
            if (s->seq != r.rx_seq)
                ws->bridge_gap++;
        }
        if (k > 0) {
            for (uint32_t i = 0; i < k; i++)
                if (r.batch[i].payload_len > 0 && !r.loc[i])
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

/* ---- host.tx ---------------------------------------------------------- */

/* host.tx's bell as worker 0's lead last wrote it. The device is the
 * bell's only writer but for a closer's bump (Disconnect), so it keeps the
 * count itself and bumps it with a plain posted write after every
 * publication: no PCIe read of the consumer's waiting flag, which would
 * wait behind the publication's posted writes and hold the block's next
 * barrier (measured: about 5 µs of worker 0's round in a ping-pong). A
 * bump the consumer does not need costs four bytes on the link; one it
 * misses (a closer's bump landing on the same count, or the bell seen
 * before tail) costs it at most its bounded sleep (bridge/wait.go). */
struct gmk_bell {
    uint32_t count;
};

/* Stage r.out[r.host[0..m)] onto host.tx (worker 0 only) and publish them.
 * Returns how many fit; the rest stay for the caller. */
__device__ __forceinline__ uint32_t gmk_stage_tx(gmk_gpu_state_t *st, gmk_round &r, uint32_t m, gmk_wstat_t *ws,
                                                 gmk_bell &bell) {
    gmk_bridge_ring_t *tx = st->tx;
    uint64_t ts = threadIdx.x == 0 ? gmk_now() : 0;
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
    const bool ll = r.txg.ll;
    for (uint32_t i = threadIdx.x; i < k && !ll; i += blockDim.x) { /* LL: after the payloads */
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
    if (ll)
        gmk_ll_put_tx(r, k); /* the staging bytes above come first (L2) */
    for (uint32_t i = threadIdx.x; i < k; i += blockDim.x) {
        const gmk_task_t &t = r.out[r.host[i]].task;
        if (t.payload_len > 0)
            gmk_pool_free(r, t.payload); /* the source copy is released ([B3]) */
    }
    gmk_pool_flush(st, r);
    if (threadIdx.x == 0 && k > 0) {
        uint64_t t0 = gmk_now();
        r.tx_tail += k;
        r.tx_seq += k;
        gmk_sys_st_rlx64(&tx->stage_tail, r.tx_stage_tail);
        gmk_sys_st_rlx64(&tx->prod_seq, r.tx_seq);
        gmk_sys_st_rlx64(&tx->transfers, ++r.tx_transfers);
        /* P1: the block's slot and staging writes come first. Measured: with
         * a relaxed store here the host sees the tail before the slots (a
         * sequence gap within the first 2,000 round trips on an H200). LL
         * (L4): the slot words publish themselves; tail is stats and the
         * wake line's, so relaxed — no wait for the block's posted writes. */
        if (ll)
            gmk_sys_st_rlx64(&tx->tail, r.tx_tail);
        else
            gmk_sys_st_rel64(&tx->tail, r.tx_tail);
        uint64_t t1 = gmk_now();
        gmk_sys_st_rlx32(&tx->cons_bell, ++bell.count); /* after tail in program order */
        ws->ns_tx_stage += t0 - ts;
        ws->ns_tx_publish += t1 - t0;
        ws->ns_tx_bell += gmk_now() - t1;
        ws->bridge_out += k;
    }
    __syncthreads();
    return k;
}

/* Worker 0: move up to batch tasks from the egress ring onto host.tx. */
__device__ void gmk_drain_egress(gmk_gpu_state_t *st, gmk_round &r, gmk_wstat_t *ws, gmk_bell &bell) {
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
    uint32_t put = gmk_stage_tx(st, r, n, ws, bell);
    if (put < n) /* host.tx full: back to the egress ring (order among them kept) */
        gmk_push_q(st->egress, r, r.host + put, n - put);
}

#endif /* GMK_BRIDGE_DEV_CUH */
