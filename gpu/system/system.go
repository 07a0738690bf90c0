package system

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/kernel"
)

// Config describes a system of two peer kernels.
type Config struct {
	CPU        kernel.BootConfig // the CPU kernel; ID default "cpu.0", role peripheral
	CPUModules []kernel.Module
	// GPU is the GPU kernel's backend; nil boots the simulated one
	// (sim.New with SimConfig).
	GPU        gpu.Backend
	SimConfig  sim.Config
	GPUModules []gpu.Module
	// Bridge sizes each transport's rings (one transport carries a bridge
	// channel each way); Link tunes batching and backpressure.
	Bridge bridge.Config
	Link   link.Config
}

// System is a CPU kernel and a GPU kernel joined by bridge channels.
type System struct {
	cpu     *kernel.Kernel
	gpu     gpu.Backend
	ep      *link.Endpoint // the CPU kernel's end of the bridge channels
	trs     []bridge.Transport
	chans   []link.Chan
	summary Summary
	booted  time.Time
	// reset holds the report of a watchdog reset of the GPU kernel (then
	// Halt does not halt it again).
	reset atomic.Pointer[gpu.HaltReport]
}

// Boot boots the system ([K1]): the two kernels' channel declarations are
// exchanged and routed by locality (link.Route: cross-kernel mismatches are
// boot errors naming both sides), the transports are made (in memory; one
// per pair of opposite bridge channels), the CPU kernel boots with its
// modules and its end of the bridge, then the GPU kernel with its own, and
// the CPU end starts. On an error nothing is left running.
func Boot(cfg Config) (*System, error) {
	cpuCfg := cfg.CPU.WithDefaults()
	if cfg.GPU == nil {
		s, err := sim.New(cfg.SimConfig)
		if err != nil {
			return nil, err
		}
		cfg.GPU = s
	}
	gpuID := cfg.GPU.Info().ID
	lcfg := cfg.Link
	if lcfg.MaxPayload == 0 {
		lcfg.MaxPayload = cfg.Bridge.MaxPayload()
	}
	chans, err := link.Route(cpuSide(cpuCfg.ID, cfg.CPUModules), gpuSide(gpuID, cfg.GPUModules))
	if err != nil {
		return nil, err
	}
	cpuWires, gpuWires, trs, err := wire(chans, cpuCfg.ID, cfg.Bridge)
	if err != nil {
		return nil, err
	}
	s := &System{gpu: cfg.GPU, trs: trs, chans: chans}
	if s.ep, err = link.New(cpuCfg.ID, cpuWires, lcfg); err != nil {
		return nil, s.abort(err)
	}
	if s.cpu, err = kernel.Boot(cpuCfg, append(append([]kernel.Module(nil), cfg.CPUModules...), s.ep.Module())...); err != nil {
		return nil, s.abort(fmt.Errorf("system: boot %s: %w", cpuCfg.ID, err))
	}
	spec := gpu.BootSpec{Modules: cfg.GPUModules, Bridge: gpuWires, Link: lcfg,
		Tenants: cpuCfg.Tenants, MaxTypes: cpuCfg.MaxTypes}
	if err := s.gpu.Boot(spec); err != nil {
		return nil, s.abort(fmt.Errorf("system: boot %s: %w", gpuID, err))
	}
	if err := s.ep.Start(s.cpu); err != nil {
		_, _ = s.gpu.Reset(context.Background())
		return nil, s.abort(err)
	}
	s.booted = time.Now()
	s.summary = newSummary(s, len(cfg.CPUModules), len(cfg.GPUModules))
	return s, nil
}

// abort undoes a partial boot and returns err.
func (s *System) abort(err error) error {
	if s.cpu != nil {
		s.ep.Stop()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = s.cpu.Halt(ctx)
		s.ep.Close()
	}
	for _, t := range s.trs {
		_ = t.Close()
	}
	return err
}

func cpuSide(id string, mods []kernel.Module) link.Side {
	s := link.Side{Kernel: id}
	for _, m := range mods {
		s.Modules = append(s.Modules, link.Decls{Module: m.Name, Channels: m.Channels})
	}
	return s
}

func gpuSide(id string, mods []gpu.Module) link.Side {
	s := link.Side{Kernel: id}
	for _, m := range mods {
		s.Modules = append(s.Modules, link.Decls{Module: m.Name, Channels: m.Channels})
	}
	return s
}

// wire pairs the bridge channels onto transports — each carries at most one
// channel per direction, the first CPU→GPU channel with the first GPU→CPU
// one (host.rx with host.tx) — and returns each kernel's wires. The CPU
// kernel is side A of every transport.
func wire(chans []link.Chan, cpuID string, bc bridge.Config) (cpuW, gpuW []link.Wire, trs []bridge.Transport, err error) {
	var down, up []link.Chan // CPU→GPU, GPU→CPU
	for _, c := range chans {
		if c.From == cpuID {
			down = append(down, c)
		} else {
			up = append(up, c)
		}
	}
	for i := range max(len(down), len(up)) {
		a, b, err := bridge.NewMemPair(bc)
		if err != nil {
			for _, t := range trs {
				_ = t.Close()
			}
			return nil, nil, nil, err
		}
		trs = append(trs, a, b)
		if i < len(down) {
			cpuW, gpuW = append(cpuW, link.Wire{Chan: down[i], T: a}), append(gpuW, link.Wire{Chan: down[i], T: b})
		}
		if i < len(up) {
			cpuW, gpuW = append(cpuW, link.Wire{Chan: up[i], T: a}), append(gpuW, link.Wire{Chan: up[i], T: b})
		}
	}
	return cpuW, gpuW, trs, nil
}

// CPU returns the CPU kernel.
func (s *System) CPU() *kernel.Kernel { return s.cpu }

// GPU returns the GPU kernel's backend.
func (s *System) GPU() gpu.Backend { return s.gpu }

// Bridges returns the bridge channels.
func (s *System) Bridges() []link.Chan { return s.chans }

// Summary returns the boot summary ([K1]).
func (s *System) Summary() Summary { return s.summary }

// Links returns the counters of both ends of every bridge channel.
func (s *System) Links() []link.Stats { return append(s.ep.Stats(), s.gpu.Links()...) }

// Disconnect takes the bridge down (what a GPU reset does first): both
// kernels' bridge channels show CHAN_CLOSED.
func (s *System) Disconnect() {
	s.ep.Disconnect()
	for _, t := range s.trs {
		t.Disconnect()
	}
}

// ErrBusy reports a Halt whose context ended before the system was quiescent.
var ErrBusy = errors.New("system: halted before the system was quiescent")
