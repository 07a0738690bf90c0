/*
 * A stand-in for kernels/src/gmk_kernel.cu in kbuild's tests: one entry that
 * stages a block of tasks in shared memory and runs each through the
 * generated dispatch, and a trace macro that GMK_STRIP_TRACE removes (the
 * real kernel's, when its header defines GMK_TRACE first).
 */
#include "gmk_gpu.h"

#ifndef GMK_TRACE
#ifdef GMK_STRIP_TRACE
#define GMK_TRACE(ev, arg) ((void)0)
#else
__device__ unsigned long long fx_trace_ring[4096];
__device__ unsigned int fx_trace_head;
__device__ __forceinline__ void fx_trace(uint32_t ev, uint64_t arg) {
    uint64_t now;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
    unsigned i = atomicAdd(&fx_trace_head, 1u) & 4095u;
    fx_trace_ring[i] = now ^ ((uint64_t)ev << 48) ^ arg;
}
#define GMK_TRACE(ev, arg) fx_trace((ev), (arg))
#endif
#endif

#include "../gen/gmk_dispatch.cuh"

extern "C" __global__ void __launch_bounds__(128) fx_worker(gmk_ctx_t *ctx, const gmk_task_t *in, int n, int *rc) {
    __shared__ gmk_task_t batch[128];
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) batch[threadIdx.x] = in[i];
    __syncthreads();
    if (i < n) {
        GMK_TRACE(1u, batch[threadIdx.x].type);
        rc[i] = gmk_dispatch(batch[threadIdx.x].type, ctx, &batch[threadIdx.x]);
    }
}
