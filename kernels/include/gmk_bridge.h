/*
 * gmk_bridge.h — the bridge ring ABI (GMK.md §14 [B1]-[B4]), defined once.
 *
 * A bridge joins two kernels (CPU <-> GPU, or two processes) through one shared
 * memory region: a region header followed by rings, one single-producer
 * single-consumer ring per direction. Ring 0 carries side A -> side B (the
 * creator, normally the CPU kernel, to its peer: host.rx), ring 1 carries
 * B -> A (host.tx). The Go mirror is package bridge (bridge/abi.go); its test
 * compares every size, offset and constant below with this header through cgo.
 *
 * Region layout (all offsets in bytes from the region start, every part aligned
 * to GMK_BRIDGE_LINE):
 *
 *   gmk_bridge_region_t   128 B   magic, version, ring count, ring offsets
 *   ring 0:
 *     gmk_bridge_ring_t   512 B   geometry line, producer line, consumer line, wake line
 *     slots               capacity * 64 B   gmk_bridge_slot_t, capacity a power of two
 *                         (capacity * 128 B of gmk_bridge_ll_slot_t in an LL ring)
 *     staging             staging_size B    payload bytes, a power of two (may be 0)
 *   ring 1: the same
 *
 * Slots: a slot holds a 48-byte task (gmk_task.h), the bridge sequence number
 * and the staging position of its payload. Payloads cross by copy ([B3]): the
 * producer copies payload_len bytes into the staging area at stage_pos, the
 * consumer copies them out into its own memory and rewrites task.payload to its
 * own reference; on the wire task.payload is the sender's reference, opaque to
 * the receiver. Inline tasks (payload_len 0) use no staging.
 *
 * Positions: tail, head, stage_tail, stage_head and seq are 64-bit counters that
 * only grow (they never wrap in practice). Slot position p lives in
 * slots[p & (capacity-1)]; staging position s at staging[s & (staging_size-1)].
 * tail-head is the number of published, unreleased slots (<= capacity);
 * stage_tail-stage_head the staging bytes in use (<= staging_size).
 *
 * Staging allocation (producer only): a payload of n bytes takes
 * round_up(n, GMK_BRIDGE_STAGE_ALIGN) contiguous bytes from stage_tail; when that
 * would run past the end of the area it first skips to the next area start (the
 * skipped bytes are freed with the payload). A payload is at most staging_size/2
 * bytes, so it always fits once the consumer has caught up. stage_tail and
 * stage_head stay multiples of GMK_BRIDGE_STAGE_ALIGN (they start at 0).
 *
 * MEMORY ORDERING (who writes what; which release/acquire pairs publish it)
 *
 *  Geometry line: written once by the creator before the region is shared
 *    (before the fd is passed or the device is launched), read-only afterwards,
 *    except flags and epoch (below).
 *  Producer line: written only by the ring's producer.
 *    P1. The producer writes slots [tail, tail+k) and their staging bytes with
 *        plain stores, then stores stage_tail, prod_seq and transfers, then
 *        store-releases tail = tail+k: one release per batch, none per task.
 *    C1. The consumer load-acquires tail; slots below it, and the staging bytes
 *        they reference, are then visible. (P1 release -> C1 acquire.)
 *  Consumer line: written only by the ring's consumer.
 *    C2. The consumer finishes reading slots [head, head+k) and their staging
 *        bytes, then stores stage_head and cons_seq, then store-releases head.
 *    P2. The producer load-acquires head (and stage_head) before it overwrites
 *        a slot (staging byte) below head+capacity (stage_head+staging_size).
 *        (C2 release -> P2 acquire.) Each side caches the other's index
 *        privately and reloads it only when the cache says full / empty; a
 *        stale cache only understates space, never overstates it.
 *  Sequence: slot.seq is assigned by the producer, starting at start_seq and
 *    growing by one per task, continuing across epochs. The consumer expects
 *    cons_seq; a slot with another seq is a gap (a lost or duplicated task) and
 *    is reported, never consumed: lossless channels stay lossless ([B4]).
 *  Flags (geometry line): either side may set GMK_BRIDGE_CLOSED with an
 *    acq_rel fetch-or after its last publish; readers load-acquire flags. A
 *    consumer that sees CLOSED reloads tail and drains what was published
 *    before it reports closed. epoch is bumped by the creator when it re-formats
 *    the ring after a peer reset, while neither side runs.
 *  Wake line: a side that has nothing to do (consumer: empty; producer: full)
 *    may sleep. It stores *_waiting = 1, loads *_bell, re-checks its condition
 *    and only then sleeps on *_bell (futex). The other side, after its release
 *    store of tail (head), loads *_waiting and, if set, increments *_bell and
 *    wakes it. Both pairs (waiting store -> condition load; index store ->
 *    waiting load) need sequential consistency: a seq_cst fence (C: one per
 *    batch, GMK_FENCE_SEQ_CST) or seq_cst atomics (Go's sync/atomic). Sleeps
 *    are bounded, so a missed wake costs latency, never progress.
 *
 * LL RINGS (low latency; GMK_BRIDGE_LL in flags, set by the creator at format
 * time and never cleared; ring header version GMK_BRIDGE_VERSION_LL; slot_size
 * GMK_BRIDGE_LL_SLOT_SIZE). A version-1 reader refuses such a ring (version,
 * slot size); version-1 rings are unchanged. Each slot is sixteen 8-byte LL
 * words (gmk_bridge_ll_slot_t): the low 4 bytes carry data, the high 4 bytes
 * the tag of the slot's bridge seq, GMK_BRIDGE_LL_TAG(seq) = low 31 bits of
 * seq | bit 31: never 0 (zeroed memory never validates) and different for seq
 * and seq +- capacity (capacity < 2^31). A word is valid for seq when its tag
 * is GMK_BRIDGE_LL_TAG(seq); the validity travels with the data, so the reader
 * needs no index load and no fence to know a slot is complete.
 *  Words 0-7, the head line (always written): type, flags|tenant<<16, channel,
 *    task seq, meta0 lo/hi, meta1 lo/hi: everything an inline task needs, one
 *    64-byte read. Words 8-15, the extension line: payload lo/hi, payload_len,
 *    yield_count|_pad<<16, stage_pos lo/hi, two spare words (data 0). The
 *    producer writes them, and sets GMK_BRIDGE_LL_EXT in word 1's flags, when
 *    any of payload, payload_len, yield_count, _pad is non-zero (so every task
 *    crosses whole); otherwise it does not touch them and they read as 0. A
 *    task whose own flags carry GMK_BRIDGE_LL_EXT is refused (the bit is
 *    unused by gmk_task.h; the LL format claims it on the wire only).
 *  L1. Per-word atomicity: every word is written with one 8-byte store
 *      (relaxed atomic on the host, a plain aligned store on the device) and
 *      read with one 8-byte load, in any order. The producer stores the words
 *      of slot[tail] only after its room check (P2, unchanged).
 *  L2. Payload bytes before slot words: a task with staging bytes (or a
 *      by-reference payload the peer reads) orders them before its slot words
 *      -- on the host a release fence (or an atomic store of a later word;
 *      free on x86), on the device __threadfence_system(). Inline tasks need
 *      none: that is the latency path.
 *  L3. The consumer polls slot[head]'s words 0-7 for GMK_BRIDGE_LL_TAG(seq)
 *      (and words 8-15 when word 1 announces GMK_BRIDGE_LL_EXT), then, before
 *      it reads staging bytes, issues an acquire fence. A word whose tag is the
 *      previous lap's (seq - capacity; or 0 while seq - start_seq < capacity:
 *      never written) means "not yet": a torn slot, some words new and some
 *      old, is not consumed until every word is new. Any other tag in words
 *      0-7 -- or, in words 8-15, a tag that is neither 0 nor seq - k*capacity,
 *      k >= 1 -- is a gap or corruption: reported, never consumed ([B4]).
 *  L4. head is released as in C2 (batched) and loaded as in P2: the producer's
 *      room check is unchanged. tail, stage_tail, prod_seq and transfers are
 *      still stored by the producer (relaxed: for stats, the wake line and
 *      version-1 tools) after the slot words of a batch; the LL consumer never
 *      loads tail to find tasks. The wake line is unchanged, with the slot
 *      words in the role of tail: the producer stores them (and tail), then
 *      a seq_cst fence, then loads cons_waiting; a consumer about to sleep
 *      stores cons_waiting, fences, then re-polls slot[head].
 *  When a staged slot becomes visible is the producer's choice: the C
 *  functions (gmk_bridge_ring.h) store every word at stage time -- the
 *  device's latency path; Go's producer stores words 1-15 at Stage and word 0
 *  at Publish, so staged tasks stay invisible until published, as in version 1.
 */
#ifndef GMK_BRIDGE_H
#define GMK_BRIDGE_H

#include "gmk_task.h"

#define GMK_BRIDGE_MAGIC 0x424B4D47u      /* "GMKB" in memory order: region header */
#define GMK_BRIDGE_RING_MAGIC 0x524B4D47u /* "GMKR": ring header */
#define GMK_BRIDGE_VERSION 1u
#define GMK_BRIDGE_LINE 128u        /* index separation: 2 x 64-byte lines (x86 pairs), 1 GPU L2 line */
#define GMK_BRIDGE_STAGE_ALIGN 16u  /* payload start alignment in the staging area */
#define GMK_BRIDGE_MAX_RINGS 8u     /* ring_off entries in the region header */
#define GMK_BRIDGE_CLOSED 0x1u      /* flags: the ring is closed (disconnect, CHAN_CLOSED) */
#define GMK_BRIDGE_RING_AB 0u       /* ring index: side A (creator) -> side B */
#define GMK_BRIDGE_RING_BA 1u       /* ring index: side B -> side A */

/* LL rings (see LL RINGS above). */
#define GMK_BRIDGE_LL 0x2u                 /* flags: the ring uses LL slots; set at format time */
#define GMK_BRIDGE_VERSION_LL 2u           /* ring header version of an LL ring */
#define GMK_BRIDGE_LL_SLOT_SIZE 128u       /* sizeof(gmk_bridge_ll_slot_t) */
#define GMK_BRIDGE_LL_WORDS 16u            /* LL words per slot */
#define GMK_BRIDGE_LL_HEAD_WORDS 8u        /* words 0-7: the inline task */
#define GMK_BRIDGE_LL_TAG_BIT 0x80000000u  /* set in every tag: a tag is never 0 */
#define GMK_BRIDGE_LL_EXT 0x8000u          /* word 1 flags: words 8-15 are written */
#define GMK_BRIDGE_LL_TAG(seq) ((uint32_t)(seq) | GMK_BRIDGE_LL_TAG_BIT)
#define GMK_BRIDGE_LL_WORD(tag, data) (((uint64_t)(tag) << 32) | (uint32_t)(data))

/* Word indices of an LL slot. */
#define GMK_BRIDGE_LL_W_TYPE 0u         /* type */
#define GMK_BRIDGE_LL_W_FLAGS 1u        /* flags | tenant << 16 */
#define GMK_BRIDGE_LL_W_CHANNEL 2u      /* channel */
#define GMK_BRIDGE_LL_W_SEQ 3u          /* task seq */
#define GMK_BRIDGE_LL_W_META0 4u        /* meta0 low, high (5) */
#define GMK_BRIDGE_LL_W_META1 6u        /* meta1 low, high (7) */
#define GMK_BRIDGE_LL_W_PAYLOAD 8u      /* payload low, high (9) */
#define GMK_BRIDGE_LL_W_PAYLOAD_LEN 10u /* payload_len */
#define GMK_BRIDGE_LL_W_YIELD 11u       /* yield_count | _pad << 16 */
#define GMK_BRIDGE_LL_W_STAGE 12u       /* stage_pos low, high (13); 14, 15 spare */

/* Region header: written once by the creator. */
typedef struct gmk_bridge_region {
    GMK_ALIGNAS(128) uint32_t magic;                        /*  0: GMK_BRIDGE_MAGIC */
    uint16_t version;                        /*  4: GMK_BRIDGE_VERSION */
    uint16_t header_size;                    /*  6: sizeof(gmk_bridge_region_t) */
    uint32_t nrings;                         /*  8: rings in use (2 for a bridge) */
    uint32_t _pad0;                          /* 12 */
    uint64_t size;                           /* 16: bytes in the whole region */
    uint64_t ring_off[GMK_BRIDGE_MAX_RINGS]; /* 24: ring header offsets; 0 = unused */
    uint8_t _pad1[128 - 24 - 8 * GMK_BRIDGE_MAX_RINGS];
} gmk_bridge_region_t;

/* Ring header: four 128-byte lines, each written by one party (see above). */
typedef struct gmk_bridge_ring {
    /* Line 0, geometry: written by the creator; flags/epoch as described. */
    GMK_ALIGNAS(128) uint32_t magic;      /*   0: GMK_BRIDGE_RING_MAGIC */
    uint16_t version;      /*   4: GMK_BRIDGE_VERSION */
    uint16_t header_size;  /*   6: sizeof(gmk_bridge_ring_t) */
    uint32_t capacity;     /*   8: slots, a power of two >= 2 */
    uint32_t slot_size;    /*  12: sizeof(gmk_bridge_slot_t) */
    uint64_t staging_size; /*  16: staging bytes, 0 or a power of two >= 2*STAGE_ALIGN */
    uint64_t slots_off;    /*  24: slot array offset from this header */
    uint64_t staging_off;  /*  32: staging area offset from this header */
    uint64_t start_seq;    /*  40: seq of the first task of this epoch */
    uint32_t flags;        /*  48: GMK_BRIDGE_CLOSED; atomic */
    uint32_t epoch;        /*  52: formats of this ring; bumped on reset */
    uint8_t _pad0[128 - 56];

    /* Line 1, producer: written by the producer only. */
    uint64_t tail;       /* 128: slots published; store-release per batch */
    uint64_t stage_tail; /* 136: staging bytes allocated by published tasks */
    uint64_t prod_seq;   /* 144: seq the next task will carry */
    uint64_t transfers;  /* 152: batches published (one release of tail each) */
    uint8_t _pad1[128 - 32];

    /* Line 2, consumer: written by the consumer only. */
    uint64_t head;       /* 256: slots released; store-release per batch */
    uint64_t stage_head; /* 264: staging bytes released */
    uint64_t cons_seq;   /* 272: seq the consumer expects next */
    uint64_t releases;   /* 280: batches released */
    uint8_t _pad2[128 - 32];

    /* Line 3, wake: written on sleep transitions only. */
    uint32_t cons_waiting; /* 384: consumer is (about to be) asleep on cons_bell; by consumer */
    uint32_t cons_bell;    /* 388: futex word, bumped by the producer (or a closer) */
    uint32_t prod_waiting; /* 392: producer is (about to be) asleep on prod_bell; by producer */
    uint32_t prod_bell;    /* 396: futex word, bumped by the consumer (or a closer) */
    uint8_t _pad3[128 - 16];
} gmk_bridge_ring_t;

/* A task slot: one 64-byte line. */
typedef struct gmk_bridge_slot {
    gmk_task_t task;    /*  0: the task; task.payload_len = payload bytes in staging */
    uint64_t seq;       /* 48: bridge sequence number (lossless gap detection) */
    uint64_t stage_pos; /* 56: staging position of the payload; 0 when payload_len is 0 */
} gmk_bridge_slot_t;

/* An LL slot: two 64-byte lines of LL words (see LL RINGS). */
typedef struct gmk_bridge_ll_slot {
    GMK_ALIGNAS(128) uint64_t w[GMK_BRIDGE_LL_WORDS]; /* 0: words 0-7 head line, 64: words 8-15 extension */
} gmk_bridge_ll_slot_t;

GMK_STATIC_ASSERT(sizeof(gmk_bridge_region_t) == 128, "region header is one line");
GMK_STATIC_ASSERT(offsetof(gmk_bridge_region_t, size) == 16, "region.size");
GMK_STATIC_ASSERT(offsetof(gmk_bridge_region_t, ring_off) == 24, "region.ring_off");
GMK_STATIC_ASSERT(sizeof(gmk_bridge_ring_t) == 4 * GMK_BRIDGE_LINE, "ring header is four lines");
GMK_STATIC_ASSERT(offsetof(gmk_bridge_ring_t, flags) == 48, "ring.flags");
GMK_STATIC_ASSERT(offsetof(gmk_bridge_ring_t, tail) == 1 * GMK_BRIDGE_LINE, "tail on line 1");
GMK_STATIC_ASSERT(offsetof(gmk_bridge_ring_t, head) == 2 * GMK_BRIDGE_LINE, "head on line 2");
GMK_STATIC_ASSERT(offsetof(gmk_bridge_ring_t, cons_waiting) == 3 * GMK_BRIDGE_LINE, "wake line 3");
GMK_STATIC_ASSERT(offsetof(gmk_bridge_ring_t, prod_bell) == 3 * GMK_BRIDGE_LINE + 12, "prod_bell");
GMK_STATIC_ASSERT(sizeof(gmk_bridge_slot_t) == 64, "a slot is one 64-byte line");
GMK_STATIC_ASSERT(offsetof(gmk_bridge_slot_t, seq) == 48, "slot.seq");
GMK_STATIC_ASSERT(offsetof(gmk_bridge_slot_t, stage_pos) == 56, "slot.stage_pos");
GMK_STATIC_ASSERT(sizeof(gmk_bridge_ll_slot_t) == GMK_BRIDGE_LL_SLOT_SIZE, "an LL slot is two lines");

/*
 * Atomics behind macros, so the device build can swap them. The host default
 * uses the GCC/Clang __atomic builtins on plain integer fields (ISO C11
 * <stdatomic.h> would need _Atomic-qualified fields, which C++/CUDA cannot share).
 * CUDA device code gets volatile accesses with system-scope fences: the region is
 * pinned host memory that the CPU reads and writes concurrently.
 */
#ifndef GMK_LOAD_ACQUIRE
#if defined(__CUDA_ARCH__)
#define GMK_LOAD_RELAXED(p) (*(volatile __typeof__(*(p)) *)(p))
#define GMK_LOAD_ACQUIRE(p) gmk_cuda_load_acquire_((p))
#define GMK_STORE_RELEASE(p, v) (__threadfence_system(), *(volatile __typeof__(*(p)) *)(p) = (v))
#define GMK_FETCH_OR(p, v) (__threadfence_system(), atomicOr_system((unsigned int *)(p), (v)))
#define GMK_FETCH_ADD(p, v) (__threadfence_system(), atomicAdd_system((unsigned int *)(p), (v)))
#define GMK_FENCE_SEQ_CST() __threadfence_system()
template <typename T> __device__ inline T gmk_cuda_load_acquire_(T *p) {
    T v = *(volatile T *)p;
    __threadfence_system();
    return v;
}
#else
#define GMK_LOAD_RELAXED(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define GMK_LOAD_ACQUIRE(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define GMK_STORE_RELEASE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define GMK_FETCH_OR(p, v) __atomic_fetch_or((p), (v), __ATOMIC_ACQ_REL)
#define GMK_FETCH_ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)
#define GMK_FENCE_SEQ_CST() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif
#endif /* GMK_LOAD_ACQUIRE */

/* LL rings: relaxed 8-byte stores and the fences of L2/L3, separately guarded
 * so a build that supplies its own GMK_LOAD_ACQUIRE family still gets them. */
#ifndef GMK_STORE_RELAXED
#if defined(__CUDA_ARCH__)
#define GMK_STORE_RELAXED(p, v) (*(volatile __typeof__(*(p)) *)(p) = (v))
#define GMK_FENCE_RELEASE() __threadfence_system()
#define GMK_FENCE_ACQUIRE() __threadfence_system()
#else
#define GMK_STORE_RELAXED(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define GMK_FENCE_RELEASE() __atomic_thread_fence(__ATOMIC_RELEASE)
#define GMK_FENCE_ACQUIRE() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif
#endif /* GMK_STORE_RELAXED */

#if defined(__CUDACC__)
#define GMK_BRIDGE_INLINE static inline __host__ __device__
#else
#define GMK_BRIDGE_INLINE static inline
#endif

/* Ring geometry helpers (no libc). */
GMK_BRIDGE_INLINE gmk_bridge_ring_t *gmk_bridge_ring(gmk_bridge_region_t *rg, uint32_t i) {
    return (gmk_bridge_ring_t *)((unsigned char *)rg + rg->ring_off[i]);
}
GMK_BRIDGE_INLINE gmk_bridge_slot_t *gmk_bridge_slot(gmk_bridge_ring_t *r, uint64_t pos) {
    return (gmk_bridge_slot_t *)((unsigned char *)r + r->slots_off) + (pos & (uint64_t)(r->capacity - 1));
}
GMK_BRIDGE_INLINE gmk_bridge_ll_slot_t *gmk_bridge_ll_slot(gmk_bridge_ring_t *r, uint64_t pos) {
    return (gmk_bridge_ll_slot_t *)((unsigned char *)r + r->slots_off) + (pos & (uint64_t)(r->capacity - 1));
}
GMK_BRIDGE_INLINE unsigned char *gmk_bridge_stage(gmk_bridge_ring_t *r, uint64_t pos) {
    return (unsigned char *)r + r->staging_off + (pos & (r->staging_size - 1));
}
GMK_BRIDGE_INLINE uint64_t gmk_bridge_stage_round(uint64_t n) {
    return (n + GMK_BRIDGE_STAGE_ALIGN - 1) & ~(uint64_t)(GMK_BRIDGE_STAGE_ALIGN - 1);
}

#endif /* GMK_BRIDGE_H */
