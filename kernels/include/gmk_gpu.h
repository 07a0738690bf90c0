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

/* Failure codes of the standard modules (kernel/sdk/codes.go), shared by the
 * CPU and GPU versions of kv, reduce, timer, gate, stats and log: a handler
 * returns one as its (negative) status, or a reply carries it as its result. */
#define GMK_CODE_BAD_REQUEST (-1000)
#define GMK_CODE_NOT_FOUND (-1001)
#define GMK_CODE_KEY_TOO_LONG (-1002)
#define GMK_CODE_VAL_TOO_LONG (-1003)
#define GMK_CODE_FULL (-1004)
#define GMK_CODE_DUPLICATE (-1005)
#define GMK_CODE_MISMATCH (-1006)

/* gmk_payload_alloc's failure: no payload block (ALLOC_FAIL). */
#define GMK_NO_PAYLOAD (~(uint64_t)0)

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

/*
 * Module state. A module keeps its tables (kv entries, gates, open reductions,
 * timers, metrics) in globals of its own declared GMK_MODULE_STATE: __device__
 * variables, zero when the kernel image is loaded, so a module's state is
 * laid out so that all-zero is its empty state and zero configuration fields
 * mean the defaults. The host may read or set them by name
 * (cuModuleGetGlobal) while no worker runs. Helpers of a module are
 * GMK_MODULE_FN (device functions, inlined into the handler); a long handler
 * body is GMK_MODULE_SLOW (__noinline__) behind a handler that only calls it,
 * so the persistent kernel's dispatch switch does not carry its registers
 * (the worker's register count sets its occupancy, [G4]). On the host
 * (kernels/hosttest) both are plain C++ so the same module source runs there.
 *
 * Handlers of one module may run on several workers at once (tasks a worker
 * emits go to its own LQ; GRQ buckets are shared), so state that is read and
 * written together is guarded by a gmk_lock_t: a spin lock whose acquire is a
 * compare-and-swap with acquire-release order (gmk_cas32: __threadfence on
 * either side on the device) and whose release is a store-release
 * (st.release.gpu), so everything written under the lock is visible to the
 * next holder. The holder never waits for anything else, so a waiter's spin
 * ends; hold it only around table updates, never across an emit that could
 * wait.
 */
#if defined(__CUDACC__)
#define GMK_MODULE_STATE __device__
#define GMK_MODULE_FN static __device__ __forceinline__
#define GMK_MODULE_SLOW static __device__ __noinline__
#define GMK_NO_UNROLL _Pragma("unroll 1") /* a byte loop kept rolled: fewer registers */
#else
#define GMK_MODULE_STATE
#define GMK_MODULE_FN static inline
#define GMK_MODULE_SLOW static
#define GMK_NO_UNROLL
#endif

/* What an out-of-line handler body (GMK_MODULE_SLOW) gives back: its status
 * and the task words it may change for a RETRY (meta1: progress markers;
 * payload_len: 0 after gmk_payload_keep). The body takes the task by value
 * and the handler writes these back (gmk_slow_done): a pointer to the task
 * would force the caller's copy of it into local memory. */
typedef struct gmk_slow_ret {
    int32_t status;
    uint32_t payload_len;
    uint64_t meta1;
} gmk_slow_ret_t;

GMK_DEV_INLINE gmk_slow_ret_t gmk_slow_ret(int status, const gmk_task_t *t) {
    gmk_slow_ret_t r;
    r.status = status;
    r.payload_len = t->payload_len;
    r.meta1 = t->meta1;
    return r;
}
GMK_DEV_INLINE int gmk_slow_done(gmk_slow_ret_t r, gmk_task_t *t) {
    t->payload_len = r.payload_len;
    t->meta1 = r.meta1;
    return r.status;
}

typedef struct gmk_lock {
    uint32_t held; /* 0 free, 1 held */
} gmk_lock_t;

GMK_DEV_INLINE void gmk_lock(gmk_lock_t *l) {
    while (gmk_cas32(&l->held, 0u, 1u) != 0u)
        gmk_pause();
}
GMK_DEV_INLINE void gmk_unlock(gmk_lock_t *l) { gmk_st_rel32(&l->held, 0u); }

/* gmk_payload_keep: the handler takes the block of its task's payload for
 * the module's own use beyond the call (reduce's concat elements): payload_len
 * becomes 0, so the kernel's release of dispatched tasks' blocks passes it by,
 * and the module frees it later with gmk_payload_free. Returns the block's
 * offset. A RETRY of the task after a keep carries no payload. */
GMK_DEV_INLINE uint64_t gmk_payload_keep(gmk_task_t *t) {
    t->payload_len = 0;
    return t->payload;
}

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

/* A payload block for an emit of len bytes (at most the kernel's
 * payload_block): its offset for gmk_task_t.payload, or GMK_NO_PAYLOAD when
 * the pool is empty or len too large. The block moves with the emit that
 * carries it (host.tx frees it once copied); a handler that cannot emit it
 * gives it back with gmk_payload_free. Defined by the kernel
 * (kernels/src/gmk_kernel.cu). */
__device__ __forceinline__ uint64_t gmk_payload_alloc(gmk_ctx_t *ctx, uint32_t len);
/* Give a block back to the pool. */
__device__ __forceinline__ void gmk_payload_free(gmk_ctx_t *ctx, uint64_t off);

#endif /* __CUDACC__ */

#endif /* GMK_GPU_H */
