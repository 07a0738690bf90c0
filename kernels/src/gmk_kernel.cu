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
 *     gmk_bridge.h). The host never waits for the device's futex bumps: the
 *     device writes host.tx's bell after each publication, without reading
 *     whether the host sleeps, and a sleeping host side wakes at the end of
 *     its bounded sleep at the latest (gmk_bell).
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

static_assert(sizeof(gmk_gpu_state_t) == 184, "gpu/cuda/state.go mirrors gmk_gpu_state_t");
static_assert(sizeof(gmk_wstat_t) == 256, "gpu/cuda/state.go mirrors gmk_wstat_t");

#include "gmk_round.cuh"
#include "gmk_copyjob.cuh"
#include "gmk_bridge_ll_dev.cuh"
#include "gmk_bridge_dev.cuh"

/* ---- payload blocks for handlers (gmk_gpu.h) -------------------------- */

/* One block from the pool, by the calling thread alone: a claim of one
 * position of the pool's MPMC ring (its CAS is acq_rel, gmk_dev.h) and the
 * take, which waits for the cell's store-release. Module handlers that reply
 * with bytes (kv get, reduce concat) are the callers, one block per reply. */
__device__ __forceinline__ uint64_t gmk_payload_alloc(gmk_ctx_t *ctx, uint32_t len) {
    gmk_gpu_state_t *st = ctx->st;
    if (len == 0 || len > st->payload_block)
        return GMK_NO_PAYLOAD;
    gmk_task_t b;
    if (gmk_mpmc_pop(st->pool, &b, 1) != 1)
        return GMK_NO_PAYLOAD;
    return b.payload;
}

/* Back to the pool: the pool's ring holds every block, so the push always
 * finds room; its store-release orders the handler's last use of the block
 * before the next owner's claim. */
__device__ __forceinline__ void gmk_payload_free(gmk_ctx_t *ctx, uint64_t off) {
    if (gmk_bulk_free(ctx->st, off))
        return;
    gmk_task_t b = {};
    b.payload = off;
    gmk_mpmc_push(ctx->st->pool, &b, 1);
}

/* ---- gather ---------------------------------------------------------- */

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
        /* A relaxed look first: the pop's own acquire covers what it reads. */
        r.n = gmk_ld_rlx64(&e->count) == 0 ? 0 : gmk_evq_pop_due(e, gmk_now(), r.batch, st->batch);
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

__device__ void gmk_flush(gmk_gpu_state_t *st, gmk_round &r, uint32_t w, gmk_wstat_t *ws, gmk_bell &bell) {
    const uint32_t nout = min(r.nout, (uint32_t)GMK_OUT_CAP);
    if (threadIdx.x == 0) {
        r.nloc = 0;
        r.nhost = 0;
        r.nlater = 0;
        r.refused = 0;
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
                atomicAdd(&r.refused, 1u); /* counted below as refused */
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
            /* Relaxed: what must stay in order behind the egress ring is
             * worker 0's own earlier spill, which its own loads see. */
            r.cut = w == 0 && st->tx != 0 &&
                    gmk_ld_rlx64(&st->egress->tail) == gmk_ld_rlx64(&st->egress->head);
        __syncthreads();
        if (r.cut)
            put = gmk_stage_tx(st, r, nhost, ws, bell);
        if (put < nhost)
            put += gmk_push_q(st->egress, r, r.host + put, nhost - put);
        lost += nhost - put;
    }
    if (threadIdx.x == 0) {
        lost += r.refused; /* EVQ full */
        ws->emitted += nout - lost;
        ws->emit_full += lost + (r.nout > GMK_OUT_CAP ? r.nout - GMK_OUT_CAP : 0);
    }
    __syncthreads();
}

/* ---- the worker ------------------------------------------------------ */

/* Copy the worker's counters to device memory, where the host reads them
 * (lead thread). The loop keeps them in shared memory: after any acquire
 * load has invalidated L1, every `+=` on a device-memory counter is an L2
 * round trip, and a round updates a dozen (measured: about 5 µs of worker
 * 0's round trip on an H200). They go out every heartbeat, whenever the
 * worker finds nothing to do after working, and at exit — so the host's
 * copy is exact whenever the kernel is quiet. */
__device__ __forceinline__ void gmk_stats_out(const gmk_wstat_t *l, gmk_wstat_t *g) {
    const uint64_t *s = (const uint64_t *)l;
    uint64_t *d = (uint64_t *)g;
    for (uint32_t i = 0; i < sizeof(gmk_wstat_t) / 8; i++)
        d[i] = s[i];
}

extern "C" __global__ void gmk_worker(gmk_gpu_state_t *stg) {
    __shared__ gmk_round r;
    __shared__ gmk_wstat_t wsl;
    /* The state is read-only while the workers run: a shared copy spares an
     * L2 round trip per field read (acquire loads keep invalidating L1). */
    __shared__ gmk_gpu_state_t sst;
    if (threadIdx.x == 0)
        sst = *stg;
    __syncthreads();
    gmk_gpu_state_t *const st = &sst;
    const uint32_t w = blockIdx.x, tid = threadIdx.x;
    gmk_wstat_t *const wsg = &st->stats[w], *const ws = &wsl;
    bool dirty = false; /* lead: counters changed since the last gmk_stats_out */
    if (tid == 0) {
        wsl = *wsg;
        r.stop = 0;
        r.nfree = 0; /* shared memory starts undefined: the pool queue must start empty */
        if (w == 0 && st->rx != 0) {
            gmk_bridge_ring_t *rh = st->rx_host; /* the consumer line lives in host memory */
            r.rx_head = r.rx_rel = rh->head;
            r.rx_seq = rh->cons_seq;
            r.rx_stage_head = r.rx_rel_stage = rh->stage_head;
            r.rx_releases = rh->releases;
            r.rx_tail_cache = gmk_sys_ld_acq64(&st->rx->tail);
            r.rxg.load(st->rx);
            r.rx_llwin = 1; /* LL: the first poll reads slot[head] */
            r.acked = r.acked_out = st->ack != 0 ? gmk_sys_ld_acq64(st->ack) : 0;
            r.rx_last = gmk_now();
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
    gmk_bell bell = {w == 0 && tid == 0 && st->tx != 0 ? st->tx->cons_bell : 0u}; /* worker 0's lead */
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
                gmk_stats_out(ws, wsg);
                dirty = false;
            }
        }
        __syncthreads();
        if (r.stop)
            break;
        uint32_t n = 0, from_rx = 0;
        uint64_t t0 = tid == 0 ? gmk_now() : 0;
        if (w == 0 && st->rx != 0)
            n = from_rx = gmk_gather_rx(st, r, ws);
        if (n == 0)
            n = gmk_gather_evq(st, r, w, ws);
        if (n == 0)
            n = gmk_gather(st, r, w, round);
        uint64_t t1 = tid == 0 ? gmk_now() : 0;
        if (w == 0 && st->tx != 0)
            gmk_drain_egress(st, r, ws, bell);
        if (tid == 0) {
            uint64_t t2 = gmk_now();
            ws->ns_gather += t1 - t0;
            ws->ns_egress += t2 - t1;
        }
        if (n == 0) {
            idle++;
            if (tid == 0) {
                ws->idle++;
                if (dirty)
                    gmk_stats_out(ws, wsg);
                dirty = false;
            }
            if (w != 0 && gmk_copy_help(r)) { /* worker 0's bulk copies first */
                idle = 0;
                continue;
            }
            if (w != 0) /* worker 0 keeps polling host.rx: its latency is the bridge's */
                __nanosleep((uint32_t)min(idle * 64ull, (unsigned long long)st->idle_sleep_max));
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
        gmk_flush(st, r, w, ws, bell);
        if (tid == 0 && from_rx > 0) {
            /* Acknowledge the host.rx tasks this round ran: their handlers
             * returned and their emits are flushed — those for host.tx
             * published above, or queued on the egress ring (a reset between
             * here and that drain loses them: the link's at-least-once holds
             * for the tasks, not for what they emitted). The count goes out
             * with the slots' release, an eighth of the ring at a time or
             * when the bridge goes quiet (gmk_rx_idle): until then the host
             * keeps the tasks, and a reset sends them again, flagged. */
            r.acked += st->ack != 0 ? from_rx : 0;
            r.rx_last = gmk_now();
            if (r.acked - r.acked_out >= (r.rxg.mask + 1) / 8)
                gmk_ack_out(st, r);
        }
        if (tid == 0) {
            ws->ns_dispatch += t4 - t3;
            ws->ns_flush += gmk_now() - t4;
            ws->done += n;
            ws->batches++;
            ws->failed += r.fails;
            dirty = true;
        }
    }
    if (tid == 0) {
        if (w == 0 && st->rx != 0) {
            gmk_rx_release(st, r, true);
            gmk_ack_out(st, r);
        }
        ws->rounds = round;
        gmk_stats_out(ws, wsg);
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

/* Probe: the floor of a CPU <-> GPU round trip through mapped host memory,
 * whatever the rings around it. Lane 0 of each warp polls the host's ping
 * word over PCIe (warps start staggered, so polls are spread over a read's
 * latency) and answers in its own pong word (128 bytes apart), a posted
 * write; the host stores 1..n and times each answer. A value >= n ends it
 * (the host's way out when no answer comes). */
extern "C" __global__ void gmk_probe_pingpong(const uint32_t *ping, uint32_t *pong, uint64_t n) {
    if (threadIdx.x % 32 != 0)
        return;
    uint32_t *mine = pong + threadIdx.x; /* warp j's word: 32 * j words on */
    __nanosleep(threadIdx.x / 32 * 150);
    for (uint64_t i = 1; i <= n; i++) {
        uint32_t v;
        while ((v = *(volatile const uint32_t *)ping) < i)
            ;
        *(volatile uint32_t *)mine = v;
        i = v;
    }
}

/* Probe: an inline echo over LL slots (NCCL's low-latency protocol) — the
 * bridge design the round-trip target needs, measured without the rest of
 * the kernel. A slot is `stride` 8-byte words (16: 128 bytes, 8: 64); its
 * first `words` carry 4 bytes of the task each (12: the whole 48-byte task;
 * 8: the 32 bytes an inline task needs) beside 4 bytes of the slot's
 * sequence (i + 1 for the i-th task). 8-byte stores and loads are
 * single-copy atomic on both sides, so a reader validates every word it
 * read — one PCIe round trip, no tail to read first — and a writer needs no
 * fence. The warps of one block poll the next rx slot, staggered; the one
 * that claims it (a shared-memory CAS) writes the reply, word 0 (the type)
 * + 1, to the same tx slot. Ends after n tasks. */
extern "C" __global__ void gmk_probe_llecho(const uint64_t *rx, uint64_t *tx, uint64_t slots, uint64_t n, uint64_t words,
                                            uint64_t stride) {
    __shared__ uint32_t next;
    if (threadIdx.x == 0)
        next = 0;
    __syncthreads();
    const uint32_t lane = threadIdx.x % 32;
    __nanosleep(threadIdx.x / 32 * 150);
    for (;;) {
        const uint32_t i = *(volatile uint32_t *)&next;
        if (i >= n)
            return;
        const uint64_t *s = rx + (i % slots) * stride;
        const uint64_t v = lane < words ? *(volatile const uint64_t *)(s + lane) : 0;
        if (!__all_sync(0xffffffffu, lane >= words || (uint32_t)(v >> 32) == i + 1))
            continue;
        uint32_t won = 0;
        if (lane == 0)
            won = atomicCAS(&next, i, i + 1) == i;
        if (!__shfl_sync(0xffffffffu, won, 0))
            continue;
        const uint32_t d = (uint32_t)v + (lane == 0 ? 1u : 0u);
        if (lane < words)
            *(volatile uint64_t *)(tx + (i % slots) * stride + lane) = (uint64_t)(i + 1) << 32 | d;
    }
}

/* The per-task-launch baseline: one launch does what one task does. */
extern "C" __global__ void gmk_one_task(gmk_gpu_state_t *st, uint64_t *counter) {
    if (threadIdx.x == 0 && blockIdx.x == 0)
        *counter += 1;
}
