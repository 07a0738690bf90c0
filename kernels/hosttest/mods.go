package hosttest

import (
	"errors"
	"sync"

	"github.com/gmkernel/gmk/kernel/task"
)

// The standard GPU modules on the host (GMK.md [G5]; issue 5: "same inputs
// give the same outputs"). kernels/modules/{kv,reduce,timer,log,gate,stats}
// are compiled as host C++ by cgo (ht_mods.cc) against a host build of the
// handler API: the same .cuh the kernel build compiles for sm_90, so their
// handler logic can be run task by task from Go and compared with the Go
// modules of modules/… on a real kernel. Emits are captured in order, device
// time is a parameter, payload blocks come from a host slab.
//
// What it does not cover: the device's concurrency (handlers of several
// workers at once, the locks and atomics under contention) and the
// persistent kernel's dispatch around the handlers; the device tests
// (gpu/cuda, build tag cuda) run the same modules on a GPU.

// ErrModsOpen is returned by OpenMods while another Mods is open: the
// modules' state is one set of C globals per process.
var ErrModsOpen = errors.New("hosttest: the host GPU modules are in use")

// ModsConfig is the modules' device configuration (their gmk_*.cfg fields);
// zero fields take the defaults, which are the Go modules' defaults.
type ModsConfig struct {
	KVBuckets, KVEntries, KVMaxKey, KVMaxValue uint32
	ReduceOp, ReduceKind                       uint8 // sdk.Op (sum, min, max, concat) and sdk.Kind
	ReduceGroups, ReduceElems                  uint32
	TimerMax                                   uint32
	TimerStep                                  int64 // ns
	GateMax, GateMaxArrivals                   uint32
	LogLevel                                   uint8   // sdk.Level
	StatsKinds                                 []uint8 // by metric id: 0 counter, 1 gauge, 2 histogram (at most 64)
}

// Dest is where an emit goes: this kernel now, the CPU kernel, or this
// kernel after a delay (the worker's EVQ).
type Dest uint32

// Emit destinations (gmk_gpu.h GMK_DEST_*).
const (
	DestLocal Dest = 0
	DestHost  Dest = 1
	DestLater Dest = 2
)

// Emit is one emit of a handler call.
type Emit struct {
	Dest    Dest
	Delay   uint64 // DestLater: ns after the call
	Task    task.Task
	Payload []byte // the bytes it carries (DestHost); nil for inline tasks
}

// Step is the result of one handler call.
type Step struct {
	Status int32     // the handler's status: GMK_OK 0, GMK_RETRY 1, or a negative code
	After  task.Task // the task as the handler left it (what a RETRY re-runs)
	Emits  []Emit
}

// Stat is one metric's values in the stats module's device state.
type Stat struct {
	Value uint64 // counter, or gauge (int64 bits)
	Sum   uint64 // histogram: sum of observations
	Hist  [65]uint64
}

// Mods is the host build of the standard GPU modules, with empty state.
// Not safe for concurrent use; one Mods is open at a time per process.
type Mods struct {
	closed bool
	pbuf   []byte // where host emits' payloads are copied, reused
}

var modsMu sync.Mutex // held from OpenMods to Close

// OpenMods resets the modules' state with cfg and returns them. Without
// cgo it returns ErrNoCgo; while another Mods is open, ErrModsOpen.
func OpenMods(cfg ModsConfig) (*Mods, error) {
	if !Available {
		return nil, ErrNoCgo
	}
	if len(cfg.StatsKinds) > 64 {
		return nil, errors.New("hosttest: at most 64 metrics")
	}
	if !modsMu.TryLock() {
		return nil, ErrModsOpen
	}
	modsReset(&cfg)
	return &Mods{pbuf: make([]byte, modsBuf)}, nil
}

// Close releases the modules for the next OpenMods.
func (m *Mods) Close() {
	if !m.closed {
		m.closed = true
		modsMu.Unlock()
	}
}

// Run runs the handler of in.Type on in (payload p, whose length must be
// in.PayloadLen) at device time now, with room for outCap emits (the
// worker's out buffer; 0 makes every emit fail, which is how a full buffer
// is tested).
func (m *Mods) Run(in task.Task, p []byte, now uint64, outCap int) (Step, error) {
	if m.closed {
		return Step{}, errors.New("hosttest: Mods closed")
	}
	if int(in.PayloadLen) != len(p) {
		return Step{}, errors.New("hosttest: payload length differs from PayloadLen")
	}
	return modsRun(in, p, now, outCap, m.pbuf)
}

// Live returns the payload blocks the modules hold (reduce's kept concat
// elements; 0 when no group is open).
func (m *Mods) Live() int { return modsLive() }

// Stat returns metric id's values.
func (m *Mods) Stat(id uint32) Stat { return modsStat(id) }
