package timer_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/timer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// firing is what the clock sink saw: a firing and the kernel time it ran at.
type firing struct {
	id, n uint64
	at    time.Duration
}

// clockSink consumes a fire channel and records each firing with c.Now().
type clockSink struct {
	mu  sync.Mutex
	got []firing
}

func (s *clockSink) module(ch string, typ uint32) kernel.Module {
	return kernel.Module{Name: "sink-" + ch,
		Handlers: []kernel.Handler{{Type: typ, Fn: func(c *kernel.Ctx) kernel.Status {
			s.mu.Lock()
			s.got = append(s.got, firing{c.Task().Meta0, c.Task().Meta1, time.Duration(c.Now())})
			s.mu.Unlock()
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: ch, Dir: kernel.Consume, Type: typ, Guarantee: kernel.Lossless}},
	}
}

func (s *clockSink) firings() []firing {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]firing(nil), s.got...)
}

type fixture struct {
	k           *kernel.Kernel
	clk         *modtest.Clock
	set, cancel sdk.Port
	tm          *timer.Timer
}

func newFixture(t *testing.T, cfg timer.Config, mods ...kernel.Module) *fixture {
	t.Helper()
	f := &fixture{clk: &modtest.Clock{}}
	var err error
	if f.tm, err = timer.New(cfg); err != nil {
		t.Fatal(err)
	}
	f.k = modtest.Boot(t, kernel.BootConfig{Clock: f.clk.Now}, append([]kernel.Module{f.tm.Module()}, mods...)...)
	t.Cleanup(func() { // before modtest's: the clock must move for parked timers to leave the EVQ
		done := make(chan struct{})
		go func() {
			defer close(done)
			modtest.Halt(t, f.k)
		}()
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Microsecond):
				f.clk.Add(timer.DefaultStep)
			}
		}
	})
	if f.set, err = sdk.Dial(f.k, "timer.set"); err != nil {
		t.Fatal(err)
	}
	if f.cancel, err = sdk.Dial(f.k, "timer.cancel"); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) setTimer(t *testing.T, s sdk.TimerSpec) {
	t.Helper()
	if err := sdk.EmitValue(context.Background(), f.k, f.set, 0, 0, 0, &s); err != nil {
		t.Fatal(err)
	}
}

// handled waits until n tasks of type typ were handled (succeeded or failed).
func (f *fixture) handled(t *testing.T, typ uint32, n int) {
	t.Helper()
	modtest.WaitFor(t, "requests handled", func() bool {
		s := f.k.TypeStats(typ)
		return s.OK+s.Fail >= uint64(n)
	})
}

// drained waits until nothing is in flight: no timer is parked on the EVQ
// (the caller knows none is set) and every task ended.
func (f *fixture) drained(t *testing.T) {
	t.Helper()
	modtest.WaitFor(t, "the kernel to drain", func() bool { return f.k.Stats().InFlight() == 0 })
}

// step moves the clock by d and waits for the firings to reach n.
func (f *fixture) step(t *testing.T, s *clockSink, d time.Duration, n int) {
	t.Helper()
	f.clk.Add(d)
	modtest.WaitFor(t, "firings", func() bool { return len(s.firings()) >= n })
}

// [U2], [U1] once, repeat, cancel and replace, at exact kernel times: a
// one-shot fires once at its due time; a repeating timer fires on its grid
// with numbered firings until cancelled; a replaced timer fires only as the
// replacement; nothing fires early.
func TestU2_TimerOnceRepeatCancel(t *testing.T) {
	var s clockSink
	f := newFixture(t, timer.Config{}, s.module("timer.fire", timer.DefaultTickType))
	ms := time.Millisecond
	f.setTimer(t, sdk.TimerSpec{ID: 1, Delay: int64(10 * ms)})
	f.setTimer(t, sdk.TimerSpec{ID: 2, Delay: int64(5 * ms), Period: int64(5 * ms)})
	f.setTimer(t, sdk.TimerSpec{ID: 3, Delay: int64(100 * ms)})
	f.setTimer(t, sdk.TimerSpec{ID: 3, Delay: int64(15 * ms)}) // replaces the 100 ms one
	f.handled(t, timer.DefaultSetType, 4)
	f.step(t, &s, 5*ms, 1) // 5 ms: 2#1 (an early firing would show another time)
	f.step(t, &s, 5*ms, 3) // 10 ms: 1#1, 2#2
	f.step(t, &s, 5*ms, 5) // 15 ms: 2#3, 3#1
	if err := sdk.EmitInline(context.Background(), f.k, f.cancel, 0, 2, 0); err != nil {
		t.Fatal(err)
	}
	if err := sdk.EmitInline(context.Background(), f.k, f.cancel, 0, 99, 0); err != nil { // unknown: no-op
		t.Fatal(err)
	}
	modtest.WaitFor(t, "the cancel", func() bool { return f.tm.Len() == 0 })
	f.clk.Add(200 * ms) // past the replaced 100 ms timer and many periods of 2
	f.drained(t)
	got := s.firings()
	want := map[firing]bool{{2, 1, 5 * ms}: true, {1, 1, 10 * ms}: true, {2, 2, 10 * ms}: true,
		{2, 3, 15 * ms}: true, {3, 1, 15 * ms}: true}
	if len(got) != len(want) {
		t.Fatalf("firings %v, want %v", got, want)
	}
	for _, g := range got {
		if !want[g] {
			t.Fatalf("unexpected firing %+v in %v", g, got)
		}
	}
}

// [U2] A late kernel skips missed grid points instead of bursting: a 10 ms
// timer whose clock jumps 35 ms fires once (#2 at 45 ms) and its next
// firing is on the grid at 50 ms.
func TestU2_TimerSkipsMissedPeriods(t *testing.T) {
	var s clockSink
	f := newFixture(t, timer.Config{}, s.module("timer.fire", timer.DefaultTickType))
	ms := time.Millisecond
	f.setTimer(t, sdk.TimerSpec{ID: 7, Delay: int64(10 * ms), Period: int64(10 * ms)})
	f.handled(t, timer.DefaultSetType, 1)
	f.step(t, &s, 10*ms, 1)
	f.step(t, &s, 35*ms, 2)
	f.step(t, &s, 5*ms, 3)
	got := s.firings()
	want := []firing{{7, 1, 10 * ms}, {7, 2, 45 * ms}, {7, 3, 50 * ms}}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("firings %v, want %v", got, want)
		}
	}
}

// [U2] A timer can fire on its own channel and type, set by a handler
// through the SDK; bad specs and a full table fail the set request with
// their codes on sys.error.
func TestU2_TimerOwnChannelAndErrors(t *testing.T) {
	const tArm, tTick = 1, 2
	var s clockSink
	var errs modtest.Sink
	var set sdk.Port
	var mine kernel.ChanID
	client := kernel.Module{Name: "client",
		Handlers: []kernel.Handler{{Type: tArm, Fn: func(c *kernel.Ctx) kernel.Status {
			return sdk.SetTimer(c, set, sdk.TimerSpec{ID: c.Task().Meta0, Delay: int64(c.Task().Meta1), Chan: mine, Type: tTick})
		}}},
		Channels: []kernel.ChanDecl{{Name: "timer.set", Dir: kernel.Produce, Type: timer.DefaultSetType, Guarantee: kernel.Lossless}},
		Init: func(c *kernel.Ctx) (err error) {
			if set, err = sdk.Dial(c.Kernel(), "timer.set"); err != nil {
				return err
			}
			mine, err = c.Kernel().Chan("client.tick")
			return err
		},
	}
	f := newFixture(t, timer.Config{MaxTimers: 2}, client, s.module("client.tick", tTick),
		errs.Module("errs", kernel.SysError, 3, modtest.LossyFan))
	modtest.Submit(t, f.k, kernel.Task{Type: tArm, Meta0: 1, Meta1: uint64(time.Millisecond)})
	modtest.Submit(t, f.k, kernel.Task{Type: tArm, Meta0: 2, Meta1: uint64(time.Hour)})
	modtest.WaitFor(t, "two timers", func() bool { return f.tm.Len() == 2 })
	modtest.Submit(t, f.k, kernel.Task{Type: tArm, Meta0: 3, Meta1: 1}) // table full
	f.setTimer(t, sdk.TimerSpec{ID: 0, Delay: 1})                       // id 0
	f.setTimer(t, sdk.TimerSpec{ID: 4, Delay: -1})                      // negative delay
	if err := sdk.EmitBytes(context.Background(), f.k, f.set, 0, 0, 0, []byte("short")); err != nil {
		t.Fatal(err)
	}
	e := errs.Wait(t, 4)
	codes := map[kernel.Status]int{}
	for _, r := range e {
		codes[r.Code]++
	}
	if codes[sdk.CodeFull] != 1 || codes[sdk.CodeBadRequest] != 3 {
		t.Fatalf("error codes %v, want 1 CodeFull and 3 CodeBadRequest", codes)
	}
	f.step(t, &s, time.Millisecond, 1)
	if got := s.firings(); got[0] != (firing{1, 1, time.Millisecond}) {
		t.Fatalf("firing %+v on client.tick", got[0])
	}
}

// [K2] Halt is not held up by timers: with a repeating timer and a timer an
// hour ahead, on the real clock, Halt finishes (within a Step), nothing is
// left queued, and the accounting holds.
func TestK2_TimerHaltPrompt(t *testing.T) {
	var s clockSink
	tm, err := timer.New(timer.Config{Step: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	k := modtest.Boot(t, kernel.BootConfig{}, tm.Module(), s.module("timer.fire", timer.DefaultTickType))
	set, _ := sdk.Dial(k, "timer.set")
	for _, sp := range []sdk.TimerSpec{{ID: 1, Delay: 0, Period: int64(time.Millisecond)}, {ID: 2, Delay: int64(time.Hour)}} {
		if err := sdk.EmitValue(context.Background(), k, set, 0, 0, 0, &sp); err != nil {
			t.Fatal(err)
		}
	}
	modtest.WaitFor(t, "the repeating timer to fire", func() bool { return len(s.firings()) >= 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := k.Halt(ctx); err != nil {
		t.Fatalf("halt: %v", err)
	}
	r := modtest.Halt(t, k)
	if r.Queued != 0 || tm.Len() != 0 {
		t.Fatalf("queued %d, %d timers left", r.Queued, tm.Len())
	}
}
