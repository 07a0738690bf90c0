/*
 * gmk_dev.h — qualifiers and device-scope atomics for the GMK/gpu data
 * structures (GMK.md §13 [G2], DESIGN.md decision 8), written once for two
 * compilers:
 *
 *   - nvcc, device pass (__CUDA_ARCH__): the structures live in device memory
 *     and are shared by the resident worker blocks of one GPU. Their atomics
 *     are GPU-scope (".gpu"): every party is a thread of this device. Memory
 *     shared with the host (the bridge region) uses gmk_bridge.h's
 *     system-scope macros instead, never these.
 *   - host C or C++ (gcc/clang, and nvcc's host pass): the same code runs under
 *     threads standing in for worker blocks (kernels/hosttest), with the
 *     GCC/Clang __atomic builtins at the same orderings.
 *
 * Only plain integer fields are used atomically (no _Atomic, no
 * cuda::atomic_ref), so the same struct definitions compile as C and as CUDA
 * C++. Every function is GMK_DEV_INLINE: static inline, and __host__
 * __device__ under nvcc. No libc.
 *
 * Orderings, and why each exists:
 *   gmk_ld_acq   — acquire: a consumer reads an index or a cell sequence, then
 *                  the data it guards (the producer's gmk_st_rel).
 *   gmk_st_rel   — release: a producer writes data, then publishes the index or
 *                  the cell sequence that makes it readable.
 *   gmk_cas      — acq_rel: claims (head/tail reservations, free-list pops)
 *                  both read the other side's publication and publish their own.
 *   gmk_faa      — acq_rel, for counters that also order (bump offsets,
 *                  tickets); plain statistics use gmk_faa_rlx.
 * On the device, ld.acquire.gpu / st.release.gpu (sm_70+) give exactly the
 * one-sided orderings; atomicCAS/atomicAdd are relaxed, so they are bracketed
 * by __threadfence() (a GPU-scope fence.sc) to be acq_rel.
 */
#ifndef GMK_DEV_H
#define GMK_DEV_H

#include <stdint.h>

#if defined(__CUDACC__)
#define GMK_DEV_INLINE static inline __host__ __device__
#define GMK_DEVICE __device__
#else
#define GMK_DEV_INLINE static inline
#define GMK_DEVICE
#endif

#if defined(__CUDA_ARCH__)

GMK_DEV_INLINE uint64_t gmk_ld_rlx64(const uint64_t *p) { return *(const volatile uint64_t *)p; }
GMK_DEV_INLINE uint32_t gmk_ld_rlx32(const uint32_t *p) { return *(const volatile uint32_t *)p; }
GMK_DEV_INLINE uint64_t gmk_ld_acq64(const uint64_t *p) {
    uint64_t v;
    asm volatile("ld.acquire.gpu.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
    return v;
}
GMK_DEV_INLINE uint32_t gmk_ld_acq32(const uint32_t *p) {
    uint32_t v;
    asm volatile("ld.acquire.gpu.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
    return v;
}
GMK_DEV_INLINE void gmk_st_rel64(uint64_t *p, uint64_t v) {
    asm volatile("st.release.gpu.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}
GMK_DEV_INLINE void gmk_st_rel32(uint32_t *p, uint32_t v) {
    asm volatile("st.release.gpu.u32 [%0], %1;" ::"l"(p), "r"(v) : "memory");
}
GMK_DEV_INLINE void gmk_st_rlx64(uint64_t *p, uint64_t v) { *(volatile uint64_t *)p = v; }
GMK_DEV_INLINE void gmk_st_rlx32(uint32_t *p, uint32_t v) { *(volatile uint32_t *)p = v; }
/* Compare-and-swap, acq_rel; returns the value seen (== expect on success). */
GMK_DEV_INLINE uint64_t gmk_cas64(uint64_t *p, uint64_t expect, uint64_t desired) {
    __threadfence();
    uint64_t old = atomicCAS((unsigned long long *)p, (unsigned long long)expect, (unsigned long long)desired);
    __threadfence();
    return old;
}
GMK_DEV_INLINE uint32_t gmk_cas32(uint32_t *p, uint32_t expect, uint32_t desired) {
    __threadfence();
    uint32_t old = atomicCAS((unsigned int *)p, expect, desired);
    __threadfence();
    return old;
}
GMK_DEV_INLINE uint64_t gmk_faa64(uint64_t *p, uint64_t v) {
    __threadfence();
    uint64_t old = atomicAdd((unsigned long long *)p, (unsigned long long)v);
    __threadfence();
    return old;
}
GMK_DEV_INLINE uint32_t gmk_faa32(uint32_t *p, uint32_t v) {
    __threadfence();
    uint32_t old = atomicAdd((unsigned int *)p, v);
    __threadfence();
    return old;
}
/* Relaxed add: statistics that order nothing. */
GMK_DEV_INLINE uint64_t gmk_faa_rlx64(uint64_t *p, uint64_t v) {
    return atomicAdd((unsigned long long *)p, (unsigned long long)v);
}
GMK_DEV_INLINE void gmk_fence(void) { __threadfence(); }
/* A polite spin: lets the SM schedule other warps while this one waits. */
GMK_DEV_INLINE void gmk_pause(void) { __nanosleep(32); }

#else /* host: GCC/Clang builtins */

GMK_DEV_INLINE uint64_t gmk_ld_rlx64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
GMK_DEV_INLINE uint32_t gmk_ld_rlx32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
GMK_DEV_INLINE uint64_t gmk_ld_acq64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
GMK_DEV_INLINE uint32_t gmk_ld_acq32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
GMK_DEV_INLINE void gmk_st_rel64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
GMK_DEV_INLINE void gmk_st_rel32(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
GMK_DEV_INLINE void gmk_st_rlx64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
GMK_DEV_INLINE void gmk_st_rlx32(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
GMK_DEV_INLINE uint64_t gmk_cas64(uint64_t *p, uint64_t expect, uint64_t desired) {
    __atomic_compare_exchange_n(p, &expect, desired, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    return expect;
}
GMK_DEV_INLINE uint32_t gmk_cas32(uint32_t *p, uint32_t expect, uint32_t desired) {
    __atomic_compare_exchange_n(p, &expect, desired, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    return expect;
}
GMK_DEV_INLINE uint64_t gmk_faa64(uint64_t *p, uint64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL); }
GMK_DEV_INLINE uint32_t gmk_faa32(uint32_t *p, uint32_t v) { return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL); }
GMK_DEV_INLINE uint64_t gmk_faa_rlx64(uint64_t *p, uint64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
GMK_DEV_INLINE void gmk_fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
#if defined(__x86_64__) || defined(__i386__)
GMK_DEV_INLINE void gmk_pause(void) { __builtin_ia32_pause(); }
#else
GMK_DEV_INLINE void gmk_pause(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
#endif

#endif /* __CUDA_ARCH__ */

GMK_DEV_INLINE uint64_t gmk_min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

#endif /* GMK_DEV_H */
