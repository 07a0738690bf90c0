package system

import (
	"sync"

	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/trace"
)

// GPU traces on the CPU ([O4]): with Config.Trace the system adds the
// bridge channel gpu.TraceChan (sys.trace), GPU → CPU, lossy. The GPU
// kernel ships its trace records over it (gpu/sim: the trace pump; the GPU
// daemon's simulated kernel does the same in its process), and a CPU module
// takes them into a bounded buffer; DrainTrace hands out the records of all
// kernels together, each with its kernel's identity.

// TraceConfig ships the GPU kernel's traces to the CPU (Config.Trace).
type TraceConfig struct {
	// Type is the task type of the trace channel; default the last type id
	// of the kernels (MaxTypes-1).
	Type uint32
	// Keep bounds the GPU records held on the CPU until DrainTrace; the
	// oldest go first (counted in TraceLost). Default 65536.
	Keep int
}

// TraceRecord is a trace record of one of the system's kernels.
type TraceRecord struct {
	Kernel string // [K3] identity: "cpu.0", "gpu.0"
	Worker int
	trace.Record
}

// traceSink is the CPU end of the trace channel: its handler (a CPU worker)
// appends, DrainTrace (any goroutine) takes, under mu.
type traceSink struct {
	id   string // the GPU kernel
	keep int
	mu   sync.Mutex
	recs []TraceRecord
	lost uint64
}

// traceChan is the trace channel's bridge channel, GPU → CPU.
func traceChan(cfg TraceConfig, gpuID, cpuID string) link.Chan {
	return link.Chan{Spec: kernel.ChanSpec{Name: gpu.TraceChan, Type: cfg.Type, Mode: kernel.P2P, Guarantee: kernel.Lossy, Slots: 256},
		From: gpuID, To: cpuID}
}

// module is the CPU module consuming the trace channel.
func (t *traceSink) module(c link.Chan) kernel.Module {
	sp := c.Spec
	return kernel.Module{Name: "gpu.trace", Version: "1",
		Channels: []kernel.ChanDecl{{Name: sp.Name, Dir: kernel.Consume, Type: sp.Type, Mode: sp.Mode, Guarantee: sp.Guarantee, Slots: sp.Slots}},
		Handlers: []kernel.Handler{{Type: sp.Type, Name: "take", Fn: t.take}},
		Init: func(c *kernel.Ctx) error {
			_ = c.Kernel().SetTraceLevel("gpu.trace", trace.Off) // taking traces makes none
			return nil
		}}
}

// take stores one task's records.
func (t *traceSink) take(c *kernel.Ctx) kernel.Status {
	rs := gpu.TraceRecords(nil, c.Payload())
	w := int(c.Task().Meta0)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range rs {
		if len(t.recs) == t.keep {
			copy(t.recs, t.recs[1:])
			t.recs = t.recs[:len(t.recs)-1]
			t.lost++
		}
		t.recs = append(t.recs, TraceRecord{Kernel: t.id, Worker: w, Record: r})
	}
	return kernel.OK
}

// DrainTrace hands fn every pending trace record of the system: the CPU
// kernel's, from its per-worker rings, then the GPU kernel's that arrived
// over sys.trace (with Config.Trace). It returns how many. One goroutine at
// a time (as Kernel.DrainTrace).
func (s *System) DrainTrace(fn func(r *TraceRecord)) int {
	id := s.cpu.ID()
	n := s.cpu.DrainTrace(func(w int, r *trace.Record) {
		fn(&TraceRecord{Kernel: id, Worker: w, Record: *r})
	})
	if s.ts == nil {
		return n
	}
	s.ts.mu.Lock()
	recs := s.ts.recs
	s.ts.recs = nil
	s.ts.mu.Unlock()
	for i := range recs {
		fn(&recs[i])
	}
	return n + len(recs)
}

// TraceLost returns the GPU trace records the CPU side let go before they
// were drained (TraceConfig.Keep), and the CPU kernel's own losses.
func (s *System) TraceLost() (gpuLost, cpuLost uint64) {
	if s.ts != nil {
		s.ts.mu.Lock()
		gpuLost = s.ts.lost
		s.ts.mu.Unlock()
	}
	return gpuLost, s.cpu.TraceLost()
}
