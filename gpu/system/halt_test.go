package system_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/kernel"
)

// flaky is the simulated GPU kernel with faults a test turns on: a
// heartbeat that stands still (the watchdog resets the kernel however it
// runs) and boots refused after the first (every reboot fails). Boot is
// called by the system's Boot, then by its watchdog: one at a time.
type flaky struct {
	*sim.Sim
	frozen, failReboot bool
	boots              int
}

func newFlaky(t *testing.T, frozen, failReboot bool) *flaky {
	t.Helper()
	g, err := sim.New(sim.Config{Workers: 2, Kernel: small})
	if err != nil {
		t.Fatal(err)
	}
	return &flaky{Sim: g, frozen: frozen, failReboot: failReboot}
}

func (f *flaky) Heartbeat() gpu.Heartbeat {
	if f.frozen {
		return gpu.Heartbeat{At: time.Now(), Beats: make([]uint64, f.Info().Workers)}
	}
	return f.Sim.Heartbeat()
}

func (f *flaky) Boot(spec gpu.BootSpec) error {
	if f.boots++; f.failReboot && f.boots > 1 {
		return errors.New("test: reboot refused")
	}
	return f.Sim.Boot(spec)
}

// cpuEnd returns the CPU kernel's end of bridge channel name.
func cpuEnd(t *testing.T, s *system.System, name string) link.Stats {
	t.Helper()
	for _, l := range s.Links() {
		if l.Chan == name && l.Kernel == s.CPU().ID() {
			return l
		}
	}
	t.Fatalf("no CPU end of %s", name)
	return link.Stats{}
}

// linksReader consumes host.tx (8 slots) on the CPU kernel and reads the
// system's Links in every handler call, as any goroutine may; the first
// call waits for proceed after closing inside.
type linksReader struct {
	sys             *system.System // set after Boot, before the first task
	inside, proceed chan struct{}
	once            sync.Once
	calls           atomic.Int64
}

func newLinksReader() *linksReader {
	return &linksReader{inside: make(chan struct{}), proceed: make(chan struct{})}
}

func (r *linksReader) module() kernel.Module {
	return kernel.Module{Name: "mon", Channels: []kernel.ChanDecl{
		{Name: "host.tx", Dir: kernel.Consume, Type: tTx, Guarantee: kernel.Lossless, Slots: 8}},
		Handlers: []kernel.Handler{{Type: tTx, Fn: func(*kernel.Ctx) kernel.Status {
			r.once.Do(func() {
				close(r.inside)
				<-r.proceed
			})
			_ = r.sys.Links()
			r.calls.Add(1)
			return kernel.OK
		}}}}
}

// [K2] Halt does not hold the system's lock while the CPU kernel halts:
// that Halt waits for every worker whatever its context says, and a CPU
// handler may be reading Links (safe from any goroutine). The halt's
// context has ended with the handler in flight, so quiesce gives up; the
// handler reads Links once the CPU kernel's Halt has begun, and Halt
// returns ErrBusy with a report that checks.
func TestK2_HaltWhileCPUHandlerReadsLinks(t *testing.T) {
	mon := newLinksReader()
	s := boot(t, system.Config{CPUModules: []kernel.Module{ingest, mon.module()}, GPUModules: []gpu.Module{gpuEcho(0)}})
	mon.sys = s
	emitInline(t, s.CPU(), 1)
	<-mon.inside
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the halt's context has ended: the rest is cut short
	type result struct {
		r   system.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := s.Halt(ctx)
		done <- result{r, err}
	}()
	waitFor(t, "the CPU kernel's Halt", s.CPU().Halting)
	close(mon.proceed) // Links now, while the CPU kernel's Halt waits for this worker
	select {
	case res := <-done:
		if !errors.Is(res.err, system.ErrBusy) {
			t.Fatalf("halt: %v, want ErrBusy", res.err)
		}
		if err := res.r.Check(); err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Halt hangs: the CPU kernel's Halt waits for a handler that waits for the system's lock")
	}
	if mon.calls.Load() != 1 {
		t.Fatalf("the handler read Links %d times, want 1", mon.calls.Load())
	}
}

// [F4] A reboot does not hold the system's lock while the CPU end detaches
// and reconnects: Detach waits until the pumps have delivered what the old
// rings held, into CPU channels whose handlers may be reading Links. Here
// host.tx backs up behind a held handler, the watchdog resets the GPU
// kernel (its heartbeat stands still) and reboots it right after the reset
// event, and then the handler goes on, reading Links for each of the tasks
// the pump holds back — a reboot holding the lock across its Detach would
// meet one of them and wait out RebootWait (WatchRebootFailed). The reboot
// succeeds, and the halt after it is quiescent.
func TestF4_RebootWhileCPUHandlerReadsLinks(t *testing.T) {
	const n = 300
	mon := newLinksReader()
	g := newFlaky(t, true, false)
	s := boot(t, system.Config{GPU: g, CPUModules: []kernel.Module{ingest, mon.module()}, GPUModules: []gpu.Module{gpuEcho(8)}})
	mon.sys = s
	emitted := (&fault{n: n}).emit(s.CPU())
	<-mon.inside
	waitFor(t, "the host.tx pump held back by a full channel", func() bool { return cpuEnd(t, s, "host.tx").Pending > 0 })
	w := watch(s)
	defer w.stop()
	for range 5 {
		w.sample()
	}
	if got := w.waitKinds(t, 2); !slices.Equal(got, []system.WatchKind{system.WatchWarning, system.WatchReset}) {
		t.Fatalf("watchdog events %v, want warning, reset: %s", got, w.describe())
	}
	close(mon.proceed)
	want := []system.WatchKind{system.WatchWarning, system.WatchReset, system.WatchRebooted}
	if got := w.waitKinds(t, 3); !slices.Equal(got, want) {
		t.Fatalf("watchdog events %v, want %v: %s", got, want, w.describe())
	}
	w.stop()
	if err := <-emitted; err != nil {
		t.Fatal(err)
	}
	r := halt(t, s)
	if !r.Quiescent || len(r.Resets) != 1 {
		t.Fatalf("halt: quiescent %v, %d resets; want a quiescent halt after one reset", r.Quiescent, len(r.Resets))
	}
}

// resetWithoutReboot has the watchdog reset s's GPU kernel (its heartbeat
// stands still, or a handler hangs) and fail to reboot it (flaky), and
// stops the watchdog: the GPU kernel stays down.
func resetWithoutReboot(t *testing.T, s *system.System) {
	t.Helper()
	w := watch(s)
	defer w.stop()
	for range 5 {
		w.sample()
	}
	want := []system.WatchKind{system.WatchWarning, system.WatchReset, system.WatchRebootFailed}
	if got := w.waitKinds(t, 3); !slices.Equal(got, want) {
		t.Fatalf("watchdog events %v, want %v: %s", got, want, w.describe())
	}
}

// [K2] [F4] A reset whose reboot failed leaves the GPU kernel down; a halt
// of the system, idle otherwise, does not wait for a GPU kernel that will
// not come back. With every task handled and acknowledged before the reset,
// nothing is cut short: the halt is quiescent (here with no deadline at
// all but the test's hang guard), and its report checks.
func TestK2_HaltDownIdleSystem(t *testing.T) {
	const n = 100
	st := &store{}
	g := newFlaky(t, true, true)
	s := boot(t, system.Config{GPU: g, CPUModules: []kernel.Module{ingest, st.module()}, GPUModules: []gpu.Module{gpuEcho(0)}})
	emitInline(t, s.CPU(), n)
	waitFor(t, "every task handled and acknowledged", func() bool {
		l := cpuEnd(t, s, "host.rx")
		return st.n.Load() == n && l.Acked == n && l.Unacked == 0
	})
	resetWithoutReboot(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // the hang guard
	defer cancel()
	r, err := s.Halt(ctx)
	if err != nil {
		t.Fatalf("halt of an idle system with its GPU kernel down: %v", err)
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	if !r.Quiescent || len(r.Resets) != 1 || r.Resets[0].Lost {
		t.Fatalf("halt: quiescent %v, resets %d; want a quiescent halt after one reset that stopped its kernel", r.Quiescent, len(r.Resets))
	}
}

// [K2] [F4] A GPU handler hangs on a task; the watchdog resets the kernel
// (left behind, stuck) and the reboot fails, so the task stays with the
// CPU end, unacknowledged, for a redelivery that no kernel will take. The
// halt does not wait for one: it returns ErrBusy at once — not its
// context's end — and says honestly that it was not quiescent. The reset
// kernel, reaped once its handler returned, counts the task completed, and
// the CPU end still counts it unacknowledged.
func TestK2_HaltDownWithTaskHeld(t *testing.T) {
	inside, release := make(chan struct{}), make(chan struct{})
	var in, rel sync.Once
	t.Cleanup(func() { rel.Do(func() { close(release) }) })
	hang := gpu.Module{Name: "hang", Handlers: []gpu.Handler{{Type: tRx, Name: "block",
		Fn: func(*kernel.Ctx, gpu.Lane) kernel.Status {
			in.Do(func() {
				close(inside)
				<-release
			})
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: "host.rx", Dir: kernel.Consume, Type: tRx, Guarantee: kernel.Lossless}}}
	g := newFlaky(t, false, true)
	s := boot(t, system.Config{GPU: g, CPUModules: []kernel.Module{ingest}, GPUModules: []gpu.Module{hang}})
	emitInline(t, s.CPU(), 1)
	<-inside
	resetWithoutReboot(t, s)
	// The left-behind kernel's handler returns: Halt can reap it.
	rel.Do(func() { close(release) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // the hang guard
	defer cancel()
	r, err := s.Halt(ctx)
	if !errors.Is(err, system.ErrBusy) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("halt: %v; want ErrBusy before its context ended", err)
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	if r.Quiescent {
		t.Fatal("halt reported quiescent with a task unacknowledged")
	}
	if len(r.Resets) != 1 || r.Resets[0].Lost || r.Resets[0].Kernel.Stats.Completed != 1 {
		t.Fatalf("resets %+v; want the reaped kernel with its task completed", r.Resets)
	}
	for _, l := range r.Links {
		if l.Chan == "host.rx" && l.Kernel == s.CPU().ID() && l.Unacked != 1 {
			t.Fatalf("CPU end of host.rx: %v; want the task unacknowledged", l)
		}
	}
}
