package kernel

// Spec tests of faults ([F1]–[F3], the [X2] supervisor hook; GMK.md
// acceptance 10): retries with backoff on an injected clock, RETRY_LIMIT,
// soft failures to the channel's error handler or sys.error, recovered
// panics, rate-based poison, and the Restart and Stop directives.

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel/task"
	"github.com/gmkernel/gmk/kernel/trace"
)

// [F2] BackoffDelay: min·2ⁿ capped, times a jitter factor in [1-j, 1+j],
// clamped to [min, cap] — checked for every n against its window, at both
// ends of the random range and for many random draws.
func TestF2_BackoffDelayTable(t *testing.T) {
	p := RetryPolicy{Min: time.Millisecond, Cap: time.Second, Jitter: 0.2}
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	for _, tc := range []struct {
		n      int
		lo, hi time.Duration
	}{
		{0, ms(1), ms(1.2)}, // 0.8 ms is clamped up to min
		{1, ms(1.6), ms(2.4)},
		{2, ms(3.2), ms(4.8)},
		{3, ms(6.4), ms(9.6)},
		{9, ms(409.6), ms(614.4)},
		{10, ms(800), time.Second}, // 1.024 s is over the cap
		{39, ms(800), time.Second},
		{40, ms(800), time.Second},
		{1000, ms(800), time.Second},
	} {
		rng := uint64(0x9E3779B97F4A7C15)
		rs := []uint64{0, ^uint64(0)}
		for range 1000 {
			rng ^= rng << 13
			rng ^= rng >> 7
			rng ^= rng << 17
			rs = append(rs, rng)
		}
		seenLo, seenHi := false, false
		for _, r := range rs {
			d := BackoffDelay(p, tc.n, r)
			if d < tc.lo || d > tc.hi {
				t.Fatalf("n=%d r=%#x: delay %v outside [%v, %v]", tc.n, r, d, tc.lo, tc.hi)
			}
			seenLo = seenLo || d < tc.lo+(tc.hi-tc.lo)/4
			seenHi = seenHi || d > tc.hi-(tc.hi-tc.lo)/4
		}
		if !seenLo || !seenHi {
			t.Fatalf("n=%d: jitter does not spread over [%v, %v]", tc.n, tc.lo, tc.hi)
		}
	}
	exact := RetryPolicy{Min: time.Millisecond, Cap: 100 * time.Millisecond}
	for n, want := range []time.Duration{ms(1), ms(2), ms(4), ms(8), ms(16), ms(32), ms(64), ms(100), ms(100)} {
		if d := BackoffDelay(exact, n, 12345); d != want {
			t.Fatalf("no jitter: n=%d delay %v, want %v", n, d, want)
		}
	}
}

// [F2] Backoff.Decide: RETRY is retried with BackoffDelay until the per-task
// retry count reaches the limit (per type when Limits says so), then
// RETRY_LIMIT; every other failure goes to the error path with its own code.
func TestF2_BackoffDecide(t *testing.T) {
	pol := RetryPolicy{Max: 3, Min: time.Millisecond, Cap: time.Second, Jitter: 0.2}
	b := &Backoff{Policy: pol, Limits: func(typ uint32) int { return map[uint32]int{7: 1}[typ] }}
	for _, tc := range []struct {
		typ     uint32
		st      Status
		retries int
		act     Action
		code    Status
	}{
		{1, Retry, 0, ActRetry, 0},
		{1, Retry, 2, ActRetry, 0},
		{1, Retry, 3, ActError, task.RetryLimit},
		{7, Retry, 0, ActRetry, 0},
		{7, Retry, 1, ActError, task.RetryLimit},
		{1, Fail, 0, ActError, 0},
		{1, FailCode(-42), 0, ActError, 0},
		{1, task.Panicked, 0, ActError, 0},
		{1, task.YieldLimit, 0, ActError, 0},
	} {
		f := &Failure{Task: Task{Type: tc.typ}, Status: tc.st, Retries: tc.retries, Rand: 99}
		d := b.Decide(f)
		if d.Action != tc.act || d.Code != tc.code {
			t.Fatalf("type %d %v retries %d: got %v/%v, want %v/%v", tc.typ, tc.st, tc.retries, d.Action, d.Code, tc.act, tc.code)
		}
		if d.Action == ActRetry && d.Delay != BackoffDelay(pol, tc.retries, 99) {
			t.Fatalf("retry %d: delay %v, want BackoffDelay %v", tc.retries, d.Delay, BackoffDelay(pol, tc.retries, 99))
		}
	}
}

// fxAwaitLoop returns once worker w has run at least one full loop (a
// gather) after the call: two wake-ups, each after the call, have a gather
// between them.
func fxAwaitLoop(t *testing.T, k *Kernel, w int) {
	t.Helper()
	w0 := k.workers[w].wakes.Load()
	fxWait(t, "a worker loop", func() bool { return k.workers[w].wakes.Load() >= w0+2 })
}

// [F2] With a test-controlled clock, a RETRY task is re-dispatched exactly
// when its backoff expires — not one nanosecond earlier — its delays grow
// exponentially within the jitter window, and after Retry.Max retries it
// ends in sys.error with RETRY_LIMIT.
func TestF2_RetryWaitsForBackoff(t *testing.T) {
	const typ, tSink, maxRetries = 1, 9, 5
	pol := RetryPolicy{Max: maxRetries, Min: time.Millisecond, Cap: 8 * time.Millisecond, Jitter: 0.2}
	clk := &fxClock{}
	clk.Set(int64(time.Second))
	attempts := make(chan uint64, 16)
	m := Module{Name: "flaky", Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status {
		attempts <- c.Tick() // Tick is 1 ns: the clock reading of this dispatch's gather
		return Retry
	}}}}
	sup := &fxRecSup{inner: &Backoff{Policy: pol}}
	sink := &fxSink{}
	k := fxBoot(t, BootConfig{Workers: 1, Clock: clk.Now, Tick: time.Nanosecond, Retry: pol, Supervisor: sup},
		m, sink.module("sink", tSink, SysError))
	if err := k.Submit(Task{Type: typ, Meta0: 42}); err != nil {
		t.Fatal(err)
	}
	at := fxRecv(t, attempts)
	for n := range maxRetries {
		fxWait(t, "the supervisor's decision", func() bool { return len(sup.failures()) > n })
		d := sup.decisions()[n]
		base := min(pol.Cap, pol.Min<<n) // 1, 2, 4, 8, 8 ms
		lo := max(pol.Min, time.Duration(float64(base)*(1-pol.Jitter)))
		hi := min(pol.Cap, time.Duration(float64(base)*(1+pol.Jitter)))
		if d.Action != ActRetry || d.Delay < lo || d.Delay > hi {
			t.Fatalf("retry %d: %v after %v, want retry within [%v, %v]", n, d.Action, d.Delay, lo, hi)
		}
		clk.Set(int64(at) + int64(d.Delay) - 1)
		fxAwaitLoop(t, k, 0)
		select {
		case a := <-attempts:
			t.Fatalf("retry %d dispatched at %d, before its backoff ends at %d", n, a, int64(at)+int64(d.Delay))
		default:
		}
		clk.Set(int64(at) + int64(d.Delay))
		next := fxRecv(t, attempts)
		if next != at+uint64(d.Delay) {
			t.Fatalf("retry %d dispatched at %d, want %d", n, next, at+uint64(d.Delay))
		}
		at = next
	}
	fxWait(t, "the RETRY_LIMIT report", func() bool { return sink.n.Load() == 1 })
	r := haltOK(t, k)
	checkIdentity(t, r)
	reps := sink.byCode(task.RetryLimit)
	if len(reps) != 1 || reps[0].Meta0 != 42 || reps[0].Type != typ {
		t.Fatalf("reports %+v, want one RETRY_LIMIT report of the task", sink.reports)
	}
	if ts := k.TypeStats(typ); r.Stats.Retried != maxRetries || ts.Retry != maxRetries || ts.Fail != 1 || ts.OK != 0 {
		// The sink's completion of the report is not a success of the task's type.
		t.Fatalf("stats %v, type %+v", r.Stats, ts)
	}
}

// [F2] The retry limit is per type: TypeInfo.RetryLimit overrides
// BootConfig.Retry.Max for its type.
func TestF2_PerTypeRetryLimit(t *testing.T) {
	const tDef, tTwo, tSink = 1, 2, 9
	var calls [3]atomic.Int64
	flaky := func(c *Ctx) Status {
		calls[c.Task().Type].Add(1)
		return Retry
	}
	clk := &fxClock{}
	sink := &fxSink{}
	k := fxBoot(t, BootConfig{Workers: 2, Clock: clk.Now, Retry: RetryPolicy{Max: 4},
		Types: []TypeInfo{{ID: tTwo, RetryLimit: 2}}},
		Module{Name: "flaky", Handlers: []Handler{{Type: tDef, Fn: flaky}, {Type: tTwo, Fn: flaky}}},
		sink.module("sink", tSink, SysError))
	for _, typ := range []uint32{tDef, tTwo} {
		if err := k.Submit(Task{Type: typ}); err != nil {
			t.Fatal(err)
		}
	}
	fxWait(t, "two RETRY_LIMIT reports", func() bool {
		clk.Add(time.Second) // past any backoff (cap 1 s)
		return sink.n.Load() == 2
	})
	r := haltOK(t, k)
	checkIdentity(t, r)
	if calls[tDef].Load() != 5 || calls[tTwo].Load() != 3 || len(sink.byCode(task.RetryLimit)) != 2 {
		t.Fatalf("attempts %d and %d, want 5 (Max 4) and 3 (RetryLimit 2); reports %d",
			calls[tDef].Load(), calls[tTwo].Load(), len(sink.byCode(task.RetryLimit)))
	}
}

// [F1] FAIL(code) of a channel delivery goes to the channel's error handler
// when one is registered (ChanDecl OnError), with the task and the code;
// otherwise — a channel without one, or a direct task — to sys.error with
// the original task and the code.
func TestF1_FailToErrorHandlerOrSysError(t *testing.T) {
	const tIn, tBare, tDirect, tSink, n = 1, 2, 3, 9, 50
	var errSeen, errBad atomic.Int64
	var inID ChanID
	failOdd := func(c *Ctx) Status {
		if c.Task().Meta0%2 == 1 {
			return FailCode(-7)
		}
		return OK
	}
	cons := Module{Name: "cons",
		Handlers: []Handler{{Type: tIn, Fn: failOdd}, {Type: tBare, Fn: failOdd}, {Type: tDirect, Fn: failOdd}},
		Channels: []ChanDecl{{Name: "f.in", Dir: Consume, Type: tIn, Guarantee: Lossless},
			{Name: "f.bare", Dir: Consume, Type: tBare, Guarantee: Lossless}}}
	errh := Module{Name: "errh",
		Handlers: []Handler{{Type: tIn, Fn: func(c *Ctx) Status {
			x := c.Task()
			if fxCode(x) != FailCode(-7) || x.Meta0%2 != 1 || x.ChannelID() != inID || x.Type != tIn {
				errBad.Add(1)
			}
			errSeen.Add(1)
			return OK
		}}},
		Channels: []ChanDecl{{Name: "f.in", Dir: Consume, Type: tIn, Guarantee: Lossless, OnError: true}}}
	sink := &fxSink{}
	k := fxBoot(t, BootConfig{Workers: 2}, cons, errh, sink.module("sink", tSink, SysError))
	inID = fxChan(t, k, "f.in")
	bareID := fxChan(t, k, "f.bare")
	for i := range uint64(n) {
		x := Task{Meta0: i, Meta1: 1000 + i}
		x.Type = tIn
		fxEmit(t, k, inID, x)
		x.Type = tBare
		fxEmit(t, k, bareID, x)
		x.Type = tDirect
		if err := k.Submit(x); err != nil {
			t.Fatal(err)
		}
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if errSeen.Load() != n/2 || errBad.Load() != 0 {
		t.Fatalf("error handler saw %d failures (%d malformed), want %d", errSeen.Load(), errBad.Load(), n/2)
	}
	reps := sink.byCode(FailCode(-7))
	got := map[uint32]int{}
	for _, x := range reps {
		if x.Meta0%2 != 1 || x.Meta1 != 1000+x.Meta0 {
			t.Fatalf("sys.error report lost the original task: %+v", x)
		}
		got[x.Type]++
	}
	if got[tIn] != 0 || got[tBare] != n/2 || got[tDirect] != n/2 || r.Stats.Errored != n {
		t.Fatalf("sys.error reports by type %v, errored %d: want none of the handled channel, %d each of the others", got, r.Stats.Errored, n/2)
	}
}

// [F3] A panicking handler is recovered: the panic is counted
// (Stats.Panics), traced (TASK_FAIL with PANICKED), reported on sys.error,
// handed to the supervisor with its value, and the worker keeps running.
func TestF3_PanicRecovered(t *testing.T) {
	const typ, tSink, n = 1, 9, 30
	var ok atomic.Int64
	m := Module{Name: "boom", Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status {
		if v := c.Task().Meta0; v%3 == 0 {
			panic(fmt.Sprintf("boom %d", v))
		}
		ok.Add(1)
		return OK
	}}}}
	sup := &fxRecSup{inner: &Backoff{}}
	sink := &fxSink{}
	k := fxBoot(t, BootConfig{Workers: 1, Supervisor: sup}, m, sink.module("sink", tSink, SysError))
	for i := range uint64(n) {
		if err := k.Submit(Task{Type: typ, Meta0: i}); err != nil {
			t.Fatal(err)
		}
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if r.Stats.Panics != n/3 || ok.Load() != n-n/3 || len(sink.byCode(task.Panicked)) != n/3 {
		t.Fatalf("panics %d, ok %d, PANICKED reports %d (%v)", r.Stats.Panics, ok.Load(), len(sink.byCode(task.Panicked)), r.Stats)
	}
	for _, p := range sup.panicValues() {
		if s, _ := p.(string); len(s) < 5 || s[:5] != "boom " {
			t.Fatalf("supervisor saw panic value %v", p)
		}
	}
	if len(sup.panicValues()) != n/3 {
		t.Fatalf("supervisor saw %d panics, want %d", len(sup.panicValues()), n/3)
	}
	if !trace.Enabled {
		return
	}
	fails := 0
	k.DrainTrace(func(_ int, rec *trace.Record) {
		if rec.Event == trace.TaskFail && Status(int64(rec.Arg0)) == task.Panicked && rec.Type == typ {
			fails++
		}
	})
	if fails != n/3 {
		t.Fatalf("%d TASK_FAIL(PANICKED) records, want %d", fails, n/3)
	}
}

// fxStep runs one task of typ at clock tick `tick` and waits until the kernel
// has accounted for it (its type counters moved).
func fxStep(t *testing.T, k *Kernel, clk *fxClock, typ uint32, tick int64, fail bool) {
	t.Helper()
	clk.Set(tick * int64(time.Millisecond))
	before := k.TypeStats(typ)
	var m1 uint64
	if fail {
		m1 = 1
	}
	if err := k.Submit(Task{Type: typ, Meta1: m1}); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "the task's outcome", func() bool {
		s := k.TypeStats(typ)
		return s.OK+s.Fail > before.OK+before.Fail
	})
}

// [F3] Poison is rate-based: Failures failures within Window ticks poison a
// type; a spike below the threshold followed by health does not, nor do
// failures spread wider than the window. A poisoned type's new tasks go to
// sys.error with POISONED without running; ResetType resumes service.
func TestF3_PoisonRate(t *testing.T) {
	const tSustained, tSpike, tSpread = 1, 2, 3
	var ran [4]atomic.Int64
	h := func(c *Ctx) Status {
		ran[c.Task().Type].Add(1)
		if c.Task().Meta1 == 1 {
			return Fail
		}
		return OK
	}
	clk := &fxClock{}
	// Tick 1 ms (default); 5 failures within 100 ticks poison.
	k := fxBoot(t, BootConfig{Workers: 1, Clock: clk.Now, Poison: PoisonPolicy{Failures: 5, Window: 100}},
		Module{Name: "frail", Handlers: []Handler{{Type: tSustained, Fn: h}, {Type: tSpike, Fn: h}, {Type: tSpread, Fn: h}}})
	// Sustained: 5 failures 10 ticks apart (span 40 < 100).
	for i := range int64(5) {
		if k.Poisoned(tSustained) {
			t.Fatalf("poisoned after %d failures", i)
		}
		fxStep(t, k, clk, tSustained, 1000+10*i, true)
	}
	if !k.Poisoned(tSustained) {
		t.Fatal("5 failures in 40 ticks did not poison")
	}
	// Spike: 4 failures at one tick, 50 healthy tasks, then failures long
	// after the window: the last 5 failures always span more than 100 ticks.
	for range 4 {
		fxStep(t, k, clk, tSpike, 2000, true)
	}
	for i := range int64(50) {
		fxStep(t, k, clk, tSpike, 2001+i, false)
	}
	for i := range int64(4) {
		fxStep(t, k, clk, tSpike, 2150+i, true)
	}
	if k.Poisoned(tSpike) {
		t.Fatal("a spike followed by health poisoned the type")
	}
	fxStep(t, k, clk, tSpike, 2154, true) // now 5 failures within 5 ticks: sustained
	if !k.Poisoned(tSpike) {
		t.Fatal("5 failures in 5 ticks did not poison")
	}
	// Spread: 20 failures 30 ticks apart — any 5 span 120 ticks.
	for i := range int64(20) {
		fxStep(t, k, clk, tSpread, 3000+30*i, true)
	}
	if k.Poisoned(tSpread) {
		t.Fatal("failures spread wider than the window poisoned the type")
	}
	fxPoisonedService(t, k, clk, tSustained, &ran[tSustained])
	r := haltOK(t, k)
	checkIdentity(t, r)
}

// fxPoisonedService checks that a poisoned type's new tasks end in sys.error
// with POISONED without running, and that ResetType resumes service.
func fxPoisonedService(t *testing.T, k *Kernel, clk *fxClock, typ uint32, ran *atomic.Int64) {
	t.Helper()
	before := ran.Load()
	fails := k.TypeStats(typ).Fail
	for range 3 {
		if err := k.Submit(Task{Type: typ}); err != nil {
			t.Fatal(err)
		}
	}
	fxWait(t, "POISONED outcomes", func() bool { return k.TypeStats(typ).Fail == fails+3 })
	if ran.Load() != before {
		t.Fatalf("a poisoned type's handler ran %d times", ran.Load()-before)
	}
	if err := k.ResetType(typ); err != nil || k.Poisoned(typ) {
		t.Fatalf("reset: %v, poisoned %v", err, k.Poisoned(typ))
	}
	fxStep(t, k, clk, typ, 9000, false)
	if ran.Load() != before+1 {
		t.Fatalf("after ResetType the handler ran %d times, want 1", ran.Load()-before)
	}
}

// [F3] New tasks of a poisoned type are reported on sys.error with POISONED.
func TestF3_PoisonedReports(t *testing.T) {
	const typ, tSink = 1, 9
	var ran atomic.Int64
	clk := &fxClock{}
	sink := &fxSink{}
	k := fxBoot(t, BootConfig{Workers: 1, Clock: clk.Now, Poison: PoisonPolicy{Failures: 2, Window: 10}},
		Module{Name: "frail", Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status {
			ran.Add(1)
			return FailCode(-3)
		}}}},
		sink.module("sink", tSink, SysError))
	fxStep(t, k, clk, typ, 0, true)
	fxStep(t, k, clk, typ, 1, true)
	if !k.Poisoned(typ) {
		t.Fatal("not poisoned")
	}
	for i := range uint64(5) {
		if err := k.Submit(Task{Type: typ, Meta0: 100 + i}); err != nil {
			t.Fatal(err)
		}
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	pois := sink.byCode(task.Poisoned)
	if ran.Load() != 2 || len(pois) != 5 || len(sink.byCode(FailCode(-3))) != 2 {
		t.Fatalf("ran %d, POISONED reports %d, FAIL(-3) reports %d", ran.Load(), len(pois), len(sink.byCode(FailCode(-3))))
	}
	for _, x := range pois {
		if x.Type != typ || x.Meta0 < 100 {
			t.Fatalf("POISONED report %+v is not one of the new tasks", x)
		}
	}
}

// fxSup is a Supervisor that answers with a fixed action for failures and
// defers to the built-in policy for the rest.
type fxSup struct {
	act   Action
	calls atomic.Int64
}

func (s *fxSup) Decide(f *Failure) Decision {
	if f.Status == Retry {
		return (&Backoff{Policy: RetryPolicy{Max: 8, Min: time.Millisecond, Cap: time.Second}}).Decide(f)
	}
	s.calls.Add(1)
	return Decision{Action: s.act}
}

// [X2][F1] A Supervisor returning ActRestart re-runs the module's Fini and
// Init (Stats.Restarts) and retries the task, which then succeeds.
func TestX2_SupervisorRestart(t *testing.T) {
	const typ = 1
	var inits, finis, done atomic.Int64
	m := Module{Name: "stateful",
		Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status {
			if inits.Load() < 2 { // broken until re-initialised
				return FailCode(-5)
			}
			done.Add(1)
			return OK
		}}},
		Init: func(*Ctx) error { inits.Add(1); return nil },
		Fini: func(*Ctx) error { finis.Add(1); return nil },
	}
	sup := &fxSup{act: ActRestart}
	k := fxBoot(t, BootConfig{Workers: 1, Supervisor: sup}, m)
	if err := k.Submit(Task{Type: typ}); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "the retried task", func() bool { return done.Load() == 1 })
	if inits.Load() != 2 || finis.Load() != 1 {
		t.Fatalf("inits %d finis %d after one restart, want 2 and 1", inits.Load(), finis.Load())
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if r.Stats.Restarts != 1 || r.Stats.Retried != 1 || r.Stats.Completed != 1 || r.Stats.Errored != 0 || sup.calls.Load() != 1 {
		t.Fatalf("stats %v restarts %d, supervisor calls %d", r.Stats, r.Stats.Restarts, sup.calls.Load())
	}
	if finis.Load() != 2 {
		t.Fatalf("Fini ran %d times, want 2 (restart and halt)", finis.Load())
	}
}

// [X2][F3] A Supervisor returning ActPoison poisons every type of the
// module: the failed task and new tasks of its other types go to sys.error
// with POISONED; ResetModule resumes service.
func TestX2_SupervisorPoison(t *testing.T) {
	const tA, tB, tSink = 1, 2, 9
	var ranB atomic.Int64
	m := Module{Name: "fragile", Handlers: []Handler{
		{Type: tA, Fn: func(*Ctx) Status { return Fail }},
		{Type: tB, Fn: func(*Ctx) Status { ranB.Add(1); return OK }},
	}}
	sink := &fxSink{}
	k := fxBoot(t, BootConfig{Workers: 1, Supervisor: &fxSup{act: ActPoison}}, m, sink.module("sink", tSink, SysError))
	if err := k.Submit(Task{Type: tA}); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "poison", func() bool { return k.Poisoned(tA) && k.Poisoned(tB) })
	if k.Poisoned(tSink) {
		t.Fatal("another module's type was poisoned")
	}
	if err := k.Submit(Task{Type: tB}); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "POISONED reports", func() bool { return len(sink.byCode(task.Poisoned)) == 2 })
	if ranB.Load() != 0 {
		t.Fatal("a poisoned type's handler ran")
	}
	if err := k.ResetModule("fragile"); err != nil || k.Poisoned(tA) || k.Poisoned(tB) {
		t.Fatalf("reset module: %v", err)
	}
	if err := k.Submit(Task{Type: tB}); err != nil {
		t.Fatal(err)
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if ranB.Load() != 1 {
		t.Fatalf("after ResetModule type B ran %d times, want 1", ranB.Load())
	}
}
