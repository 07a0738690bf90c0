//go:build cgo

package abicheck

/*
#cgo CFLAGS: -std=c11 -Wall -Wextra -Werror
#include <stddef.h>
#include <stdint.h>
#include "gmk_bridge_ring.h"

typedef struct { const char *name; uint64_t value; } abi_entry;

#define SZ(t) {"sizeof(" #t ")", sizeof(t)}
#define AL(t) {"alignof(" #t ")", alignof(t)}
#define OF(t, f) {#t "." #f, offsetof(t, f)}
#define K(c) {#c, (uint64_t)(c)}

static const abi_entry abi_entries[] = {
	SZ(gmk_task_t), AL(gmk_task_t),
	OF(gmk_task_t, type), OF(gmk_task_t, flags), OF(gmk_task_t, tenant), OF(gmk_task_t, channel),
	OF(gmk_task_t, seq), OF(gmk_task_t, payload), OF(gmk_task_t, payload_len),
	OF(gmk_task_t, yield_count), OF(gmk_task_t, _pad), OF(gmk_task_t, meta0), OF(gmk_task_t, meta1),
	SZ(gmk_bridge_region_t), AL(gmk_bridge_region_t),
	OF(gmk_bridge_region_t, magic), OF(gmk_bridge_region_t, version), OF(gmk_bridge_region_t, header_size),
	OF(gmk_bridge_region_t, nrings), OF(gmk_bridge_region_t, size), OF(gmk_bridge_region_t, ring_off),
	SZ(gmk_bridge_ring_t), AL(gmk_bridge_ring_t),
	OF(gmk_bridge_ring_t, magic), OF(gmk_bridge_ring_t, version), OF(gmk_bridge_ring_t, header_size),
	OF(gmk_bridge_ring_t, capacity), OF(gmk_bridge_ring_t, slot_size), OF(gmk_bridge_ring_t, staging_size),
	OF(gmk_bridge_ring_t, slots_off), OF(gmk_bridge_ring_t, staging_off), OF(gmk_bridge_ring_t, start_seq),
	OF(gmk_bridge_ring_t, flags), OF(gmk_bridge_ring_t, epoch),
	OF(gmk_bridge_ring_t, tail), OF(gmk_bridge_ring_t, stage_tail), OF(gmk_bridge_ring_t, prod_seq),
	OF(gmk_bridge_ring_t, transfers),
	OF(gmk_bridge_ring_t, head), OF(gmk_bridge_ring_t, stage_head), OF(gmk_bridge_ring_t, cons_seq),
	OF(gmk_bridge_ring_t, releases),
	OF(gmk_bridge_ring_t, cons_waiting), OF(gmk_bridge_ring_t, cons_bell),
	OF(gmk_bridge_ring_t, prod_waiting), OF(gmk_bridge_ring_t, prod_bell),
	SZ(gmk_bridge_slot_t), AL(gmk_bridge_slot_t),
	OF(gmk_bridge_slot_t, task), OF(gmk_bridge_slot_t, seq), OF(gmk_bridge_slot_t, stage_pos),
	SZ(gmk_bridge_ll_slot_t), AL(gmk_bridge_ll_slot_t), OF(gmk_bridge_ll_slot_t, w),
	K(GMK_BRIDGE_LL), K(GMK_BRIDGE_VERSION_LL), K(GMK_BRIDGE_LL_SLOT_SIZE), K(GMK_BRIDGE_LL_WORDS),
	K(GMK_BRIDGE_LL_HEAD_WORDS), K(GMK_BRIDGE_LL_TAG_BIT), K(GMK_BRIDGE_LL_EXT),
	K(GMK_BRIDGE_LL_W_TYPE), K(GMK_BRIDGE_LL_W_FLAGS), K(GMK_BRIDGE_LL_W_CHANNEL), K(GMK_BRIDGE_LL_W_SEQ),
	K(GMK_BRIDGE_LL_W_META0), K(GMK_BRIDGE_LL_W_META1), K(GMK_BRIDGE_LL_W_PAYLOAD),
	K(GMK_BRIDGE_LL_W_PAYLOAD_LEN), K(GMK_BRIDGE_LL_W_YIELD), K(GMK_BRIDGE_LL_W_STAGE),
	K(GMK_BRIDGE_LL_TAG(0)), K(GMK_BRIDGE_LL_TAG(0x123456789ull)),
	K(GMK_BRIDGE_MAGIC), K(GMK_BRIDGE_RING_MAGIC), K(GMK_BRIDGE_VERSION), K(GMK_BRIDGE_LINE),
	K(GMK_BRIDGE_STAGE_ALIGN), K(GMK_BRIDGE_MAX_RINGS), K(GMK_BRIDGE_CLOSED),
	K(GMK_BRIDGE_RING_AB), K(GMK_BRIDGE_RING_BA),
	K(GMK_TASK_PRIORITY_MASK), K(GMK_TASK_DETERMINISTIC), K(GMK_TASK_IDEMPOTENT),
	K(GMK_TASK_EMIT_TRACE), K(GMK_TASK_CHANNEL_MSG), K(GMK_TASK_REDELIVERED), K(GMK_TASK_SNAPSHOTTED), K(GMK_TASK_PAYLOAD_REF), K(GMK_TASK_PAYLOAD_DEV),
};

static size_t abi_len(void) { return sizeof(abi_entries) / sizeof(abi_entries[0]); }
static const char *abi_name(size_t i) { return abi_entries[i].name; }
static uint64_t abi_value(size_t i) { return abi_entries[i].value; }

// c_produce stages n tasks into ring i of the region at base with the C
// reference producer (the LL one when ll), publishing every batch tasks. Task k carries meta0 = k,
// type = 7 and, when k % 3 == 0, a payload of k % 200 + 1 bytes (byte j =
// (k + j) & 0xff). Returns the number staged, or a negative error code.
static int64_t c_produce(void *base, uint32_t ring, int64_t n, int64_t batch, int ll) {
	gmk_bridge_prod_t p;
	unsigned char buf[256];
	int wake;
	gmk_bridge_prod_attach(&p, gmk_bridge_ring((gmk_bridge_region_t *)base, ring));
	for (int64_t k = 0; k < n; k++) {
		gmk_task_t t = {0};
		t.type = 7;
		t.meta0 = (uint64_t)k;
		if (k % 3 == 0) {
			t.payload_len = (uint32_t)(k % 200 + 1);
			for (uint32_t j = 0; j < t.payload_len; j++)
				buf[j] = (unsigned char)(k + j);
		}
		int rc = ll ? gmk_bridge_ll_stage(&p, &t, buf) : gmk_bridge_stage_task(&p, &t, buf);
		if (rc != GMK_BRIDGE_OK)
			return rc;
		if ((k + 1) % batch == 0)
			ll ? gmk_bridge_ll_publish(&p, &wake) : gmk_bridge_publish(&p, &wake);
	}
	ll ? gmk_bridge_ll_publish(&p, &wake) : gmk_bridge_publish(&p, &wake);
	return n;
}

// c_consume peeks and releases everything published on ring i with the C
// reference consumer (polling LL slots when ll), releasing every batch tasks, and folds what it saw into
// a checksum: sum over tasks of meta0 * 31 + payload_len + each payload byte.
// Stores the task count in *count; returns the checksum, or sets *count to a
// negative error code.
static uint64_t c_consume(void *base, uint32_t ring, int64_t batch, int64_t *count, int ll) {
	gmk_bridge_cons_t c;
	gmk_task_t t;
	const unsigned char *pl;
	uint64_t sum = 0;
	int wake;
	*count = 0;
	gmk_bridge_cons_attach(&c, gmk_bridge_ring((gmk_bridge_region_t *)base, ring));
	for (;;) {
		int rc = ll ? gmk_bridge_ll_poll(&c, &t, &pl) : gmk_bridge_peek(&c, &t, &pl);
		if (rc == 0 || rc == GMK_BRIDGE_E_CLOSED)
			break;
		if (rc < 0) {
			*count = rc;
			return 0;
		}
		sum += t.meta0 * 31 + t.payload_len;
		for (uint32_t j = 0; j < t.payload_len; j++)
			sum += pl[j];
		if (++*count % batch == 0)
			gmk_bridge_release(&c, &wake);
	}
	gmk_bridge_release(&c, &wake);
	return sum;
}
*/
import "C"

import "unsafe"

// Available reports whether the C layout could be read (built with cgo).
const Available = true

// Entries returns every fact of the C layout the check covers.
func Entries() []Entry {
	n := int(C.abi_len())
	out := make([]Entry, n)
	for i := range n {
		out[i] = Entry{Name: C.GoString(C.abi_name(C.size_t(i))), Value: uint64(C.abi_value(C.size_t(i)))}
	}
	return out
}

// Produce runs the C reference producer on ring of the region in mem (see
// c_produce for the tasks it writes). mem must stay untouched by Go code for the
// duration of the call.
func Produce(mem []byte, ring uint32, n, batch int64) int64 {
	return int64(C.c_produce(unsafe.Pointer(&mem[0]), C.uint32_t(ring), C.int64_t(n), C.int64_t(batch), 0))
}

// ProduceLL is Produce with the LL producer (gmk_bridge_ll_stage and
// gmk_bridge_ll_publish) on an LL ring.
func ProduceLL(mem []byte, ring uint32, n, batch int64) int64 {
	return int64(C.c_produce(unsafe.Pointer(&mem[0]), C.uint32_t(ring), C.int64_t(n), C.int64_t(batch), 1))
}

// Consume runs the C reference consumer on ring of the region in mem and
// returns the count of tasks it took (negative: a C error code) and their
// checksum (see c_consume).
func Consume(mem []byte, ring uint32, batch int64) (count int64, sum uint64) {
	var cnt C.int64_t
	s := C.c_consume(unsafe.Pointer(&mem[0]), C.uint32_t(ring), C.int64_t(batch), &cnt, 0)
	return int64(cnt), uint64(s)
}

// ConsumeLL is Consume with the LL consumer (gmk_bridge_ll_poll) on an LL ring.
func ConsumeLL(mem []byte, ring uint32, batch int64) (count int64, sum uint64) {
	var cnt C.int64_t
	s := C.c_consume(unsafe.Pointer(&mem[0]), C.uint32_t(ring), C.int64_t(batch), &cnt, 1)
	return int64(cnt), uint64(s)
}
