package watchdog_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/trace"
	"github.com/gmkernel/gmk/modules/watchdog"
)

const (
	hangType = 1000 // hang's handler: meta0 = 1 blocks until released
	workType = 1001
)

// hang is a module whose handler blocks, on a task with meta0 = 1, until the
// test releases it.
type hang struct {
	entered chan int // the worker of a blocking call, when it began
	release chan struct{}
	once    sync.Once
	done    atomic.Uint64 // calls that returned
}

func newHang() *hang { return &hang{entered: make(chan int, 1), release: make(chan struct{})} }

func (h *hang) module() kernel.Module {
	return kernel.Module{Name: "hang", Handlers: []kernel.Handler{{Type: hangType, Fn: func(c *kernel.Ctx) kernel.Status {
		if c.Task().Meta0 == 1 {
			h.entered <- c.Worker()
			<-h.release
		}
		h.done.Add(1)
		return kernel.OK
	}}}}
}

func (h *hang) unblock() { h.once.Do(func() { close(h.release) }) }

// fixture is a kernel booted with a watchdog driven by the test's ticks.
type fixture struct {
	k      *kernel.Kernel
	wd     *watchdog.Watchdog
	ticks  chan time.Time
	events chan watchdog.Event
	resets chan watchdog.Stall
	logs   *observer.ObservedLogs
	polls  uint64
}

// boot wraps watched (only those), adds others unwrapped, and boots.
func boot(t *testing.T, workers int, watched []kernel.Module, others ...kernel.Module) *fixture {
	t.Helper()
	core, logs := observer.New(zapcore.WarnLevel)
	f := &fixture{ticks: make(chan time.Time), events: make(chan watchdog.Event, 64),
		resets: make(chan watchdog.Stall, 8), logs: logs}
	wd, err := watchdog.New(watchdog.Config{Tick: f.ticks, Logger: zap.New(core),
		OnEvent: func(e watchdog.Event) { f.events <- e },
		OnReset: func(k *kernel.Kernel, s watchdog.Stall) error {
			f.resets <- s
			return watchdog.PoisonModule(k, s)
		}})
	if err != nil {
		t.Fatal(err)
	}
	f.wd = wd
	var mods []kernel.Module
	for _, m := range watched {
		mods = append(mods, wd.Wrap(m))
	}
	mods = append(append(mods, others...), wd.Module())
	f.k = modtest.Boot(t, kernel.BootConfig{Workers: workers}, mods...)
	return f
}

// poll makes the watchdog take one sample and waits until it acted on it.
func (f *fixture) poll(t *testing.T) {
	t.Helper()
	f.ticks <- time.Time{}
	f.polls++
	modtest.WaitFor(t, "the poll", func() bool { return f.wd.Stats().Polls == f.polls })
}

// untilEvent polls until a poll raises an event (the released handler's
// return reaches its beat a moment after the test sees it), and returns
// it; only one event is expected.
func (f *fixture) untilEvent(t *testing.T) watchdog.Event {
	t.Helper()
	for {
		f.poll(t)
		if evs := f.next(); len(evs) > 0 {
			if len(evs) != 1 {
				t.Fatalf("events %+v, want one", evs)
			}
			return evs[0]
		}
	}
}

// next returns the events of the last poll (OnEvent runs before the poll
// counts, so they are all in the channel).
func (f *fixture) next() []watchdog.Event {
	var out []watchdog.Event
	for {
		select {
		case e := <-f.events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// [F4] [U2] A handler that blocks: the first poll finds its worker inside
// the call, the 2nd and 3rd find it there again — the 3rd poll is the 2nd
// missed beat and warns (event, zap warning, WATCHDOG trace record, kernel
// counter, a task on watchdog.event); the 6th poll is the 5th miss and
// resets: the hook gets the worker and the module, the worker is reported
// stalled, and the module is poisoned (its next task goes to sys.error)
// while the other worker keeps running. Released, the worker recovers; at
// Halt every task is accounted for (modtest.Halt).
func TestF4_HungHandlerWarnsThenResets(t *testing.T) {
	h := newHang()
	var evSink modtest.Sink
	f := boot(t, 2, []kernel.Module{h.module()},
		evSink.Module("events", "watchdog.event", watchdog.DefaultEventType, modtest.LossyFan))
	t.Cleanup(h.unblock) // before modtest's Halt (cleanups run last-in first-out)
	modtest.Submit(t, f.k, kernel.Task{Type: hangType, Meta0: 1})
	w := <-h.entered

	want := map[int]watchdog.Kind{3: watchdog.Warning, 6: watchdog.Reset}
	for p := 1; p <= 7; p++ {
		f.poll(t)
		evs := f.next()
		kind, ok := want[p]
		if !ok {
			if len(evs) != 0 {
				t.Fatalf("poll %d: events %+v, want none", p, evs)
			}
			continue
		}
		if len(evs) != 1 || evs[0].Kind != kind || evs[0].Worker != w || evs[0].Module != "hang" || evs[0].Misses != p-1 {
			t.Fatalf("poll %d: events %+v, want one %v of worker %d, module hang, %d misses", p, evs, kind, w, p-1)
		}
	}
	if s := <-f.resets; s != (watchdog.Stall{Worker: w, Module: "hang", Misses: 5}) {
		t.Fatalf("reset hook got %+v", s)
	}
	if st := f.wd.Stalled(); len(st) != 1 || st[0].Worker != w || st[0].Module != "hang" {
		t.Fatalf("Stalled() = %+v", st)
	}
	checkReported(t, f, w)

	// The CPU reset: the hung module is poisoned, its next task is an error.
	if !f.k.Poisoned(hangType) {
		t.Fatal("hang's type not poisoned by the reset")
	}
	modtest.Submit(t, f.k, kernel.Task{Type: hangType, Meta0: 2})
	modtest.WaitFor(t, "the poisoned task in sys.error", func() bool { return f.k.Stats().Errored == 1 })

	h.unblock()
	if e := f.untilEvent(t); e.Kind != watchdog.Recovered || e.Worker != w || e.Misses < 6 {
		t.Fatalf("after release: %+v, want Recovered of worker %d", e, w)
	}
	if st := f.wd.Stalled(); len(st) != 0 {
		t.Fatalf("Stalled() after recovery = %+v", st)
	}
	// The events on watchdog.event: checked after the recovery, because the
	// sink's subscription may be homed on the worker that was stuck.
	recs := evSink.Wait(t, 3)
	for i, kind := range []watchdog.Kind{watchdog.Warning, watchdog.Reset, watchdog.Recovered} {
		k, misses := watchdog.SplitReport(recs[i].Task.Meta1)
		if recs[i].Task.Meta0 != uint64(w) || k != kind || (i < 2 && misses != []int{2, 5}[i]) {
			t.Fatalf("watchdog.event %d: %v %d misses, want %v of worker %d", i, k, misses, kind, w)
		}
	}
	if s := f.wd.Stats(); s.Warnings != 1 || s.Resets != 1 || s.Recoveries != 1 || s.Failed != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// checkReported checks the warning and the reset of worker w in the log,
// the trace and the kernel counters.
func checkReported(t *testing.T, f *fixture, w int) {
	t.Helper()
	for _, msg := range []string{"watchdog warning", "watchdog reset"} {
		es := f.logs.FilterMessage(msg).FilterField(zap.Int("worker", w)).FilterField(zap.String("module", "hang")).All()
		if len(es) != 1 || es[0].Level != zapcore.WarnLevel {
			t.Fatalf("log %q: %v", msg, es)
		}
	}
	var kinds []watchdog.Kind
	modtest.WaitFor(t, "two WATCHDOG trace records", func() bool {
		f.k.DrainTrace(func(_ int, r *trace.Record) {
			if r.Event == trace.Watchdog && r.Arg0 == uint64(w) {
				k, _ := watchdog.SplitReport(r.Arg1)
				kinds = append(kinds, k)
			}
		})
		return len(kinds) >= 2
	})
	if len(kinds) != 2 || kinds[0] != watchdog.Warning || kinds[1] != watchdog.Reset {
		t.Fatalf("trace: %v, want warning then reset", kinds)
	}
	for _, name := range []string{"watchdog.warnings", "watchdog.resets"} {
		id, _ := f.k.Metric(name)
		modtest.WaitFor(t, name, func() bool { return f.k.MetricValue(id) == 1 })
	}
}

// [F4] A healthy busy kernel triggers nothing: between two polls the worker
// finishes calls (so no sample finds it inside the call the previous one
// found), and ten polls raise no event.
func TestF4_HealthyBusyKernelQuiet(t *testing.T) {
	var n atomic.Uint64
	work := kernel.Module{Name: "work", Handlers: []kernel.Handler{{Type: workType, Fn: func(*kernel.Ctx) kernel.Status {
		n.Add(1)
		return kernel.OK
	}}}}
	f := boot(t, 1, []kernel.Module{work})
	sent := 0
	for range 10 {
		before := n.Load()
		for range 100 {
			modtest.Submit(t, f.k, kernel.Task{Type: workType})
			sent++
		}
		// Two calls ended: the one a poll may have found has fully returned.
		modtest.WaitFor(t, "two calls to end", func() bool { return n.Load() > before+1 })
		f.poll(t)
		if evs := f.next(); len(evs) != 0 {
			t.Fatalf("poll %d: %+v", f.polls, evs)
		}
	}
	modtest.WaitFor(t, "every task", func() bool { return n.Load() == uint64(sent) })
	if s := f.wd.Stats(); s.Warnings+s.Resets+s.Recoveries != 0 || len(f.wd.Stalled()) != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// A reset hook's error is a ResetFailed event; the worker stays stalled.
func TestF4_ResetHookError(t *testing.T) {
	h := newHang()
	boom := errors.New("boom")
	ticks := make(chan time.Time)
	var got []watchdog.Event
	var mu sync.Mutex
	mods := watchdog.Modules(watchdog.Config{WatchPolicy: kernel.WatchPolicy{Warn: 1, Reset: 1}, Tick: ticks,
		OnReset: func(*kernel.Kernel, watchdog.Stall) error { return boom },
		OnEvent: func(e watchdog.Event) { mu.Lock(); got = append(got, e); mu.Unlock() }}, h.module())
	k := modtest.Boot(t, kernel.BootConfig{Workers: 2}, mods...)
	t.Cleanup(h.unblock)
	modtest.Submit(t, k, kernel.Task{Type: hangType, Meta0: 1})
	<-h.entered
	ticks <- time.Time{} // first sight
	ticks <- time.Time{} // 1st miss: warning, reset, failed
	ticks <- time.Time{} // the previous poll is done
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 || got[0].Kind != watchdog.Warning || got[1].Kind != watchdog.Reset ||
		got[2].Kind != watchdog.ResetFailed || !errors.Is(got[2].Err, boom) {
		t.Fatalf("events %+v", got)
	}
	if k.Poisoned(hangType) {
		t.Fatal("a failing hook poisoned the type")
	}
}

// A bad Config fails New, and Boot through Modules.
func TestConfigValidate(t *testing.T) {
	bad := watchdog.Config{WatchPolicy: kernel.WatchPolicy{Warn: 6, Reset: 5}}
	if _, err := watchdog.New(bad); !errors.Is(err, kernel.ErrConfig) {
		t.Fatalf("New: %v", err)
	}
	if k, err := kernel.Boot(kernel.BootConfig{Workers: 1, ArenaSize: 1 << 20}, watchdog.Modules(bad)...); err == nil {
		modtest.Halt(t, k)
		t.Fatal("Boot accepted a watchdog with warn after reset")
	}
	if _, err := watchdog.New(watchdog.Config{ReportType: 5, EventType: 5}); err == nil {
		t.Fatal("New accepted equal report and event types")
	}
}
