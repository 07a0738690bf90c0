//go:build cgo

package hosttest

/*
#include "ht_mods.h"
*/
import "C"

import (
	"errors"
	"unsafe"

	"github.com/gmkernel/gmk/kernel/task"
)

// task.Task and gmk_task_t have one layout (bridge/abi_test.go checks it
// field by field), so tasks cross by pointer.
var _ [unsafe.Sizeof(task.Task{}) - C.sizeof_gmk_task_t]byte
var _ [C.sizeof_gmk_task_t - unsafe.Sizeof(task.Task{})]byte

func modsReset(c *ModsConfig) {
	cfg := C.ht_mod_cfg_t{
		kv_buckets: C.uint32_t(c.KVBuckets), kv_entries: C.uint32_t(c.KVEntries),
		kv_max_key: C.uint32_t(c.KVMaxKey), kv_max_value: C.uint32_t(c.KVMaxValue),
		reduce_op: C.uint32_t(c.ReduceOp), reduce_kind: C.uint32_t(c.ReduceKind),
		reduce_groups: C.uint32_t(c.ReduceGroups), reduce_elems: C.uint32_t(c.ReduceElems),
		timer_max: C.uint32_t(c.TimerMax), timer_step: C.int64_t(c.TimerStep),
		gate_max: C.uint32_t(c.GateMax), gate_max_arrivals: C.uint32_t(c.GateMaxArrivals),
		log_level: C.uint32_t(c.LogLevel), stats_n: C.uint32_t(len(c.StatsKinds)),
	}
	for i, k := range c.StatsKinds {
		cfg.stats_kind[i] = C.uint8_t(k)
	}
	C.ht_mod_reset(&cfg)
}

// harnessFailure is ht_mod_run's status for a failure of the harness itself
// (a block freed twice or never held; the payload buffer too small).
const harnessFailure = -0x7FFF

func modsRun(in task.Task, p []byte, now uint64, outCap int, pbuf []byte) (Step, error) {
	var (
		after task.Task
		outs  [C.HT_MOD_OUT_CAP]C.gmk_out_t
		nout  C.uint32_t
	)
	var src *C.uchar
	if len(p) > 0 {
		src = (*C.uchar)(unsafe.Pointer(&p[0]))
	}
	rc := C.ht_mod_run((*C.gmk_task_t)(unsafe.Pointer(&in)), src, C.uint64_t(now), C.uint32_t(max(outCap, 0)),
		(*C.gmk_task_t)(unsafe.Pointer(&after)), &outs[0], &nout, (*C.uchar)(unsafe.Pointer(&pbuf[0])), C.uint32_t(len(pbuf)))
	if rc == harnessFailure {
		return Step{}, errors.New("hosttest: a module freed a payload block it did not hold, or emitted too many bytes")
	}
	st := Step{Status: int32(rc), After: after}
	for _, o := range outs[:nout] {
		e := Emit{Dest: Dest(o.dest), Delay: uint64(o.delay), Task: *(*task.Task)(unsafe.Pointer(&o.task))}
		if e.Dest == DestHost && e.Task.PayloadLen > 0 {
			e.Payload = append([]byte(nil), pbuf[e.Task.Payload:e.Task.Payload+uint64(e.Task.PayloadLen)]...)
			e.Task.Payload = 0
		}
		st.Emits = append(st.Emits, e)
	}
	return st, nil
}

// modsBuf is the size of the buffer host emits' payloads are copied into.
const modsBuf = C.HT_MOD_OUT_CAP * C.HT_MOD_BLOCK

func modsLive() int { return int(C.ht_mod_live()) }

func modsStat(id uint32) Stat {
	var s Stat
	var v, sum C.uint64_t
	C.ht_mod_stat(C.uint32_t(id), &v, &sum, (*C.uint64_t)(unsafe.Pointer(&s.Hist[0])))
	s.Value, s.Sum = uint64(v), uint64(sum)
	return s
}
