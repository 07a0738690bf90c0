//go:build cgo

/* Every kernels/include header in one translation unit, as C11 (-Wall
 * -Wextra -Werror): they agree with each other (no clashing definitions).
 * TestG2_HeadersCompileAsC checks that the list is complete. */
#include "gmk_bridge.h"
#include "gmk_bridge_ring.h"
#include "gmk_bump.h"
#include "gmk_dev.h"
#include "gmk_evq.h"
#include "gmk_gpu.h"
#include "gmk_mpmc.h"
#include "gmk_slab.h"
#include "gmk_task.h"
#include "gmk_types.h"
