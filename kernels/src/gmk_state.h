/*
 * gmk_state.h — the state of one GMK/gpu kernel ([G2]) as the host lays it
 * out: the host (gpu/cuda) allocates every part, formats the rings, fills a
 * gmk_gpu_state_t in device memory and passes its address to the persistent
 * kernel gmk_worker (kernels/src/gmk_kernel.cu). Go mirrors this struct in
 * gpu/cuda/state.go; keep the two in step (every field is 8-byte sized or
 * padded, no implicit padding).
 *
 * Where things live:
 *   device memory   the state itself, LQs, GRQ buckets, the egress ring,
 *                   worker statistics, trace rings, the payload arena.
 *   mapped host     ctl (stop flag and the host's commands) and heartbeats,
 *   memory          so the host reads and writes them without a CUDA call —
 *                   the watchdog must work while the device is hung — and the
 *                   bridge region (rx: host.rx, tx: host.tx).
 */
#ifndef GMK_STATE_H
#define GMK_STATE_H

#include "gmk_bridge.h"
#include "gmk_dev.h"
#include "gmk_mpmc.h"
#include "gmk_task.h"

/* Host control block (mapped host memory), written by the host. */
typedef struct gmk_ctl {
    GMK_ALIGNAS(128) uint32_t stop; /* nonzero: workers leave their loop */
    uint32_t _pad0;
    uint64_t _pad1[15];
} gmk_ctl_t;

/* Per-worker statistics (device memory), written by the worker's lead thread
 * only; the host reads them with a copy. Two 128-byte lines each. */
typedef struct gmk_wstat {
    GMK_ALIGNAS(128) uint64_t done; /* tasks dispatched */
    uint64_t batches;               /* batches gathered */
    uint64_t idle;                  /* loop rounds that found nothing */
    uint64_t unknown;               /* tasks of an unknown type */
    uint64_t failed;                /* handlers that returned < 0 */
    uint64_t emitted;               /* emits flushed */
    uint64_t emit_full;             /* emits refused: out buffer or queues full */
    uint64_t bridge_in;             /* tasks taken from host.rx */
    uint64_t bridge_out;            /* tasks staged on host.tx */
    uint64_t bridge_gap;            /* host.rx slots with an unexpected seq */
    uint64_t payload_fail;          /* payloads that found no arena block */
    uint64_t rounds;                /* loop rounds */
    uint64_t ns_gather;             /* device time in gathering (host.rx, LQ, GRQ) */
    uint64_t ns_dispatch;           /* in sorting, dispatching, freeing payloads */
    uint64_t ns_flush;              /* in flushing emits */
    uint64_t ns_egress;             /* worker 0: in draining the egress ring to host.tx */
    /* Worker 0's host.rx gathering, by phase (device ns). */
    uint64_t ns_rx_poll;    /* loading tail (LL rings: polling and checking the slots) */
    uint64_t ns_rx_slots;   /* reading and checking slots */
    uint64_t ns_rx_blocks;  /* taking payload blocks */
    uint64_t ns_rx_copy;    /* copying payloads */
    uint64_t ns_rx_release; /* releasing the slots */
    uint64_t evq_fired;     /* tasks taken from the EVQ when due */
    /* Worker 0's host.tx publication (device ns). */
    uint64_t ns_tx_publish; /* the ring's stores, tail last (release) */
    uint64_t ns_tx_bell;    /* looking for a sleeping consumer */
    uint64_t ns_tx_stage;   /* slots and payloads, before the publication */
    uint64_t _pad[7];
} gmk_wstat_t;

/* Heartbeats (mapped host memory): one line per worker; beat counts loop
 * progress, advanced every GMK_HEARTBEAT_NS of device time (and the loop's
 * round count with it). */
typedef struct gmk_heartbeat {
    GMK_ALIGNAS(128) uint64_t beat;
    uint64_t rounds; /* the worker's loop rounds at the last beat */
    uint64_t _pad[14];
} gmk_heartbeat_t;

#define GMK_HEARTBEAT_NS 1000000ull /* 1 ms: also how often a worker reads ctl->stop */

/* A trace record (device memory, per-worker ring); see GMK_TRACE. */
typedef struct gmk_trace_rec {
    uint64_t time; /* %globaltimer, ns */
    uint32_t event;
    uint32_t type;
    uint32_t seq;
    uint32_t worker;
    uint64_t arg;
} gmk_trace_rec_t;

#define GMK_EV_DISPATCH 1u
#define GMK_EV_BRIDGE_IN 2u
#define GMK_EV_BRIDGE_OUT 3u

typedef struct gmk_gpu_state {
    /* Geometry. */
    uint32_t nworkers; /* resident worker blocks */
    uint32_t nbuckets; /* GRQ type buckets: bucket = type % nbuckets */
    uint32_t batch;    /* tasks a worker gathers per batch ([G3]: 32) */
    uint32_t rx_batch; /* tasks worker 0 takes from host.rx per round */
    uint32_t trace_mask; /* trace ring entries - 1 per worker (0: no tracing) */
    uint32_t trace_sample; /* trace one dispatch in 2^trace_sample */
    uint32_t payload_block; /* bytes per payload block */
    uint32_t npayload;      /* payload blocks */
    /* Host-mapped. */
    gmk_ctl_t *ctl;
    gmk_heartbeat_t *heartbeat; /* nworkers */
    gmk_bridge_ring_t *rx;      /* host.rx as read: host -> this kernel; 0 when unbridged */
    gmk_bridge_ring_t *rx_host; /* host.rx as released (head, stage_head): mapped host memory.
                                 * Mapped mode: rx == rx_host. DMA mode: rx is a device-memory
                                 * mirror the host fills with the copy engine, tail last. */
    gmk_bridge_ring_t *tx;      /* host.tx: this kernel -> host */
    /* Device memory. */
    gmk_mpmc_t *lq;        /* nworkers */
    gmk_mpmc_t *grq;       /* nbuckets */
    gmk_mpmc_t *egress;    /* tasks for host.tx from workers other than 0 */
    gmk_wstat_t *stats;    /* nworkers */
    gmk_trace_rec_t *trace; /* nworkers * (trace_mask + 1) */
    uint64_t *trace_pos;   /* nworkers: records written */
    unsigned char *arena;  /* payload blocks: npayload * payload_block bytes */
    gmk_mpmc_t *pool;      /* free payload blocks: tasks whose payload is a block's offset */
    struct gmk_evq *evq;   /* nworkers event queues (gmk_evq.h): gmk_emit_after */
    /* Mapped host memory, 0 when none: how many host.rx tasks, in ring order,
     * the kernel is done with — worker 0 stores it (system scope) after the
     * round that dispatched them flushed its emits; the host's link takes it
     * as the channel's acknowledgement (bridge/link: Wire.Ack). */
    uint64_t *ack;
    /* Bulk blocks (gpu/cuda Bulk): payload blocks after the pool's in the
     * arena that the host fills by DMA and names in host.rx slots
     * (GMK_TASK_PAYLOAD_DEV); a freed one is not returned to the pool but
     * marked free for the host in bulk_free (mapped host memory). */
    uint64_t bulk_off;   /* arena offset of the first bulk block */
    uint32_t *bulk_free; /* one word per bulk block: 1 = free (the host's to fill) */
    uint32_t bulk_block; /* bytes per bulk block */
    uint32_t nbulk;      /* bulk blocks; 0: none */
    /* The longest an idle worker other than worker 0 sleeps between looks
     * for work, ns (its back-off doubles up to it). */
    uint32_t idle_sleep_max;
    uint32_t reserved;
} gmk_gpu_state_t;

#endif /* GMK_STATE_H */
