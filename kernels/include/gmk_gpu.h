/*
 * gmk_gpu.h — what a GPU module sees of GMK/gpu (GMK.md §13 [G1]-[G5]): the
 * handler context, status codes, granularities, and the emit calls. The
 * persistent kernel that implements them is kernels/src/gmk_kernel.cu; the
 * dispatch switch over type ids is generated (kernels/gen/gmk_dispatch.cuh,
 * written by the kernel build from every kernels/modules/NAME/module.toml).
 *
 * A handler is written with GMK_HANDLER:
 *
 *     GMK_HANDLER(gmk_echo) {           // int gmk_echo(gmk_ctx_t *ctx, gmk_task_t *t)
 *         return gmk_emit_host(ctx, t);  // send it back to the CPU kernel (host.tx)
 *     }
 *
 * and registered in its module.toml with a type id and a granularity:
 *   SCALAR  one task per thread: the lanes of a warp run 32 tasks of one type;
 *   WARP    one task per warp: all 32 lanes call the handler with the same task;
 *   BLOCK   one task per block: every thread of the worker block calls it.
 * The build decides whether each handler is inlined into the switch or kept
 * __noinline__ (above the register threshold, [G4]) by defining GMK_ATTR_<fn>.
 *
 * Handlers must not block: a handler that waits on something another worker
 * does can hang the kernel, which is what the host's heartbeat watchdog ([F4])
 * is for. Emits are buffered per worker and flushed by the lead thread after
 * the batch, so they cost no global atomic per task; emits leave in the order
 * of the tasks that made them (a channel fed by one worker stays FIFO).
 */
#ifndef GMK_GPU_H
#define GMK_GPU_H

#include "gmk_dev.h"
#include "gmk_task.h"

/* Status codes: the CPU kernel's ([T4], kernel/task/status.go). */
#define GMK_OK 0
#define GMK_RETRY 1
#define GMK_FAIL (-1)
#define GMK_CHAN_FULL (-100)
#define GMK_CHAN_CLOSED (-101)
#define GMK_ALLOC_FAIL (-200)
#define GMK_UNKNOWN_TYPE (-304)

/* Handler granularities ([G3]). */
#define GMK_SCALAR 0
#define GMK_WARP 1
#define GMK_BLOCK 2

struct gmk_gpu_state;

/* Emit destinations inside a worker's out buffer. */
#define GMK_DEST_LOCAL 0u /* this kernel: the worker's own LQ */
#define GMK_DEST_HOST 1u  /* the CPU kernel: host.tx over the bridge */
#define GMK_DEST_LATER 2u /* this kernel, after a delay: the worker's EVQ */

/* One buffered emit. */
typedef struct gmk_out {
    gmk_task_t task;
    uint32_t dest;
    uint32_t src;   /* index in the batch of the task whose handler emitted it */
    uint64_t delay; /* GMK_DEST_LATER: nanoseconds from the flush */
} gmk_out_t;

/* The handler context: one per thread for SCALAR, shared by the lanes (WARP)
 * or the block (BLOCK). Fields are read-only for handlers. */
typedef struct gmk_ctx {
    struct gmk_gpu_state *st;
    uint32_t worker; /* worker block index */
    uint32_t lane;   /* thread index within the unit that runs the handler */
    uint32_t width;  /* threads in that unit: 1, 32 or blockDim.x */
    uint32_t src;    /* the task's index in its batch: emits keep batch order */
    uint64_t tick; /* the kernel's logical tick */
    gmk_out_t *out;     /* the worker's out buffer (shared memory) */
    uint32_t *nout;     /* its fill count (shared memory) */
    uint32_t out_cap;   /* its capacity */
    uint32_t _pad2;
    unsigned char *payload_base; /* device arena: payload references are offsets into it */
} gmk_ctx_t;

#if defined(__CUDACC__)

/* GMK_HANDLER(fn) declares a handler. GMK_ATTR_fn, defined by the generated
 * dispatch header, is __forceinline__ or __noinline__. */
#define GMK_HANDLER(fn) __device__ GMK_ATTR_##fn int fn(gmk_ctx_t *ctx, gmk_task_t *t)

/* Buffer one emit; GMK_CHAN_FULL when this batch's out buffer is full. */
__device__ __forceinline__ int gmk_emit_to(gmk_ctx_t *ctx, const gmk_task_t *t, uint32_t dest, uint64_t delay = 0) {
    uint32_t i = atomicAdd(ctx->nout, 1u); /* shared-memory atomic: block-local, cheap */
    if (i >= ctx->out_cap) {
        atomicSub(ctx->nout, 1u);
        return GMK_CHAN_FULL;
    }
    ctx->out[i].task = *t;
    ctx->out[i].dest = dest;
    ctx->out[i].src = ctx->src;
    ctx->out[i].delay = delay;
    return GMK_OK;
}
/* Emit a follow-on task on this kernel. */
__device__ __forceinline__ int gmk_emit(gmk_ctx_t *ctx, const gmk_task_t *t) {
    return gmk_emit_to(ctx, t, GMK_DEST_LOCAL);
}
/* Emit a task to the CPU kernel (host.tx). */
__device__ __forceinline__ int gmk_emit_host(gmk_ctx_t *ctx, const gmk_task_t *t) {
    return gmk_emit_to(ctx, t, GMK_DEST_HOST);
}
/* Emit a task on this kernel that runs no earlier than ns nanoseconds of
 * device time from now: it waits on this worker's EVQ ([G1], [S5]). */
__device__ __forceinline__ int gmk_emit_after(gmk_ctx_t *ctx, const gmk_task_t *t, uint64_t ns) {
    return gmk_emit_to(ctx, t, GMK_DEST_LATER, ns);
}
/* Device time in nanoseconds (%globaltimer): the EVQ's clock. */
__device__ __forceinline__ uint64_t gmk_now(void) {
    uint64_t v;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(v));
    return v;
}
/* The bytes of a task's payload in the device arena (0 for inline tasks). */
__device__ __forceinline__ unsigned char *gmk_payload(gmk_ctx_t *ctx, const gmk_task_t *t) {
    return t->payload_len ? ctx->payload_base + t->payload : (unsigned char *)0;
}

#endif /* __CUDACC__ */

#endif /* GMK_GPU_H */
