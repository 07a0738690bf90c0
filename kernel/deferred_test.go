package kernel

// Tests of the control-plane API the actor layer stands on: deferred
// supervisor decisions ([X2]), external module lifecycle ([X1]) and
// catch-all channel handlers subscribed from outside ([X3]).

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel/task"
)

// fxDeferSup defers every hard failure and hands the tickets to the test;
// RETRY keeps the built-in policy. With early set it resolves inside Decide,
// before the worker parked the task.
type fxDeferSup struct {
	tickets chan uint64
	early   func(*Failure) (Decision, bool)
	k       atomic.Pointer[Kernel]
}

func (s *fxDeferSup) Decide(f *Failure) Decision {
	if f.Status == Retry {
		return (&Backoff{Policy: RetryPolicy{Max: 8, Min: time.Microsecond, Cap: time.Millisecond}}).Decide(f)
	}
	if s.early != nil {
		if d, ok := s.early(f); ok {
			if err := s.k.Load().Resolve(f.Ticket, d); err != nil {
				panic(err)
			}
			return Decision{Action: ActDefer}
		}
	}
	s.tickets <- f.Ticket
	return Decision{Action: ActDefer}
}

// [X2] Each deferred action has its effect once resolved from another
// goroutine: retry (the task runs again and succeeds), error (sys.error with
// the handler's code), poison (sys.error with POISONED, types poisoned),
// restart (Fini+Init, then retry). The accounting identity holds.
func TestX2_DeferredDecisions(t *testing.T) {
	const tWork, tSink = 1, 9
	for _, tc := range []struct {
		act                Action
		completed, errored uint64
		code               Status
		restarts           uint64
	}{
		{act: ActRetry, completed: 1},
		{act: ActError, errored: 1, code: FailCode(-7)},
		{act: ActPoison, errored: 1, code: task.Poisoned},
		{act: ActRestart, completed: 1, restarts: 1},
	} {
		t.Run(tc.act.String(), func(t *testing.T) {
			var runs, inits atomic.Int64
			m := Module{Name: "flaky", Init: func(*Ctx) error { inits.Add(1); return nil },
				Handlers: []Handler{{Type: tWork, Fn: func(*Ctx) Status {
					if runs.Add(1) == 1 {
						return FailCode(-7)
					}
					return OK
				}}}}
			sink := &fxSink{}
			sup := &fxDeferSup{tickets: make(chan uint64, 1)}
			k := fxBoot(t, BootConfig{Workers: 2, Supervisor: sup}, m, sink.module("sink", tSink, SysError))
			if err := k.Submit(Task{Type: tWork}); err != nil {
				t.Fatal(err)
			}
			ticket := <-sup.tickets
			fxWait(t, "the deferred task", func() bool { return k.pending() == 1 })
			if err := k.Resolve(ticket, Decision{Action: tc.act}); err != nil {
				t.Fatal(err)
			}
			if err := k.Resolve(ticket, Decision{Action: tc.act}); !errors.Is(err, ErrTicket) {
				t.Fatalf("second Resolve: %v, want ErrTicket", err)
			}
			fxWait(t, "the outcome", func() bool {
				s := k.Stats()
				return s.Completed == tc.completed+tc.errored && k.pending() == 0 // sys.error reports complete too
			})
			r := haltOK(t, k)
			checkIdentity(t, r)
			if r.Stats.Errored != tc.errored || r.Stats.Restarts != tc.restarts {
				t.Fatalf("stats %+v, want errored %d restarts %d", r.Stats, tc.errored, tc.restarts)
			}
			if tc.errored > 0 && len(sink.byCode(tc.code)) != 1 {
				t.Fatalf("no sys.error report with code %v: %+v", tc.code, sink.reports)
			}
			if got := k.Poisoned(tWork); got != (tc.act == ActPoison) {
				t.Fatalf("poisoned = %v", got)
			}
			if want := int64(1 + tc.restarts); inits.Load() != want {
				t.Fatalf("Init ran %d times, want %d", inits.Load(), want)
			}
		})
	}
}

// [X2] A decision that arrives before the worker parked the task (the
// supervisor answers at once, on another goroutine) is applied all the same.
func TestX2_DeferredResolvedEarly(t *testing.T) {
	const typ = 1
	var runs atomic.Int64
	m := Module{Name: "m", Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status {
		runs.Add(1)
		if c.Task().Aux == 0 { // first run of each task
			panic("first run")
		}
		return OK
	}}}}
	sup := &fxDeferSup{early: func(*Failure) (Decision, bool) { return Decision{Action: ActRetry}, true }}
	k, err := Boot(BootConfig{Workers: 2, Supervisor: sup, Poison: PoisonPolicy{Failures: 1000, Window: 1}}, m)
	if err != nil {
		t.Fatal(err)
	}
	sup.k.Store(k)
	const n = 200
	for range n {
		if err := k.Submit(Task{Type: typ}); err != nil {
			t.Fatal(err)
		}
	}
	fxWait(t, "every task", func() bool { return k.Stats().Completed == n })
	r := haltOK(t, k)
	checkIdentity(t, r)
	if r.Stats.Retried != n || r.Stats.Panics != n || runs.Load() != 2*n {
		t.Fatalf("retried %d panics %d runs %d, want %d, %d, %d", r.Stats.Retried, r.Stats.Panics, runs.Load(), n, n, 2*n)
	}
}

// [X2][K2] A failure still waiting for its decision at Halt is counted as
// queued and its payload released; Resolve afterwards is refused; bad
// tickets are refused.
func TestX2_DeferredAtHalt(t *testing.T) {
	const typ = 1
	m := Module{Name: "m", Handlers: []Handler{{Type: typ, Fn: func(*Ctx) Status { return Fail }}}}
	sup := &fxDeferSup{tickets: make(chan uint64, 1)}
	k := fxBoot(t, BootConfig{Workers: 1, Supervisor: sup}, m)
	h, _, err := k.Alloc(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Submit(Task{Type: typ, Payload: h}); err != nil {
		t.Fatal(err)
	}
	ticket := <-sup.tickets
	if err := k.Resolve(ticket+100, Decision{}); !errors.Is(err, ErrTicket) {
		t.Fatalf("unknown ticket: %v", err)
	}
	if err := k.Resolve(ticket, Decision{Action: ActDefer}); err == nil {
		t.Fatal("Resolve accepted ActDefer")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := k.Halt(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Halt: %v, want the deadline (a task was waiting)", err)
	}
	r, _ := k.Halted()
	checkIdentity(t, r)
	if r.Queued != 1 || k.LivePayloads() != 0 {
		t.Fatalf("queued %d live payloads %d, want 1 and 0", r.Queued, k.LivePayloads())
	}
	if err := k.Resolve(ticket, Decision{Action: ActRetry}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Resolve after Halt: %v", err)
	}
}

// [X1] With ExternalLifecycle, Boot and Halt leave Init and Fini to the
// owner: InitModule/FiniModule run them, a second Init counts as a restart,
// PoisonModule poisons the module's types; unknown names are errors.
func TestX1_ExternalLifecycle(t *testing.T) {
	var inits, finis atomic.Int64
	m := Module{Name: "owned", Handlers: []Handler{{Type: 1, Fn: func(*Ctx) Status { return OK }}},
		Init: func(*Ctx) error { inits.Add(1); return nil },
		Fini: func(*Ctx) error { finis.Add(1); return nil }}
	k := fxBoot(t, BootConfig{Workers: 1, ExternalLifecycle: true}, m)
	if inits.Load() != 0 {
		t.Fatal("Boot ran Init")
	}
	for i := range 2 {
		if err := k.InitModule("owned"); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := k.FiniModule("owned"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := k.PoisonModule("owned"); err != nil || !k.Poisoned(1) {
		t.Fatalf("PoisonModule: %v", err)
	}
	for _, err := range []error{k.InitModule("nope"), k.FiniModule("nope"), k.PoisonModule("nope")} {
		if !errors.Is(err, ErrConfig) {
			t.Fatalf("unknown module: %v", err)
		}
	}
	r := haltOK(t, k)
	if inits.Load() != 2 || finis.Load() != 1 || r.Stats.Restarts != 1 {
		t.Fatalf("inits %d finis %d restarts %d, want 2 1 1", inits.Load(), finis.Load(), r.Stats.Restarts)
	}
}

// [C3] A catch-all handler subscribed from outside with ChanSubscribe (what
// the channel actors of [X3] stand on)
// receives every delivery of a typed channel, each naming its subscriber
// index; a module without such a handler is refused.
func TestC3_ChanSubscribeCatchAll(t *testing.T) {
	const typ = 5
	var mu sync.Mutex
	got := map[int][]uint64{}
	relay := Module{Name: "relay", Handlers: []Handler{{Type: AnyType, Fn: func(c *Ctx) Status {
		mu.Lock()
		got[c.Task().Subscriber()] = append(got[c.Task().Subscriber()], c.Task().Meta0)
		mu.Unlock()
		return OK
	}}}}
	plain := Module{Name: "plain", Handlers: []Handler{{Type: 6, Fn: func(*Ctx) Status { return OK }}}}
	k := fxBoot(t, BootConfig{Workers: 2}, relay, plain)
	id, err := k.ChanOpen(ChanSpec{Name: "test.ev", Type: typ, Mode: FanOut, Guarantee: Lossless})
	if err != nil {
		t.Fatal(err)
	}
	a, err := k.ChanSubscribe(id, "relay", AnyType)
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.ChanSubscribe(id, "relay", AnyType)
	if err != nil || a == b {
		t.Fatalf("second subscription: %d %d %v", a, b, err)
	}
	if _, err := k.ChanSubscribe(id, "plain", 6); !errors.Is(err, ErrChanTypeMismatch) {
		t.Fatalf("typed handler of another type: %v", err)
	}
	if _, err := k.ChanSubscribe(id, "nope", AnyType); !errors.Is(err, ErrConfig) {
		t.Fatalf("unknown module: %v", err)
	}
	const n = 100
	for i := range n {
		if err := k.ChanEmitWait(context.Background(), id, Task{Type: typ, Meta0: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	fxWait(t, "deliveries", func() bool { mu.Lock(); defer mu.Unlock(); return len(got[a]) == n && len(got[b]) == n })
	checkIdentity(t, haltOK(t, k))
	for _, s := range []int{a, b} {
		for i, v := range got[s] {
			if v != uint64(i) {
				t.Fatalf("subscriber %d got %d at %d: out of order", s, v, i)
			}
		}
	}
}

// [C7][C10] ChanPause stops a subscription's draining from outside the
// workers: the lossless queue fills and emitters get CHAN_FULL; resuming
// delivers everything, in order.
func TestC7_ChanPauseBackpressure(t *testing.T) {
	const typ = 5
	var got []uint64
	var mu sync.Mutex
	relay := Module{Name: "relay", Handlers: []Handler{{Type: AnyType, Fn: func(c *Ctx) Status {
		mu.Lock()
		got = append(got, c.Task().Meta0)
		mu.Unlock()
		return OK
	}}}}
	k := fxBoot(t, BootConfig{Workers: 2}, relay)
	id, err := k.ChanOpen(ChanSpec{Name: "test.paused", Type: typ, Mode: P2P, Guarantee: Lossless, Slots: 64})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := k.ChanSubscribe(id, "relay", AnyType)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.ChanPause(id, sub, true); err != nil {
		t.Fatal(err)
	}
	if err := k.ChanPause(id, sub+1, true); !errors.Is(err, ErrChanUnknown) {
		t.Fatalf("pause of a missing subscriber: %v", err)
	}
	n := 0
	for ; n < 1000; n++ {
		if err := k.ChanEmit(id, Task{Type: typ, Meta0: uint64(n)}); err != nil {
			if !errors.Is(err, ErrChanFull) {
				t.Fatal(err)
			}
			break
		}
	}
	if n == 1000 || n == 0 {
		t.Fatalf("a paused subscription took %d tasks before CHAN_FULL", n)
	}
	time.Sleep(5 * time.Millisecond) // the workers had their chance to drain
	mu.Lock()
	early := len(got)
	mu.Unlock()
	if early != 0 {
		t.Fatalf("%d deliveries ran while paused", early)
	}
	if err := k.ChanPause(id, sub, false); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "the deliveries", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == n })
	checkIdentity(t, haltOK(t, k))
	for i, v := range got {
		if v != uint64(i) {
			t.Fatalf("delivery %d carries %d", i, v)
		}
	}
}

// [X1][X2] While a module is held (its restart), none of its handlers runs:
// InitModule and FiniModule never overlap a handler, tasks that arrive wait
// and run after the release, and nothing is lost.
func TestX1_HoldStopsHandlers(t *testing.T) {
	var running, overlaps, ran atomic.Int64
	m := Module{Name: "held", Handlers: []Handler{{Type: 1, Fn: func(*Ctx) Status {
		running.Add(1)
		time.Sleep(10 * time.Microsecond)
		running.Add(-1)
		ran.Add(1)
		return OK
	}}},
		Init: func(*Ctx) error {
			if running.Load() != 0 {
				overlaps.Add(1)
			}
			return nil
		},
		Fini: func(*Ctx) error {
			if running.Load() != 0 {
				overlaps.Add(1)
			}
			return nil
		}}
	k := fxBoot(t, BootConfig{Workers: 2, ExternalLifecycle: true}, m)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a steady stream of tasks for the module
		defer wg.Done()
		for i := 0; i < 20000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			for k.Submit(Task{Type: 1, Meta0: uint64(i)}) != nil {
			}
			if i%64 == 0 {
				time.Sleep(10 * time.Microsecond)
			}
		}
	}()
	for range 20 { // restarts under load
		if err := k.HoldModule("held"); err != nil {
			t.Fatal(err)
		}
		if running.Load() != 0 {
			t.Fatal("a handler runs while the module is held")
		}
		if err := k.FiniModule("held"); err != nil {
			t.Fatal(err)
		}
		before := ran.Load()
		time.Sleep(200 * time.Microsecond)
		if ran.Load() != before {
			t.Fatal("handlers ran during the hold")
		}
		if err := k.InitModule("held"); err != nil {
			t.Fatal(err)
		}
		if err := k.ReleaseModule("held"); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	r := haltOK(t, k)
	checkIdentity(t, r)
	if overlaps.Load() != 0 || r.Stats.Completed != uint64(ran.Load()) || r.Stats.Errored != 0 {
		t.Fatalf("overlaps %d, completed %d ran %d, errored %d", overlaps.Load(), r.Stats.Completed, ran.Load(), r.Stats.Errored)
	}
}

// [S7] No work stealing: follow-up tasks a handler emits stay in its
// worker's LQ and run on that worker, even while the other worker is idle
// and could have taken them.
func TestS7_NoWorkStealing(t *testing.T) {
	const tSeed, tFollow, n = 1, 2, 500 // n below the LQ's watermark
	var seedWorker atomic.Int64
	var elsewhere, ran atomic.Int64
	m := Module{Name: "m", Handlers: []Handler{
		{Type: tSeed, Fn: func(c *Ctx) Status {
			seedWorker.Store(int64(c.Worker()))
			for i := range n {
				if err := c.Emit(Task{Type: tFollow, Meta0: uint64(i)}); err != nil {
					return FailCode(-1)
				}
			}
			return OK
		}},
		{Type: tFollow, Fn: func(c *Ctx) Status {
			if int64(c.Worker()) != seedWorker.Load() {
				elsewhere.Add(1)
			}
			time.Sleep(time.Microsecond) // long enough for an idle worker to steal, if it did
			ran.Add(1)
			return OK
		}}}}
	k := fxBoot(t, BootConfig{Workers: 2, LQCap: 2048}, m)
	if err := k.Submit(Task{Type: tSeed}); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "the follow-ups", func() bool { return ran.Load() == n })
	checkIdentity(t, haltOK(t, k))
	if elsewhere.Load() != 0 {
		t.Fatalf("%d of %d follow-ups ran on another worker", elsewhere.Load(), n)
	}
}
