package sim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sched"
)

// Config configures the simulated GPU kernel. Zero fields take defaults.
type Config struct {
	ID           string // kernel identity; default "gpu.0"
	Workers      int    // resident worker blocks (goroutines); default max(2, GOMAXPROCS)
	BlockThreads int    // threads per block: the lanes of a BLOCK handler; default 128
	BatchSize    int    // tasks per gathered batch, at most 32 ([G3]); default 32
	// Kernel holds further kernel settings (arena size, queue sizes, retry,
	// tracing, logger …). ID, Role, Workers, BatchSize, Policy and
	// SortBatch are the simulator's and are overwritten.
	Kernel kernel.BootConfig
	// TraceEvery is how often the trace pump ships the kernel's trace
	// records to the CPU over gpu.TraceChan, when the kernel boots with a
	// wire for it ([O4], trace.go); default 1 ms.
	TraceEvery time.Duration
}

// Defaults of Config.
const (
	DefaultID           = "gpu.0"
	DefaultBlockThreads = 128
	MaxBatch            = gpu.WarpSize
)

// WithDefaults returns c with every zero field set.
func (c Config) WithDefaults() Config {
	c.ID = cmp.Or(c.ID, DefaultID)
	c.Workers = cmp.Or(c.Workers, max(2, runtime.GOMAXPROCS(0)))
	c.BlockThreads = cmp.Or(c.BlockThreads, DefaultBlockThreads)
	c.BatchSize = cmp.Or(c.BatchSize, MaxBatch)
	c.TraceEvery = cmp.Or(c.TraceEvery, time.Millisecond)
	return c
}

// Validate reports a configuration the simulator cannot run.
func (c Config) Validate() error {
	switch {
	case c.BatchSize < 1 || c.BatchSize > MaxBatch:
		return fmt.Errorf("gpu/sim: batch size %d out of range [1, %d]", c.BatchSize, MaxBatch)
	case c.BlockThreads < gpu.WarpSize || c.BlockThreads > 1024 || c.BlockThreads%gpu.WarpSize != 0:
		return fmt.Errorf("gpu/sim: %d threads per block: want a multiple of %d up to 1024", c.BlockThreads, gpu.WarpSize)
	case c.Workers < 1:
		return fmt.Errorf("gpu/sim: %d workers", c.Workers)
	}
	return nil
}

// Sim is the simulated GPU kernel: a gpu.Backend that runs a GMK kernel in
// this process with the GPU scheduling policy. See the package doc.
type Sim struct {
	cfg Config

	mu      sync.Mutex // Boot, Halt, Reset: one at a time; guards k, ep, halting, zombies
	k       *kernel.Kernel
	ep      *link.Endpoint
	tp      *tracePump // ships traces over gpu.TraceChan; nil when the kernel has no such wire
	halting *halting   // a Halt that has not returned yet
	// zombies are kernels Resets left behind with a worker stuck in a
	// handler: each halts on its own goroutine, and Halt reaps them.
	zombies []zombie

	// workers are the worker blocks of the last Boot, published for
	// Heartbeat (which must not wait behind a Halt holding mu); each Boot
	// makes new ones, which its handlers capture.
	workers atomic.Pointer[[]worker]
}

// stuckGrace is how long the workers have to stop once a Halt's or Reset's
// context ended (they finish the batch they run) before a worker that has
// not is taken to be stuck in a handler.
const stuckGrace = 100 * time.Millisecond

// halting is a kernel Halt running on its own goroutine.
type halting struct {
	done chan struct{}
	err  error // written before done closes
}

// zombie is a kernel a Reset could not stop: a worker is stuck in a
// handler, and its Halt goroutine finishes once the handler returns.
type zombie struct {
	k  *kernel.Kernel
	ep *link.Endpoint
	h  *halting
}

var _ gpu.Backend = (*Sim)(nil)

// New returns a simulated GPU kernel, not yet booted.
func New(cfg Config) (*Sim, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Sim{cfg: cfg}, nil
}

// Kind implements gpu.Backend: "sim".
func (s *Sim) Kind() string { return "sim" }

// Info implements gpu.Backend.
func (s *Sim) Info() gpu.Info {
	kc := s.kernelConfig(gpu.BootSpec{}).WithDefaults()
	return gpu.Info{ID: s.cfg.ID, Backend: "sim", Device: "simulated GPU (Go worker blocks)",
		Workers: s.cfg.Workers, BlockThreads: s.cfg.BlockThreads, WarpSize: gpu.WarpSize,
		BatchSize: s.cfg.BatchSize, Memory: int64(kc.ArenaSize)}
}

// kernelConfig is the GPU kernel's boot configuration: the GPU policy
// (type-bucketed GRQ with aging, [S3]), batches of up to 32 dispatched
// sorted by type ([G1]), role compute ([K3]).
func (s *Sim) kernelConfig(spec gpu.BootSpec) kernel.BootConfig {
	kc := s.cfg.Kernel
	kc.ID, kc.Role, kc.Workers, kc.BatchSize = s.cfg.ID, kernel.RoleCompute, s.cfg.Workers, s.cfg.BatchSize
	kc.Policy, kc.SortBatch = sched.PolicyGRQ, true
	if spec.Tenants != 0 {
		kc.Tenants = spec.Tenants
	}
	if spec.MaxTypes != 0 {
		kc.MaxTypes = spec.MaxTypes
	}
	return kc
}

// Boot implements gpu.Backend: it boots the kernel with spec's modules and
// the bridge's relay module, then starts the bridge ends.
func (s *Sim) Boot(spec gpu.BootSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.k != nil {
		return gpu.ErrBooted
	}
	ep, err := link.New(s.cfg.ID, spec.Bridge, spec.Link)
	if err != nil {
		return err
	}
	gmods := append(append([]gpu.Module(nil), spec.Modules...), gpu.FromKernel(ep.Module()))
	tw, traced := s.traceWire(spec.Bridge)
	if traced {
		gmods = append(gmods, tracer(tw))
	}
	shared := 0
	for _, m := range gmods {
		if err := m.Validate(); err != nil {
			return err
		}
		for _, h := range m.Handlers {
			shared = max(shared, h.SharedBytes)
		}
	}
	ws := make([]worker, s.cfg.Workers)
	for i := range ws {
		ws[i].shared = make([]byte, shared)
	}
	mods := make([]kernel.Module, 0, len(gmods))
	for _, m := range gmods {
		mods = append(mods, s.module(m, ws))
	}
	k, err := kernel.Boot(s.kernelConfig(spec), mods...)
	if err != nil {
		return fmt.Errorf("gpu/sim: boot %s: %w", s.cfg.ID, err)
	}
	if err := ep.Start(k); err != nil {
		_ = k.Halt(context.Background())
		return err
	}
	var tp *tracePump
	if traced {
		if tp, err = startTracePump(k, tw, s.cfg.TraceEvery, ep.Module().Name); err != nil {
			ep.Stop()
			_ = k.Halt(context.Background())
			ep.Close()
			return err
		}
	}
	s.k, s.ep, s.tp = k, ep, tp
	s.workers.Store(&ws)
	return nil
}

// Kernel returns the running GMK kernel (nil when not booted): the
// simulated device's internals, for tests and tools. The host talks to a
// GPU kernel only through the bridge.
func (s *Sim) Kernel() *kernel.Kernel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.k
}

// Endpoint returns the running kernel's end of the bridge channels (nil
// when not booted): gpu/system ties the lanes of the two kernels with it
// (link.Fence).
func (s *Sim) Endpoint() *link.Endpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ep
}

// Heartbeat implements gpu.Backend.
func (s *Sim) Heartbeat() gpu.Heartbeat {
	h := gpu.Heartbeat{At: time.Now()}
	if ws := s.workers.Load(); ws != nil {
		h.Beats = heartbeat(*ws)
	}
	return h
}

// Quiescent implements gpu.Backend.
func (s *Sim) Quiescent() bool {
	k := s.Kernel()
	return k == nil || k.Quiescent()
}

// Links implements gpu.Backend.
func (s *Sim) Links() []link.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ep == nil {
		return nil
	}
	return s.ep.Stats()
}

// Halt implements gpu.Backend. It also reaps the kernels earlier Resets
// left behind stuck (HaltReport.Reaped), waiting for them until ctx ends
// (then ErrStuck); without a running kernel it only reaps them, and returns
// ErrNotBooted.
func (s *Sim) Halt(ctx context.Context) (gpu.HaltReport, error) {
	r, err := s.stop(ctx, false)
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.zombies) > 0 {
		z := s.zombies[0]
		select {
		case <-z.h.done:
		case <-ctx.Done():
			return r, errors.Join(err, fmt.Errorf("%w: a kernel left behind by a reset: %w", gpu.ErrStuck, ctx.Err()))
		}
		z.ep.Close()
		kr, _ := z.k.Halted()
		r.Reaped = append(r.Reaped, gpu.HaltReport{Kernel: kr, Links: z.ep.Stats(), LivePayloads: z.k.LivePayloads()})
		s.zombies = s.zombies[1:]
	}
	return r, err
}

// Reset implements gpu.Backend: the bridge goes down first, then the kernel
// halts without draining. A worker stuck in a handler cannot be stopped in
// a process (a device reset, or killing the daemon, can): when ctx ends
// first, the kernel is left behind to finish its halt once the handler
// returns (Halt reaps it), the report says Lost and Stuck, and the backend
// can Boot a new kernel at once.
func (s *Sim) Reset(ctx context.Context) (gpu.HaltReport, error) {
	return s.stop(ctx, true)
}

func (s *Sim) stop(ctx context.Context, reset bool) (gpu.HaltReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.k == nil {
		return gpu.HaltReport{}, gpu.ErrNotBooted
	}
	k, ep := s.k, s.ep
	if s.halting == nil {
		s.tp.halt()
		s.tp = nil
		if reset {
			ep.Disconnect()
		}
		ep.Stop()
		hctx := ctx
		if reset {
			c, cancel := context.WithCancel(ctx)
			cancel() // no draining: workers stop after their batch
			hctx = c
		}
		h := &halting{done: make(chan struct{})}
		s.halting = h
		go func() {
			h.err = k.Halt(hctx)
			close(h.done)
		}()
	}
	h := s.halting
	select {
	case <-h.done:
	case <-ctx.Done(): // the workers stop after their batch now; only a stuck one does not
		select {
		case <-h.done:
		case <-time.After(stuckGrace):
			if !reset {
				// The report says what is known: the bridge ends (their
				// senders stopped with ep.Stop, so what they sent is final)
				// and that the kernel's own counts are not — a System's
				// Check then balances the rings with what was sent.
				return gpu.HaltReport{Links: ep.Stats(), Lost: true, Stuck: true}, fmt.Errorf("%w: %w", gpu.ErrStuck, ctx.Err())
			}
			s.zombies = append(s.zombies, zombie{k: k, ep: ep, h: h})
			s.k, s.ep, s.halting = nil, nil, nil
			s.workers.Store(nil)
			return gpu.HaltReport{Links: ep.Stats(), Lost: true, Stuck: true}, nil
		}
	}
	ep.Close()
	r, _ := k.Halted()
	s.k, s.ep, s.halting = nil, nil, nil
	rep := gpu.HaltReport{Kernel: r, Links: ep.Stats(), LivePayloads: k.LivePayloads()}
	if reset {
		return rep, nil // a reset does not drain: what was queued is counted, not an error
	}
	return rep, h.err
}
