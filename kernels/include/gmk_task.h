/*
 * gmk_task.h — the 48-byte GMK task record (GMK.md [T1]), shared by the CPU
 * kernel (Go: kernel/task.Task), the GPU kernel (CUDA) and the bridge rings.
 *
 * Plain C11 or C++ (host and CUDA device code): fixed-width integers only, no
 * pointers, no libc. The Go mirror is kernel/task.Task; bridge/abi_test.go checks
 * the Go layout against this header through cgo.
 */
#ifndef GMK_TASK_H
#define GMK_TASK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define GMK_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#define GMK_ALIGNAS(n) alignas(n)
#else
#include <stdalign.h>
#define GMK_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#define GMK_ALIGNAS(n) _Alignas(n)
#endif

/* Task flags ([T2]); bits 0..1 hold the priority, 0 the highest. */
#define GMK_TASK_PRIORITY_MASK 0x0003u
#define GMK_TASK_DETERMINISTIC 0x0004u /* execute in canonical order */
#define GMK_TASK_IDEMPOTENT 0x0008u    /* may be replayed after a crash */
#define GMK_TASK_EMIT_TRACE 0x0010u    /* always traced */
#define GMK_TASK_CHANNEL_MSG 0x0020u   /* set by the runtime on channel delivery */
#define GMK_TASK_REDELIVERED 0x0040u   /* set by the runtime on a re-delivery */
#define GMK_TASK_SNAPSHOTTED 0x0080u   /* set by the runtime: in a snapshot, its end is journaled ([F5]) */
#define GMK_TASK_PAYLOAD_REF 0x0100u   /* bridge slot: the payload is at the device-visible address stage_pos */
#define GMK_TASK_PAYLOAD_DEV 0x0200u   /* bridge slot: the payload is already in the receiver's arena, at offset stage_pos */

/*
 * gmk_task_t: field order is the ABI. 16-byte aligned in C (alignas on the first
 * member: C allows no alignment specifier on a struct tag); Go aligns its mirror
 * to 8, so memory that holds task slots shared with Go is allocated 16-aligned and
 * 48 (a multiple of 16) keeps every slot aligned.
 */
typedef struct gmk_task {
    GMK_ALIGNAS(16) uint32_t type;        /*  0: handler id / message type */
    uint16_t flags;       /*  4: priority (2 bits) and task flags */
    uint16_t tenant;      /*  6: logical partition 0..N-1 */
    uint32_t channel;     /*  8: source channel id (bits 0..23), subscriber index (24..31) */
    uint32_t seq;         /* 12: sequence assigned by the enqueue core */
    uint64_t payload;     /* 16: payload reference (arena handle / device address) */
    uint32_t payload_len; /* 24: payload bytes; 0 = inline-only task */
    uint16_t yield_count; /* 28: runtime-owned yield counter */
    uint16_t _pad;        /* 30: runtime-owned (Go: Aux) */
    uint64_t meta0;       /* 32: inline argument / continuation state */
    uint64_t meta1;       /* 40: inline argument / continuation state */
} gmk_task_t;

GMK_STATIC_ASSERT(sizeof(gmk_task_t) == 48, "gmk_task_t must be 48 bytes ([T1])");
GMK_STATIC_ASSERT(alignof(gmk_task_t) == 16, "gmk_task_t is 16-byte aligned");
GMK_STATIC_ASSERT(offsetof(gmk_task_t, type) == 0, "type");
GMK_STATIC_ASSERT(offsetof(gmk_task_t, flags) == 4, "flags");
GMK_STATIC_ASSERT(offsetof(gmk_task_t, tenant) == 6, "tenant");
GMK_STATIC_ASSERT(offsetof(gmk_task_t, channel) == 8, "channel");
GMK_STATIC_ASSERT(offsetof(gmk_task_t, seq) == 12, "seq");
GMK_STATIC_ASSERT(offsetof(gmk_task_t, payload) == 16, "payload");
GMK_STATIC_ASSERT(offsetof(gmk_task_t, payload_len) == 24, "payload_len");
GMK_STATIC_ASSERT(offsetof(gmk_task_t, yield_count) == 28, "yield_count");
GMK_STATIC_ASSERT(offsetof(gmk_task_t, _pad) == 30, "_pad");
GMK_STATIC_ASSERT(offsetof(gmk_task_t, meta0) == 32, "meta0");
GMK_STATIC_ASSERT(offsetof(gmk_task_t, meta1) == 40, "meta1");

#endif /* GMK_TASK_H */
