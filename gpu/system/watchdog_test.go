package system_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// seen is one task as a handler saw it.
type seen struct {
	meta0       uint64
	redelivered bool
}

// seenLog records what a handler saw.
type seenLog struct {
	mu  sync.Mutex
	all []seen
}

func (l *seenLog) add(t *kernel.Task) {
	l.mu.Lock()
	l.all = append(l.all, seen{t.Meta0, t.Flags&task.Redelivered != 0})
	l.mu.Unlock()
}

func (l *seenLog) get() []seen {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.all)
}

// distinct returns how many different meta0 values below n were seen.
func (l *seenLog) distinct(n int) int {
	got := map[uint64]bool{}
	for _, s := range l.get() {
		if s.meta0 < uint64(n) {
			got[s.meta0] = true
		}
	}
	return len(got)
}

// onceOrFlagged checks that every meta0 below n was seen, and that each was
// seen without the Redelivered flag at most once: a task handled twice is
// handled again only as a redelivery.
func onceOrFlagged(t *testing.T, what string, l *seenLog, n int) {
	t.Helper()
	plain, any := make([]int, n), make([]int, n)
	for _, s := range l.get() {
		any[s.meta0]++
		if !s.redelivered {
			plain[s.meta0]++
		}
	}
	for i := range n {
		if any[i] == 0 || plain[i] > 1 {
			t.Fatalf("%s: task %d seen %d times, %d of them not flagged redelivered", what, i, any[i], plain[i])
		}
	}
}

// fault is the fault-test setup shared by the in-process and the daemon
// backends: a GPU module that forwards host.rx to host.tx and hangs — a
// handler that never returns until released — on its first sight of task
// hangAt; a CPU store of host.tx; a CPU-only channel cpu.local whose
// handler counts.
type fault struct {
	n, hangAt int
	release   chan struct{}
	relOnce   sync.Once
	gpuSaw    seenLog
	stored    seenLog
	local     atomic.Int64
}

const tLocal = 5

func newFault(t *testing.T, n, hangAt int) *fault {
	f := &fault{n: n, hangAt: hangAt, release: make(chan struct{})}
	t.Cleanup(f.unhang)
	return f
}

func (f *fault) unhang() { f.relOnce.Do(func() { close(f.release) }) }

func (f *fault) cpuModules() []kernel.Module {
	store := kernel.Module{Name: "store",
		Channels: []kernel.ChanDecl{{Name: "host.tx", Dir: kernel.Consume, Type: tTx, Guarantee: kernel.Lossless}},
		Handlers: []kernel.Handler{{Type: tTx, Fn: func(c *kernel.Ctx) kernel.Status { f.stored.add(c.Task()); return kernel.OK }}}}
	local := kernel.Module{Name: "local",
		Channels: []kernel.ChanDecl{
			{Name: "cpu.local", Dir: kernel.Produce, Type: tLocal, Guarantee: kernel.Lossless},
			{Name: "cpu.local", Dir: kernel.Consume, Type: tLocal, Guarantee: kernel.Lossless}},
		Handlers: []kernel.Handler{{Type: tLocal, Fn: func(*kernel.Ctx) kernel.Status { f.local.Add(1); return kernel.OK }}}}
	return []kernel.Module{ingest, store, local}
}

func (f *fault) gpuModule() gpu.Module {
	return gpu.Module{Name: "hang", Handlers: []gpu.Handler{{Type: tRx, Name: "forward",
		Fn: func(c *kernel.Ctx, _ gpu.Lane) kernel.Status {
			t := c.Task()
			if t.Meta0 == uint64(f.hangAt) && t.Flags&task.Redelivered == 0 {
				<-f.release // a handler that never returns (until the test ends)
			}
			out, err := c.Kernel().Chan("host.tx")
			if err != nil {
				return kernel.Fail
			}
			x := *t
			x.Type = tTx
			switch err := c.ChanEmit(out, x); {
			case errors.Is(err, kernel.ErrChanFull):
				return kernel.Retry // held until host.tx has room
			case err != nil:
				return kernel.Fail // CHAN_CLOSED: a kernel left behind by a reset
			}
			f.gpuSaw.add(t)
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{
			{Name: "host.rx", Dir: kernel.Consume, Type: tRx, Guarantee: kernel.Lossless},
			{Name: "host.tx", Dir: kernel.Produce, Type: tTx, Guarantee: kernel.Lossless}}}
}

// emit sends n tasks on host.rx from its own goroutine, like any client:
// ChanEmitWait holds it while the hung GPU kernel backs the bridge up, and
// while the bridge is down (CHAN_CLOSED) it tries again.
func (f *fault) emit(k *kernel.Kernel) <-chan error {
	done := make(chan error, 1)
	id, err := k.Chan("host.rx")
	if err != nil {
		done <- err
		return done
	}
	go func() {
		for i := 0; i < f.n; {
			err := k.ChanEmitWait(context.Background(), id, kernel.Task{Type: tRx, Meta0: uint64(i)})
			if errors.Is(err, kernel.ErrChanClosed) {
				time.Sleep(50 * time.Microsecond)
				continue
			}
			if err != nil {
				done <- err
				return
			}
			i++
		}
		done <- nil
	}()
	return done
}

// watcher drives a watchdog sample by sample and records its events.
type watcher struct {
	ticks  chan time.Time
	mu     sync.Mutex
	events []system.WatchEvent
	stop   func()
}

func watch(s *system.System) *watcher {
	w := &watcher{ticks: make(chan time.Time)}
	w.stop = s.Watch(system.WatchConfig{Tick: w.ticks, ResetWait: 20 * time.Millisecond, RebootWait: 30 * time.Second,
		OnEvent: func(e system.WatchEvent) {
			w.mu.Lock()
			w.events = append(w.events, e)
			w.mu.Unlock()
		}})
	return w
}

func (w *watcher) sample() { w.ticks <- time.Now() }

func (w *watcher) kinds() []system.WatchKind {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []system.WatchKind
	for _, e := range w.events {
		out = append(out, e.Kind)
	}
	return out
}

// describe lists the events with their errors.
func (w *watcher) describe() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for _, e := range w.events {
		fmt.Fprintf(&b, "%v (misses %d, err %v); ", e.Kind, e.Misses, e.Err)
	}
	return b.String()
}

// waitKinds waits until n events happened and returns them.
func (w *watcher) waitKinds(t *testing.T, n int) []system.WatchKind {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(w.kinds()) < n && time.Now().Before(deadline) {
		time.Sleep(100 * time.Microsecond)
	}
	return w.kinds()
}

// localTask runs one task on the CPU-only channel and waits for it: the
// CPU kernel keeps taking and running work.
func (f *fault) localTask(t *testing.T, k *kernel.Kernel) {
	t.Helper()
	id, err := k.Chan("cpu.local")
	if err != nil {
		t.Fatal(err)
	}
	want := f.local.Load() + 1
	if err := k.ChanEmit(id, kernel.Task{Type: tLocal}); err != nil {
		t.Fatalf("the CPU kernel refused a local task: %v", err)
	}
	waitFor(t, "a local task on the CPU kernel", func() bool { return f.local.Load() == want })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// samples is the watchdog's part in a hang: five samples, a local CPU task
// running after each.
func (f *fault) samples(t *testing.T, s *system.System) func(*watcher) {
	return func(w *watcher) {
		for range 5 {
			w.sample()
			f.localTask(t, s.CPU()) // the CPU kernel keeps running throughout
		}
	}
}

// stalled reports whether a GPU worker's beat stood still between two
// samples.
func stalled(s *system.System) bool {
	h1 := s.GPU().Heartbeat()
	return len(s.GPU().Heartbeat().Stalled(h1)) > 0
}

// run is the fault test proper, for any backend: it starts the producer,
// waits until fault holds (the GPU kernel hangs; nil: at once), starts the
// watchdog and runs during, then checks the watchdog's events, the
// recovery and the accounting. inProc: the GPU handlers' own record
// (gpuSaw) is visible to the test.
func (f *fault) run(t *testing.T, s *system.System, fault func() bool, during func(*watcher), wantFirst []system.WatchKind, inProc bool) system.Report {
	k := s.CPU()
	emitted := f.emit(k)
	if fault != nil {
		waitFor(t, "the fault", fault)
	}
	w := watch(s)
	defer w.stop()
	during(w)
	got := w.waitKinds(t, len(wantFirst))
	if !slices.Equal(got, wantFirst) {
		t.Fatalf("watchdog events %v, want %v: %s", got, wantFirst, w.describe())
	}
	if err := <-emitted; err != nil {
		t.Fatal(err)
	}
	// Every task the CPU kernel handed to host.rx is acknowledged as
	// handled by a GPU kernel: the old one, or — redelivered — the new one.
	waitFor(t, "every task acknowledged after the reboot", func() bool {
		for _, l := range s.Links() {
			if l.Chan == "host.rx" && l.Dir == link.Out && l.Kernel == k.ID() {
				return l.Acked == uint64(f.n) && l.Unacked == 0 && l.Queued == 0
			}
		}
		return false
	})
	for range 3 { // the new GPU kernel beats: nothing more happens
		w.sample()
		f.localTask(t, k)
	}
	if got := w.kinds(); len(got) != len(wantFirst) {
		t.Fatalf("events after the reboot: %v", got[len(wantFirst):])
	}
	w.stop()
	f.unhang() // a left-behind kernel's handler returns: Halt can reap it
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := s.Halt(ctx)
	if err != nil {
		t.Fatalf("halt after the reset: %v", err)
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	if !r.Quiescent || len(r.Resets) != 1 || r.Redelivered() == 0 {
		t.Fatalf("halt: quiescent %v, %d resets, %d redelivered; want a quiescent halt after one reset, with redeliveries", r.Quiescent, len(r.Resets), r.Redelivered())
	}
	if inProc {
		onceOrFlagged(t, "GPU handler", &f.gpuSaw, f.n)
	}
	// The results: each stored at most once unflagged, and every one stored:
	// a task is acknowledged only once the results its handler emitted have
	// left the GPU kernel (Ctx.PublishChanStats makes the count exact), so a
	// result the reset kernel still held belongs to an unacknowledged task,
	// which is redelivered and answered again.
	plain := map[uint64]int{}
	for _, x := range f.stored.get() {
		if !x.redelivered {
			if plain[x.meta0]++; plain[x.meta0] > 1 {
				t.Fatalf("result %d stored twice unflagged", x.meta0)
			}
		}
	}
	missing := uint64(f.n - f.stored.distinct(f.n))
	var held uint64
	for _, g := range r.Resets {
		held += g.Kernel.Queued
	}
	if missing > 0 {
		t.Fatalf("%d results missing (the reset kernel held %d tasks): lost across the reset", missing, held)
	}
	for _, l := range r.Links {
		t.Log(l)
	}
	t.Logf("%d of %d results stored; %d held by the reset kernel; %d tasks redelivered", f.stored.distinct(f.n), f.n, held, r.Redelivered())
	return r
}

// [F4] [F5] [B4] Acceptance 17, in process: a GPU handler that never
// returns stalls its worker. Two samples in a row raise a WATCHDOG warning,
// five reset the GPU kernel — the bridge goes down, CHAN_CLOSED on both
// sides, and the simulated kernel, which cannot stop a stuck goroutine, is
// left behind — and the same sample reboots it: new transports for the next
// epoch, a new GPU kernel, the CPU end reconnected. The CPU kernel runs its
// own tasks throughout. Nothing handed to the bridge is lost: every task
// the old GPU kernel had not acknowledged as handled — the hung one, those
// queued behind it, those in the ring — is sent again, flagged
// redelivered, so every task reaches the CPU store, and a task handled
// twice is handled the second time as a redelivery. Halt reaps the
// left-behind kernel and its report checks across both GPU kernels.
func TestF4_WatchdogResetRebootRedeliver(t *testing.T) {
	f := newFault(t, 3000, 700)
	s := boot(t, system.Config{CPUModules: f.cpuModules(), GPUModules: []gpu.Module{f.gpuModule()}})
	hung := func() bool { return len(f.gpuSaw.get()) >= f.hangAt && stalled(s) }
	r := f.run(t, s, hung, f.samples(t, s), []system.WatchKind{system.WatchWarning, system.WatchReset, system.WatchRebooted}, true)
	if g := r.Resets[0]; g.Lost || len(g.Links) == 0 {
		t.Fatalf("the reset kernel's report: lost %v, %d links; want its reaped report", g.Lost, len(g.Links))
	}
}

// [F4] Watch's stop may be called from several goroutines at once (a
// user's and Halt's), and again later: each call returns once the
// watchdog has ended, without a panic. (stop used to check, then close
// its quit channel: two calls could both close it. That window is too
// narrow for this test to hit on demand — 2000 rounds did not — so it
// guards the behaviour, not that race; the sync.Once closes it.)
func TestF4_WatchStopFromManyGoroutines(t *testing.T) {
	s := boot(t, system.Config{CPUModules: []kernel.Module{ingest}, GPUModules: []gpu.Module{gpuEcho(0)}})
	for range 50 {
		stop := s.Watch(system.WatchConfig{Tick: make(chan time.Time)})
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				stop()
			}()
		}
		close(start)
		wg.Wait()
		stop() // once more, after it ended
	}
	s.Watch(system.WatchConfig{Tick: make(chan time.Time)}) // Halt stops this one
	halt(t, s)
}
