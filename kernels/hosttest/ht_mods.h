/*
 * ht_mods.h — the host build of the standard GPU modules (kernels/modules/
 * kv, reduce, timer, log, gate, stats), called from Go (mods_cgo.go).
 *
 * ht_mods.cc compiles each module's .cuh as host C++ against a host build of
 * the handler API (gmk_gpu.h's calls): emits are captured into an array,
 * gmk_now reads a clock the caller sets, payload blocks come from a host
 * slab of HT_MOD_BLOCKS blocks of HT_MOD_BLOCK bytes, and after each handler
 * call the input's block is released unless an emit carries it or the
 * handler kept it — what the persistent kernel does after a dispatch.
 *
 * The module state is the modules' own globals (one instance per process):
 * callers serialise (mods.go holds a mutex from OpenMods to Close).
 */
#ifndef HT_MODS_H
#define HT_MODS_H

#include <stdint.h>

#include "gmk_gpu.h"
#include "gmk_task.h"

#define HT_MOD_BLOCK 16384u /* the CUDA backend's default payload block */
#define HT_MOD_BLOCKS 256u
#define HT_MOD_OUT_CAP 64u
#define HT_MOD_STATS 64u /* GMK_STATS_MAX */

#ifdef __cplusplus
extern "C" {
#endif

/* The modules' configuration (their gmk_*.cfg), zero fields meaning defaults. */
typedef struct ht_mod_cfg {
    uint32_t kv_buckets, kv_entries, kv_max_key, kv_max_value;
    uint32_t reduce_op, reduce_kind, reduce_groups, reduce_elems;
    uint32_t timer_max, gate_max, gate_max_arrivals, log_level;
    int64_t timer_step;
    uint32_t stats_n;
    uint8_t stats_kind[HT_MOD_STATS];
} ht_mod_cfg_t;

/* Zero every module's state and the slab, then apply cfg. */
void ht_mod_reset(const ht_mod_cfg_t *cfg);

/* Run the handler of in->type once, at device time now, with an out buffer
 * of out_cap entries: in->payload_len bytes of payload are copied into a
 * block first. Returns the handler's status (GMK_UNKNOWN_TYPE for a type no
 * module handles, GMK_ALLOC_FAIL when no block holds the payload); *after is
 * the task as the handler left it; outs[0..*nout) the emits in order, each
 * carried payload copied into pbuf (its task.payload rewritten to the offset
 * in pbuf) and its block released, as host.tx staging does. */
int ht_mod_run(const gmk_task_t *in, const unsigned char *payload, uint64_t now, uint32_t out_cap,
               gmk_task_t *after, gmk_out_t *outs, uint32_t *nout, unsigned char *pbuf, uint32_t pcap);

/* Blocks of the slab held now (by modules: reduce's kept elements). */
uint32_t ht_mod_live(void);

/* Metric id's values (stats): counter or gauge value, histogram sum and buckets. */
void ht_mod_stat(uint32_t id, uint64_t *value, uint64_t *hsum, uint64_t *hist);

#ifdef __cplusplus
}
#endif

#endif /* HT_MODS_H */
