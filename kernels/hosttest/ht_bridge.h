/*
 * ht_bridge.h — what ht_bridge.c and ht_bridge_ll.c share (host test only).
 */
#ifndef HT_BRIDGE_H
#define HT_BRIDGE_H

#include "ht_util.h"
#include "gmk_bridge_ring.h"

/* Format a one-ring region in zeroed mem of size bytes (an LL ring when ll)
 * with every counter started just below 2^32; returns the ring. */
gmk_bridge_ring_t *ht_bridge_format(unsigned char *mem, uint64_t size, uint32_t cap, uint64_t staging, int ll);

/* The single-threaded checks of the LL ring functions (ht_bridge_ll.c). */
void ht_bridge_ll_checks(ht_run_t *run);

#endif /* HT_BRIDGE_H */
