//go:build cgo

package stateabi

/*
#cgo CFLAGS: -std=c11 -Wall -Wextra -Werror
#include <stddef.h>
#include <stdint.h>
#include "gmk_state.h"
#include "gmk_evq.h"

typedef struct { const char *name; uint64_t value; } entry;

#define SZ(t) {"sizeof(" #t ")", sizeof(t)}
#define OF(t, f) {#t "." #f, offsetof(t, f)}

static const entry entries[] = {
	SZ(gmk_gpu_state_t),
	OF(gmk_gpu_state_t, nworkers), OF(gmk_gpu_state_t, nbuckets), OF(gmk_gpu_state_t, batch),
	OF(gmk_gpu_state_t, rx_batch), OF(gmk_gpu_state_t, trace_mask), OF(gmk_gpu_state_t, trace_sample),
	OF(gmk_gpu_state_t, payload_block), OF(gmk_gpu_state_t, npayload), OF(gmk_gpu_state_t, ctl),
	OF(gmk_gpu_state_t, heartbeat), OF(gmk_gpu_state_t, rx), OF(gmk_gpu_state_t, rx_host),
	OF(gmk_gpu_state_t, tx), OF(gmk_gpu_state_t, lq), OF(gmk_gpu_state_t, grq), OF(gmk_gpu_state_t, egress),
	OF(gmk_gpu_state_t, stats), OF(gmk_gpu_state_t, trace), OF(gmk_gpu_state_t, trace_pos),
	OF(gmk_gpu_state_t, arena), OF(gmk_gpu_state_t, pool), OF(gmk_gpu_state_t, evq), OF(gmk_gpu_state_t, ack), OF(gmk_gpu_state_t, bulk_off), OF(gmk_gpu_state_t, bulk_free), OF(gmk_gpu_state_t, bulk_block), OF(gmk_gpu_state_t, nbulk), OF(gmk_gpu_state_t, idle_sleep_max), OF(gmk_gpu_state_t, reserved),
	SZ(gmk_wstat_t),
	OF(gmk_wstat_t, done), OF(gmk_wstat_t, batches), OF(gmk_wstat_t, idle), OF(gmk_wstat_t, unknown),
	OF(gmk_wstat_t, failed), OF(gmk_wstat_t, emitted), OF(gmk_wstat_t, emit_full), OF(gmk_wstat_t, bridge_in),
	OF(gmk_wstat_t, bridge_out), OF(gmk_wstat_t, bridge_gap), OF(gmk_wstat_t, payload_fail),
	OF(gmk_wstat_t, rounds), OF(gmk_wstat_t, ns_gather), OF(gmk_wstat_t, ns_dispatch), OF(gmk_wstat_t, ns_flush),
	OF(gmk_wstat_t, ns_egress), OF(gmk_wstat_t, ns_rx_poll), OF(gmk_wstat_t, ns_rx_slots),
	OF(gmk_wstat_t, ns_rx_blocks), OF(gmk_wstat_t, ns_rx_copy), OF(gmk_wstat_t, ns_rx_release),
	OF(gmk_wstat_t, evq_fired), OF(gmk_wstat_t, ns_tx_publish), OF(gmk_wstat_t, ns_tx_bell), OF(gmk_wstat_t, ns_tx_stage),
	SZ(gmk_mpmc_t), SZ(gmk_mpmc_cell_t), SZ(gmk_ctl_t), SZ(gmk_heartbeat_t), SZ(gmk_trace_rec_t),
	SZ(gmk_evq_t), SZ(gmk_evq_cell_t), SZ(gmk_evq_ent_t),
};

static size_t n_entries(void) { return sizeof(entries) / sizeof(entries[0]); }
static const char *entry_name(size_t i) { return entries[i].name; }
static uint64_t entry_value(size_t i) { return entries[i].value; }
*/
import "C"

// Available reports whether the C layout could be read.
const Available = true

// Entries returns every size and offset above.
func Entries() []Entry {
	n := int(C.n_entries())
	out := make([]Entry, n)
	for i := range n {
		out[i] = Entry{Name: C.GoString(C.entry_name(C.size_t(i))), Value: uint64(C.entry_value(C.size_t(i)))}
	}
	return out
}
