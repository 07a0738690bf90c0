package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/daemon/daemonpb"
	"github.com/gmkernel/gmk/gpu/sim"
)

// Config configures the daemon backend. Zero fields take defaults.
type Config struct {
	// Exe is the gmk-gpud executable; default "gmk-gpud" beside the
	// running executable, else on PATH.
	Exe string
	// Backend is the daemon's own backend: "sim" (default) or "cuda" (a
	// daemon built with -tags cuda).
	Backend string
	// Sim configures the simulated backend the daemon runs (ID, workers,
	// block threads, batch size, and of Kernel: arena size, queue and EVQ
	// capacities, channels, trace level).
	Sim sim.Config
	// Modules are the GPU modules to boot, from the daemon's catalogue.
	// The host's gpu.BootSpec.Modules (system.Config.GPUModules) must be
	// Modules(these): Boot checks the names.
	Modules []ModuleRef
	// Request bounds one control request (a heartbeat sample, telemetry);
	// default 1 s. A sample that times out counts as a missed heartbeat of
	// every worker.
	Request time.Duration
	// Start bounds a process start until its actor answers; default 30 s.
	Start time.Duration
	// Stderr receives the daemon's standard error; nil: this process's.
	Stderr io.Writer
	// Log is protoactor's log on the host side; nil: discarded.
	Log *slog.Logger
}

// Defaults of Config.
const (
	DefaultRequest = time.Second
	DefaultStart   = 30 * time.Second
)

// Backend is a GPU kernel in a GPU daemon process (DESIGN.md decision 7), as
// the host's gpu_drv sees it: a gpu.Backend whose Boot starts the daemon
// (cmd/gmk-gpud) with the bridge regions and the status page as inherited
// memfds, and boots its kernel over the control path — protoactor remote on
// 127.0.0.1, the kernel's actor being the daemon's ActorName. See the
// package doc.
type Backend struct {
	cfg  Config
	info gpu.Info

	mu      sync.Mutex // Boot, Halt, Reset, NewBridge, RenewBridge: one at a time; guards the fields below
	page    *statusPage
	used    int // status page cells handed out
	sys     *actor.ActorSystem
	rem     *remote.Remote
	regions []*bridge.Shm // of the last Boot, in region order
	wires   []link.Wire   // of the last Boot

	p     atomic.Pointer[proc]         // the running daemon; nil when none
	beats atomic.Pointer[[]uint64]     // the last heartbeat sampled
	links atomic.Pointer[[]link.Stats] // the last links sampled
}

var (
	_ gpu.Backend = (*Backend)(nil)
	_ gpu.Bridger = (*Backend)(nil)
	_ gpu.Mortal  = (*Backend)(nil)
)

// New returns a daemon backend; nothing starts before Boot.
func New(cfg Config) (*Backend, error) {
	if cfg.Backend == "" {
		cfg.Backend = "sim"
	}
	if cfg.Request <= 0 {
		cfg.Request = DefaultRequest
	}
	if cfg.Start <= 0 {
		cfg.Start = DefaultStart
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Exe == "" {
		exe, err := findExe()
		if err != nil {
			return nil, err
		}
		cfg.Exe = exe
	}
	if _, err := Modules(cfg.Modules); err != nil {
		return nil, err
	}
	s, err := sim.New(cfg.Sim)
	if err != nil {
		return nil, err
	}
	info := s.Info()
	info.Backend, info.Device = "daemon", fmt.Sprintf("gmk-gpud --backend %s: %s", cfg.Backend, info.Device)
	return &Backend{cfg: cfg, info: info}, nil
}

// Kind implements gpu.Backend: "daemon".
func (b *Backend) Kind() string { return "daemon" }

// Info implements gpu.Backend.
func (b *Backend) Info() gpu.Info { return b.info }

// Modules returns the GPU modules of the configuration, built on this side
// for their channel declarations (system.Config.GPUModules).
func (b *Backend) Modules() []gpu.Module {
	m, _ := Modules(b.cfg.Modules) // checked by New
	return m
}

// Pid returns the daemon's process id, 0 when none runs.
func (b *Backend) Pid() int {
	if p := b.p.Load(); p != nil {
		return p.cmd.Process.Pid
	}
	return 0
}

// Dead implements gpu.Mortal: closed when the daemon of the last Boot exited.
func (b *Backend) Dead() <-chan struct{} {
	if p := b.p.Load(); p != nil {
		return p.dead
	}
	return nil
}

// Boot implements gpu.Backend: it starts the daemon with the regions of
// spec.Bridge and the status page, waits for its ready line, and boots the
// kernel over the control path. A Boot that fails leaves no daemon and no
// control path running (the next Boot starts one again); the status page
// stays, with the bridges' Ack cells in it, until Halt.
func (b *Backend) Boot(spec gpu.BootSpec) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.p.Load() != nil {
		return gpu.ErrBooted
	}
	if err := b.boot(spec); err != nil {
		b.closeControl()
		return err
	}
	return nil
}

// boot is Boot's work, with no daemon running.
func (b *Backend) boot(spec gpu.BootSpec) error {
	if err := b.checkModules(spec.Modules); err != nil {
		return err
	}
	msg, files, err := b.bootMessage(spec)
	if err != nil {
		return err
	}
	if b.sys == nil {
		b.sys = actor.NewActorSystemWithConfig(actor.Configure(
			actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return b.cfg.Log })))
		b.rem = remote.NewRemote(b.sys, remote.Configure("127.0.0.1", 0))
		b.rem.Start()
	}
	p, err := b.start(files)
	if err != nil {
		return err
	}
	r, err := b.request(p, msg, b.cfg.Start)
	if err == nil {
		if e := r.(*daemonpb.Booted).GetError(); e != "" {
			err = errors.New(e)
		}
	}
	if err != nil {
		b.kill(p)
		return fmt.Errorf("daemon: boot: %w", err)
	}
	b.wires = spec.Bridge
	b.beats.Store(nil)
	b.links.Store(nil)
	b.p.Store(p)
	return nil
}

// checkModules checks that the host's modules are the configuration's.
func (b *Backend) checkModules(mods []gpu.Module) error {
	var want, got []string
	for _, r := range b.cfg.Modules {
		m, _ := Build(r)
		want = append(want, m.Name)
	}
	for _, m := range mods {
		got = append(got, m.Name)
	}
	if !slices.Equal(want, got) {
		return fmt.Errorf("daemon: boot with modules %v, but the daemon is configured with %v (Config.Modules)", got, want)
	}
	return nil
}

// sample asks the running daemon for a heartbeat sample.
func (b *Backend) sample() (*daemonpb.Heartbeat, bool) {
	p := b.p.Load()
	if p == nil {
		return nil, false
	}
	select {
	case <-p.dead:
		return nil, false
	default:
	}
	r, err := b.request(p, &daemonpb.Sample{}, b.cfg.Request)
	if err != nil {
		return nil, false
	}
	h, ok := r.(*daemonpb.Heartbeat)
	if ok {
		ls := linksFromPB(h.GetLinks())
		b.links.Store(&ls)
	}
	return h, ok
}

// Heartbeat implements gpu.Backend. A sample the daemon does not answer in
// time — hung, dead, or not booted — repeats the last beats: every worker
// looks stalled ([F4]).
func (b *Backend) Heartbeat() gpu.Heartbeat {
	h, ok := b.sample()
	if !ok {
		last := make([]uint64, b.info.Workers) // never sampled: zeros, which an unanswered sample repeats
		if p := b.beats.Load(); p != nil {
			last = slices.Clone(*p)
		}
		return gpu.Heartbeat{At: time.Now(), Beats: last}
	}
	beats := h.GetBeats()
	b.beats.Store(&beats)
	return gpu.Heartbeat{At: time.Unix(0, h.GetAtUnixNano()), Beats: slices.Clone(beats)}
}

// Quiescent implements gpu.Backend (false when the daemon does not answer).
func (b *Backend) Quiescent() bool {
	h, ok := b.sample()
	return ok && h.GetQuiescent()
}

// Links implements gpu.Backend: the daemon's bridge ends, as last sampled
// when it does not answer.
func (b *Backend) Links() []link.Stats {
	if _, ok := b.sample(); !ok && b.p.Load() == nil {
		return nil
	}
	if l := b.links.Load(); l != nil {
		return slices.Clone(*l)
	}
	return nil
}

// Halt implements gpu.Backend: the kernel halts in the daemon (waiting
// until ctx ends), the daemon exits, and the control path closes.
func (b *Backend) Halt(ctx context.Context) (gpu.HaltReport, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.shutdown()
	p := b.p.Load()
	if p == nil {
		return gpu.HaltReport{}, gpu.ErrNotBooted
	}
	d := DefaultStart
	if dl, ok := ctx.Deadline(); ok {
		d = max(time.Until(dl), time.Millisecond)
	}
	var rep gpu.HaltReport
	r, err := b.request(p, &daemonpb.Halt{TimeoutNs: int64(d)}, d+b.cfg.Request)
	if err == nil {
		h := r.(*daemonpb.Halted)
		rep.Kernel.Queued, rep.Kernel.Stats = h.GetQueued(), statsFromPB(h.GetStats())
		rep.Links, rep.LivePayloads = linksFromPB(h.GetLinks()), int(h.GetLivePayloads())
		if e := h.GetError(); e != "" {
			err = errors.New(e)
		}
		_, _ = b.request(p, &daemonpb.Exit{}, b.cfg.Request)
		_ = p.stdin.Close()
		select {
		case <-p.dead:
		case <-ctx.Done():
			b.kill(p)
		case <-time.After(b.cfg.Start):
			b.kill(p)
		}
	} else {
		b.kill(p)
		rep = b.lost()
	}
	b.p.Store(nil)
	return rep, err
}

// Reset implements gpu.Backend: the daemon is killed (SIGKILL) — a hung
// kernel, or one already dead — and reaped. Its kernel's report is Lost;
// its bridge ends are counted from the rings (lost).
func (b *Backend) Reset(context.Context) (gpu.HaltReport, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.p.Load()
	if p == nil {
		return gpu.HaltReport{}, gpu.ErrNotBooted
	}
	b.kill(p)
	b.p.Store(nil)
	return b.lost(), nil
}

// shutdown ends the control path and releases the status page (Halt).
func (b *Backend) shutdown() {
	b.closeControl()
	if b.page != nil {
		_ = b.page.close()
		b.page, b.used = nil, 0
	}
}

// closeControl ends the control path, if it runs: the remote's gRPC server
// and the host's ActorSystem.
func (b *Backend) closeControl() {
	if b.rem != nil {
		b.rem.Shutdown(false)
		b.sys.Shutdown()
		b.rem, b.sys = nil, nil
	}
}
