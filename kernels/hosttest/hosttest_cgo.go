//go:build cgo

package hosttest

/*
#cgo CFLAGS: -I${SRCDIR}/../include -O2 -pthread -std=c11 -Wall -Wextra -Werror
#cgo CXXFLAGS: -I${SRCDIR}/../include -O2 -std=c++17 -Wall -Wextra -Werror
#cgo LDFLAGS: -pthread
#include "ht.h"
*/
import "C"

import (
	"errors"
	"fmt"
)

// Available reports whether the device structures were compiled as C: true
// in a cgo build.
const Available = true

// run calls the C entry point of s with c and converts its result.
func run(s structure, c Config) (Stats, error) {
	cfg := C.ht_cfg_t{
		producers: C.int32_t(c.Producers),
		consumers: C.int32_t(c.Consumers),
		items:     C.int64_t(c.Items),
		capacity:  C.uint32_t(c.Capacity),
		block:     C.uint32_t(c.Block),
		seed:      C.uint64_t(c.Seed),
		timeout_s: C.double(c.Timeout.Seconds()),
	}
	var res C.ht_result_t
	var rc C.int
	switch s {
	case mpmcRing:
		rc = C.ht_mpmc(&cfg, &res)
	case slabAlloc:
		rc = C.ht_slab(&cfg, &res)
	case bumpAlloc:
		rc = C.ht_bump(&cfg, &res)
	case eventQueue:
		rc = C.ht_evq(&cfg, &res)
	case bridgeRing:
		rc = C.ht_bridge(&cfg, &res)
	case bridgeLLRing:
		rc = C.ht_bridge_ll(&cfg, &res)
	case hangGuard:
		rc = C.ht_guard(&cfg, &res)
	default:
		return Stats{}, fmt.Errorf("hosttest: unknown structure %d", s)
	}
	st := Stats{Ops: int64(res.ops), Full: int64(res.full), Empty: int64(res.empty), Aux: int64(res.aux)}
	if rc != 0 {
		return st, errors.New(C.GoString(&res.err[0]))
	}
	return st, nil
}
