package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/daemon/daemonpb"
	"github.com/gmkernel/gmk/gpu/sim"
)

// ActorName is the name of the GPU kernel's actor in the daemon's
// ActorSystem: its PID is actor.NewPID(address, ActorName).
const ActorName = "gmk-gpud"

// ReadyPrefix starts the line a daemon prints on its standard output once
// its actor listens: "gmk-gpud ready <address>".
const ReadyPrefix = "gmk-gpud ready "

// File descriptors of a daemon process: the status page, then the bridge
// regions in order.
const (
	StatusFD = 3
	RegionFD = 4
)

// ErrNoCUDA is what a daemon built without -tags cuda answers to
// --backend cuda.
var ErrNoCUDA = errors.New("cuda backend: built with -tags cuda only")

// ServeConfig configures a daemon process (cmd/gmk-gpud).
type ServeConfig struct {
	Backend string // "sim"; "cuda" is refused (ErrNoCUDA) unless a CUDA backend is linked in
	// NewBackend makes the backend named Backend other than "sim" (the
	// cuda build sets it); nil: "sim" only.
	NewBackend func(name string, c sim.Config) (gpu.Backend, error)
	Host       string // control address; default 127.0.0.1
	Port       int    // control port; 0: any free one
	// File returns the file of descriptor fd, inherited from the host
	// (os.NewFile in the daemon; tests may pass their own).
	File func(fd int) *os.File
	Out  io.Writer     // the ready line
	In   io.Reader     // the host's end: EOF (the host is gone) ends the daemon; nil: none
	Log  *slog.Logger  // protoactor's and the daemon's log; nil: discarded
	Stop chan struct{} // closed: stop serving (tests); nil: none
}

// Serve runs a GPU daemon until the host asks it to exit (daemonpb.Exit),
// its input ends, ctx ends or Stop closes: an ActorSystem with remote on
// Host:Port, the GPU kernel's actor (ActorName), the ready line on Out. The
// actor boots, samples and halts the kernel on request; the bridge regions
// and the status page come from the inherited descriptors. A kernel still
// running when Serve returns is halted without draining.
func Serve(ctx context.Context, cfg ServeConfig) error {
	if cfg.Backend != "sim" && cfg.NewBackend == nil {
		if cfg.Backend == "cuda" {
			return ErrNoCUDA
		}
		return fmt.Errorf("daemon: unknown backend %q (want sim or cuda)", cfg.Backend)
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.File == nil {
		cfg.File = func(fd int) *os.File { return os.NewFile(uintptr(fd), fmt.Sprint("fd", fd)) }
	}
	lg := cfg.Log
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	sys := actor.NewActorSystemWithConfig(actor.Configure(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return lg })))
	rem := remote.NewRemote(sys, remote.Configure(cfg.Host, cfg.Port))
	rem.Start()
	defer func() {
		rem.Shutdown(false)
		sys.Shutdown()
	}()
	exit := make(chan struct{})
	k := &kernelActor{cfg: cfg, exit: exit}
	pid, err := sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return k }), ActorName)
	if err != nil {
		return fmt.Errorf("daemon: spawn %s: %w", ActorName, err)
	}
	defer func() { _ = sys.Root.StopFuture(pid).Wait() }()
	if _, err := fmt.Fprintf(cfg.Out, "%s%s\n", ReadyPrefix, sys.Address()); err != nil {
		return err
	}
	hostGone := make(chan struct{})
	if cfg.In != nil {
		go func() {
			_, _ = io.Copy(io.Discard, bufio.NewReader(cfg.In))
			close(hostGone)
		}()
	}
	select {
	case <-exit:
	case <-hostGone:
	case <-ctx.Done():
	case <-cfg.Stop:
	}
	return nil
}

// kernelActor is the GPU kernel as a remote actor (DESIGN.md decision 7):
// boot, sample (heartbeats, telemetry), halt, exit. Its state belongs to its
// Receive; a request answered late (a Halt draining) holds the others back,
// which is what a device driver's queue does too.
type kernelActor struct {
	cfg     ServeConfig
	exit    chan struct{}
	b       gpu.Backend
	sim     *sim.Sim // b when it is the simulated backend (Kernel, LivePayloads)
	regions []*bridge.Shm
	page    *statusPage
}

func (a *kernelActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *daemonpb.Boot:
		info, err := a.boot(m)
		r := &daemonpb.Booted{Info: infoToPB(info)}
		if err != nil {
			r.Error = err.Error()
		}
		c.Respond(r)
	case *daemonpb.Sample:
		c.Respond(a.sample())
	case *daemonpb.Halt:
		c.Respond(a.halt(time.Duration(m.GetTimeoutNs())))
	case *daemonpb.Exit:
		c.Respond(&daemonpb.Exit{})
		select {
		case <-a.exit:
		default:
			close(a.exit)
		}
	case *actor.Stopping:
		if a.b != nil { // the daemon ends with its kernel running: no draining
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, _ = a.b.Halt(ctx)
			a.release()
		}
	}
}

// boot maps the regions and the status page, builds the modules and boots
// the kernel.
func (a *kernelActor) boot(m *daemonpb.Boot) (gpu.Info, error) {
	if a.b != nil {
		return a.b.Info(), gpu.ErrBooted
	}
	sc := simFromPB(m.GetSim())
	var err error
	if a.cfg.Backend == "sim" {
		a.sim, err = sim.New(sc)
		a.b = a.sim
	} else {
		a.b, err = a.cfg.NewBackend(a.cfg.Backend, sc)
	}
	if err != nil {
		a.b = nil
		return gpu.Info{}, err
	}
	info := a.b.Info()
	spec, err := a.spec(m)
	if err == nil {
		err = a.b.Boot(spec)
	}
	if err != nil {
		a.b, a.sim = nil, nil
		a.release()
		return info, err
	}
	return info, nil
}

// spec turns a Boot message into the backend's BootSpec, mapping what it
// needs of the inherited files.
func (a *kernelActor) spec(m *daemonpb.Boot) (gpu.BootSpec, error) {
	mods, err := Modules(refsFromPB(m.GetModules()))
	if err != nil {
		return gpu.BootSpec{}, err
	}
	spec := gpu.BootSpec{Modules: mods, Link: linkFromPB(m.GetLink()), Tenants: int(m.GetTenants()), MaxTypes: int(m.GetMaxTypes())}
	for _, w := range m.GetWires() {
		r := int(w.GetRegion())
		for len(a.regions) <= r {
			s, err := bridge.OpenShm(a.cfg.File(RegionFD + len(a.regions)))
			if err != nil {
				return gpu.BootSpec{}, fmt.Errorf("daemon: bridge region %d: %w", len(a.regions), err)
			}
			a.regions = append(a.regions, s)
		}
		lw := link.Wire{Chan: chanFromPB(w.GetChan()), T: a.regions[r]}
		if i := int(w.GetAck()); i >= 0 {
			if a.page == nil {
				if a.page, err = openStatusPage(a.cfg.File(StatusFD)); err != nil {
					return gpu.BootSpec{}, err
				}
			}
			if i >= maxCells {
				return gpu.BootSpec{}, fmt.Errorf("daemon: acknowledgement cell %d out of range", i)
			}
			lw.Ack = a.page.cell(i)
		}
		spec.Bridge = append(spec.Bridge, lw)
	}
	return spec, nil
}

// sample answers a heartbeat request with the beats and the telemetry.
func (a *kernelActor) sample() *daemonpb.Heartbeat {
	if a.b == nil {
		return &daemonpb.Heartbeat{AtUnixNano: time.Now().UnixNano(), Quiescent: true}
	}
	h := a.b.Heartbeat()
	r := &daemonpb.Heartbeat{AtUnixNano: h.At.UnixNano(), Beats: h.Beats, Quiescent: a.b.Quiescent(), Links: linksToPB(a.b.Links())}
	if a.sim != nil {
		if k := a.sim.Kernel(); k != nil {
			r.Stats = statsToPB(k.Stats())
			r.LivePayloads = int64(k.LivePayloads())
		}
	}
	return r
}

// halt halts the kernel in order, waiting at most d.
func (a *kernelActor) halt(d time.Duration) *daemonpb.Halted {
	if a.b == nil {
		return &daemonpb.Halted{Error: gpu.ErrNotBooted.Error()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	r, err := a.b.Halt(ctx)
	a.b, a.sim = nil, nil
	a.release()
	out := &daemonpb.Halted{Queued: r.Kernel.Queued, Stats: statsToPB(r.Kernel.Stats), Links: linksToPB(r.Links),
		LivePayloads: int64(r.LivePayloads)}
	if err != nil {
		out.Error = err.Error()
	}
	return out
}

// release unmaps the regions and the status page.
func (a *kernelActor) release() {
	for _, r := range a.regions {
		_ = r.Close()
	}
	a.regions = nil
	if a.page != nil {
		_ = a.page.close()
		a.page = nil
	}
}
