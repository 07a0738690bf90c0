package system

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/daemon"
	"github.com/gmkernel/gmk/gpu/discover"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/kernel"
)

// Config describes a system of two peer kernels.
type Config struct {
	CPU        kernel.BootConfig // the CPU kernel; ID default "cpu.0", role peripheral
	CPUModules []kernel.Module
	// GPU is the GPU kernel's backend. Nil: the GPU daemon when Daemon is
	// set (daemon.New(*Daemon): the kernel in its own process, DESIGN.md
	// decision 7), else the simulated kernel in this process (sim.New with
	// SimConfig), the default.
	GPU       gpu.Backend
	Daemon    *daemon.Config
	SimConfig sim.Config
	// GPUModules are the GPU kernel's modules. With Daemon they are built
	// from Daemon.Modules when nil.
	GPUModules []gpu.Module
	// Bridge sizes each transport's rings (one transport carries a bridge
	// channel each way); Link tunes batching and backpressure.
	Bridge bridge.Config
	Link   link.Config
	// Actor, when set, makes the GPU kernel an actor ([X6]): System.PID.
	Actor *ActorConfig
	// Trace, when set, ships the GPU kernel's trace records to the CPU over
	// sys.trace ([O4]): System.DrainTrace.
	Trace *TraceConfig
	// Fence ties the two kernels' deterministic lanes with tick fences
	// ([D1] across kernels, fence.go): both need deterministic types, and
	// the GPU kernel must run in this process (the simulated one).
	Fence bool
}

// System is a CPU kernel and a GPU kernel joined by bridge channels.
type System struct {
	cpu     *kernel.Kernel
	gpu     gpu.Backend
	ep      *link.Endpoint // the CPU kernel's end of the bridge channels
	chans   []link.Chan
	pairs   []pair        // the bridge channels on each transport, fixed at boot
	spec    gpu.BootSpec  // what the GPU kernel boots with (Bridge: set per boot)
	bcfg    bridge.Config // each transport's rings
	summary Summary
	booted  time.Time
	unwatch atomic.Pointer[func()] // stops the running watchdog (Watch)
	gw      *gateway               // the GPU kernel's actor (Config.Actor); nil: none
	ts      *traceSink             // the GPU kernel's traces (Config.Trace); nil: none
	unfence func()                 // unties the fenced lanes (Config.Fence); nil: not fenced

	// mu guards the fields below, which the watchdog's reset and reboot
	// (on its goroutine, which Halt stops first) and Halt change, and Links,
	// Resets and Disconnect read from any goroutine — a CPU handler
	// included. So mu is never held while the CPU kernel's workers or its
	// bridge end's pumps and senders are waited for (they may be waiting
	// for mu): only across short steps and the GPU kernel's Reset and Halt,
	// which wait for the GPU kernel alone.
	mu      sync.Mutex
	bridges []gpu.Bridge     // the current transports, one per pair
	retired []gpu.Bridge     // transports of earlier epochs, closed at Halt
	resets  []gpu.HaltReport // what each reset of the GPU kernel found, in order
	down    bool             // the GPU kernel was reset and has not rebooted yet
	halted  bool             // Halt halted the GPU kernel: final holds its side
	final   []link.Stats     // the GPU kernels' bridge ends at Halt (Report.Links less the CPU's)
}

// pair is the bridge channels one transport carries: at most one each way.
type pair struct {
	down, up *link.Chan // CPU → GPU, GPU → CPU
}

// Boot boots the system ([K1]): the two kernels' channel declarations are
// exchanged and routed by locality (link.Route: cross-kernel mismatches are
// boot errors naming both sides), the transports are made (one per pair of
// opposite bridge channels: in memory, or the backend's own — gpu.Bridger),
// the CPU kernel boots with its modules and its end of the bridge, then the
// GPU kernel with its own, and the CPU end starts. Each channel the CPU
// kernel sends over the bridge gets an acknowledgement cell: the GPU
// kernel acknowledges what it handled, and what it did not is sent again
// after a reset (Watch). On an error nothing is left running.
func Boot(cfg Config) (*System, error) {
	cpuCfg := cfg.CPU.WithDefaults()
	simWhy := "" // why the simulated kernel, when Boot chose it ([K1] discovery)
	switch {
	case cfg.GPU != nil:
	case cfg.Daemon != nil:
		d, err := daemon.New(*cfg.Daemon)
		if err != nil {
			return nil, err
		}
		if cfg.GPUModules == nil {
			cfg.GPUModules = d.Modules()
		}
		cfg.GPU = d
	default:
		s, err := sim.New(cfg.SimConfig)
		if err != nil {
			return nil, err
		}
		cfg.GPU = s
		simWhy = whySim()
	}
	gpuID := cfg.GPU.Info().ID
	lcfg := cfg.Link
	if lcfg.MaxPayload == 0 {
		lcfg.MaxPayload = cfg.Bridge.MaxPayload()
	}
	cpuMods := slices.Clone(cfg.CPUModules)
	var gw *gateway
	if cfg.Actor != nil {
		var err error
		if gw, err = newGateway(*cfg.Actor, gpuID, cfg.GPUModules); err != nil {
			return nil, err
		}
		cpuMods = append(cpuMods, gw.module())
	}
	chans, err := link.Route(cpuSide(cpuCfg.ID, cpuMods), gpuSide(gpuID, cfg.GPUModules))
	if err != nil {
		return nil, err
	}
	var ts *traceSink
	if cfg.Trace != nil {
		tc := *cfg.Trace
		tc.Type = cmp.Or(tc.Type, uint32(cpuCfg.MaxTypes-1))
		tc.Keep = cmp.Or(tc.Keep, 1<<16)
		c := traceChan(tc, gpuID, cpuCfg.ID)
		ts = &traceSink{id: gpuID, keep: tc.Keep}
		cpuMods = append(cpuMods, ts.module(c))
		chans = append(chans, c) // sys.* is never routed: the system wires this one itself
	}
	s := &System{gpu: cfg.GPU, chans: chans, pairs: pairUp(chans, cpuCfg.ID), bcfg: cfg.Bridge, gw: gw, ts: ts,
		spec: gpu.BootSpec{Modules: cfg.GPUModules, Link: lcfg, Tenants: cpuCfg.Tenants, MaxTypes: cpuCfg.MaxTypes}}
	for range s.pairs {
		b, err := s.newBridge()
		if err != nil {
			return nil, s.abort(err)
		}
		s.bridges = append(s.bridges, b)
	}
	cpuWires, gpuWires := s.wires()
	if s.ep, err = link.New(cpuCfg.ID, cpuWires, lcfg); err != nil {
		return nil, s.abort(err)
	}
	if s.cpu, err = kernel.Boot(cpuCfg, append(cpuMods, s.ep.Module())...); err != nil {
		return nil, s.abort(fmt.Errorf("system: boot %s: %w", cpuCfg.ID, err))
	}
	spec := s.spec
	spec.Bridge = gpuWires
	if err := s.gpu.Boot(spec); err != nil {
		return nil, s.abort(fmt.Errorf("system: boot %s: %w", gpuID, err))
	}
	if err := s.ep.Start(s.cpu); err != nil {
		_, _ = s.gpu.Reset(context.Background())
		return nil, s.abort(err)
	}
	if cfg.Fence {
		if err := s.fence(); err != nil {
			_, _ = s.gpu.Reset(context.Background())
			return nil, s.abort(err)
		}
	}
	if gw != nil {
		if err := gw.start(); err != nil {
			_, _ = s.gpu.Reset(context.Background())
			return nil, s.abort(err)
		}
	}
	s.booted = time.Now()
	s.summary = newSummary(s, len(cfg.CPUModules), len(cfg.GPUModules))
	s.summary.Kernels[1].Why = simWhy
	return s, nil
}

// abort undoes a partial boot and returns err.
func (s *System) abort(err error) error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if s.gw != nil {
		s.gw.stop()
	}
	if s.cpu != nil {
		s.ep.Stop()
		_ = s.cpu.Halt(ctx)
		s.ep.Close()
	}
	_, _ = s.gpu.Halt(ctx) // not booted: it releases what it holds (the daemon's control path)
	s.closeBridges()
	return err
}

// closeBridges releases every transport, current and retired.
func (s *System) closeBridges() {
	for _, b := range append(s.retired, s.bridges...) {
		_ = b.Host.Close()
		_ = b.Dev.Close()
	}
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

// pairUp pairs the bridge channels onto transports — each carries at most
// one channel per direction, the first CPU→GPU channel with the first
// GPU→CPU one (host.rx with host.tx). The CPU kernel is side A of every
// transport.
func pairUp(chans []link.Chan, cpuID string) []pair {
	var down, up []*link.Chan // CPU→GPU, GPU→CPU
	for i := range chans {
		if chans[i].From == cpuID {
			down = append(down, &chans[i])
		} else {
			up = append(up, &chans[i])
		}
	}
	ps := make([]pair, max(len(down), len(up)))
	for i := range ps {
		if i < len(down) {
			ps[i].down = down[i]
		}
		if i < len(up) {
			ps[i].up = up[i]
		}
	}
	return ps
}

// wires returns each kernel's wires over the current transports. A channel
// the CPU kernel sends gets its transport's Ack cell on both ends.
func (s *System) wires() (cpuW, gpuW []link.Wire) {
	for i, p := range s.pairs {
		b := s.bridges[i]
		if p.down != nil {
			cpuW = append(cpuW, link.Wire{Chan: *p.down, T: b.Host, Ack: b.Ack})
			gpuW = append(gpuW, link.Wire{Chan: *p.down, T: b.Dev, Ack: b.Ack})
		}
		if p.up != nil {
			cpuW = append(cpuW, link.Wire{Chan: *p.up, T: b.Host})
			gpuW = append(gpuW, link.Wire{Chan: *p.up, T: b.Dev})
		}
	}
	return cpuW, gpuW
}

// newBridge makes a transport: the backend's own, or in memory.
func (s *System) newBridge() (gpu.Bridge, error) {
	if b, ok := s.gpu.(gpu.Bridger); ok {
		return b.NewBridge(s.bcfg)
	}
	return gpu.MemBridge(s.bcfg)
}

// renewBridge makes b's successor for the GPU kernel's next boot.
func (s *System) renewBridge(b gpu.Bridge) (gpu.Bridge, error) {
	if r, ok := s.gpu.(gpu.Bridger); ok {
		return r.RenewBridge(b, s.bcfg)
	}
	return gpu.RenewMemBridge(b, s.bcfg)
}

// CPU returns the CPU kernel.
func (s *System) CPU() *kernel.Kernel { return s.cpu }

// GPU returns the GPU kernel's backend.
func (s *System) GPU() gpu.Backend { return s.gpu }

// Bridges returns the bridge channels.
func (s *System) Bridges() []link.Chan { return s.chans }

// Summary returns the boot summary ([K1]).
func (s *System) Summary() Summary { return s.summary }

// Links returns the counters of every bridge channel end: the CPU kernel's
// (cumulative across reconnects), those of every GPU kernel a reset ended,
// and the running GPU kernel's; once Halt halted the GPU kernel, their
// final counts (Report.Links).
func (s *System) Links() []link.Stats {
	out := s.ep.Stats()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.halted {
		return append(out, s.final...)
	}
	for _, r := range s.resets {
		out = append(out, r.Links...)
	}
	if !s.down {
		out = append(out, s.gpu.Links()...)
	}
	return out
}

// Resets returns what each reset of the GPU kernel found, in order.
func (s *System) Resets() []gpu.HaltReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.resets)
}

// Disconnect takes the bridge down (what a GPU reset does first): both
// kernels' bridge channels show CHAN_CLOSED.
func (s *System) Disconnect() {
	s.ep.Disconnect()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.bridges {
		b.Host.Disconnect()
		b.Dev.Disconnect()
	}
}

// reset takes the bridge down and resets the GPU kernel ([F4]); the CPU
// kernel keeps running, its producers of bridge channels see CHAN_CLOSED.
func (s *System) reset(ctx context.Context) (gpu.HaltReport, error) {
	s.untie()
	s.Disconnect()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return gpu.HaltReport{}, nil // reset already, not rebooted yet
	}
	r, err := s.gpu.Reset(ctx)
	if err != nil {
		return r, err
	}
	s.resets = append(s.resets, r)
	s.down = true
	return r, nil
}

// reboot boots the reset GPU kernel again ([F4], [B4]): the transports
// are renewed for the next epoch (sequences continuing, Ack cells at 0), the
// GPU kernel boots on them, and the CPU end reconnects — sending first
// every task the old GPU kernel had not acknowledged as handled, flagged
// redelivered — and resumes its bridge channels. ctx bounds the reconnect.
// On an error the GPU kernel is down (reset again if it had booted) and a
// later reboot may succeed.
//
// The CPU end's Detach and Reconnect run without mu: they wait for its
// pumps, which wait for room in the CPU kernel's channels, which its
// handlers make — and a handler may be calling Links.
func (s *System) reboot(ctx context.Context) error {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if !down {
		return nil
	}
	if err := s.ep.Detach(ctx); err != nil { // the CPU end lets go of the old rings before they are renewed
		return fmt.Errorf("system: detach: %w", err)
	}
	cpuW, gpuW, err := s.renewBridges()
	if err != nil {
		return err
	}
	spec := s.spec
	spec.Bridge = gpuW
	if err := s.gpu.Boot(spec); err != nil { // while down, Links does not ask the backend
		return fmt.Errorf("system: reboot %s: %w", s.gpu.Info().ID, err)
	}
	s.mu.Lock()
	s.down = false // Links counts the new kernel's ends from their first task
	s.mu.Unlock()
	if err := s.ep.Reconnect(ctx, cpuW); err != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if r, rerr := s.gpu.Reset(context.Background()); rerr == nil {
			s.resets = append(s.resets, r)
		}
		s.down = true
		return fmt.Errorf("system: reconnect %s: %w", s.gpu.Info().ID, err)
	}
	return nil
}

// renewBridges renews every transport for the GPU kernel's next boot and
// returns both kernels' wires over the new ones.
func (s *System) renewBridges() (cpuW, gpuW []link.Wire, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, b := range s.bridges {
		nb, err := s.renewBridge(b)
		if err != nil {
			return nil, nil, fmt.Errorf("system: renew bridge: %w", err)
		}
		s.retired = append(s.retired, b)
		s.bridges[i] = nb
	}
	cpuW, gpuW = s.wires()
	return cpuW, gpuW, nil
}

// ErrBusy reports a Halt that found the system busy: its context ended
// before the system was quiescent, or a reset had left the GPU kernel down
// (its reboot failed) with tasks on the bridge that only a reboot would
// move (Halt).
var ErrBusy = errors.New("system: halted before the system was quiescent")

// whySim discovers GPUs ([K1]) and says why the system runs the simulated
// GPU kernel: there is none (and NVML's reason), or the one found is driven
// by the CUDA backend of the GPU daemon, which a default build does not link.
func whySim() string {
	ds, err := discover.Devices()
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%s found; its CUDA backend runs in gmk-gpud built with -tags cuda", ds[0].Name)
}
