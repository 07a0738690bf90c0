package actors

// Spec tests of the supervision mapping ([X1], [X2]; issue 3 acceptance 1
// and 2): a handler failure is a supervision event of its module actor, the
// directive of its supervisor's real strategy — protoactor's own or GMK's —
// becomes the GMK action, and that action's outcome is observed, and
// nothing else.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// A tree with a supervisor "stages" over modules a, b, c (start order)
// under the root.
func stagesTree(strategy string) string {
	return "  name: root\n  strategy: one_for_one\n  max_restarts: 5\n  within: 10s\n  children:\n" +
		"    - supervisor:\n        name: stages\n        strategy: " + strategy + "\n        max_restarts: 5\n        within: 10s\n" +
		"        children:\n          - module: a\n          - module: b\n          - module: c\n" +
		"    - module: sink\n"
}

func decider(d actor.Directive) actor.DeciderFunc {
	return func(reason any) actor.Directive {
		if _, ok := reason.(*Failure); !ok {
			panic("the reason is not the *Failure")
		}
		return d
	}
}

// [X1][X2] The directive mapping, table-driven. Module b panics on its
// first task once; the second run succeeds. For each strategy and
// directive the test checks what was retried, which modules were
// re-initialised (and in what order), what was poisoned and stopped.
func TestX2_DirectiveMapping(t *testing.T) {
	for _, tc := range []struct {
		name     string
		strategy string                   // the config's strategy of "stages"
		override actor.SupervisorStrategy // protoactor's, replacing it
		// expected outcome
		completed bool     // the failed task ran again and succeeded
		poisoned  bool     // b's types poisoned, task in sys.error as POISONED
		reinit    []string // modules whose Init ran a second time
		order     []string // required order of those second Inits (nil: any)
		failCode  bool     // b returns a FAIL code instead of panicking
	}{
		{name: "protoactor one-for-one resume", override: actor.NewOneForOneStrategy(5, time.Minute, decider(actor.ResumeDirective)),
			completed: true},
		{name: "protoactor one-for-one restart", override: actor.NewOneForOneStrategy(5, time.Minute, decider(actor.RestartDirective)),
			completed: true, reinit: []string{"b"}},
		{name: "protoactor one-for-one stop", override: actor.NewOneForOneStrategy(5, time.Minute, decider(actor.StopDirective)),
			poisoned: true},
		{name: "protoactor escalate to GMK root (restarts stages)", override: actor.NewOneForOneStrategy(5, time.Minute, decider(actor.EscalateDirective)),
			completed: true, reinit: []string{"a", "b", "c"}, order: []string{"a", "b", "c"}},
		{name: "protoactor all-for-one restart", override: actor.NewAllForOneStrategy(5, time.Minute, decider(actor.RestartDirective)),
			completed: true, reinit: []string{"a", "b", "c"}},
		{name: "protoactor exponential backoff", override: actor.NewExponentialBackoffStrategy(time.Minute, time.Millisecond),
			completed: true, reinit: []string{"b"}},
		{name: "protoactor restarting", override: actor.NewRestartingStrategy(),
			completed: true, reinit: []string{"b"}},
		{name: "GMK one_for_one", strategy: "one_for_one", completed: true, reinit: []string{"b"}},
		{name: "GMK decider: a FAIL code resumes", strategy: "one_for_all", failCode: true, completed: true},
		{name: "GMK one_for_all", strategy: "one_for_all", completed: true, reinit: []string{"a", "b", "c"}, order: []string{"a", "b", "c"}},
		{name: "GMK rest_for_one", strategy: "rest_for_one", completed: true, reinit: []string{"b", "c"}, order: []string{"b", "c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []Option
			strategy := tc.strategy
			if tc.override != nil {
				opts = append(opts, WithStrategy("stages", tc.override))
				strategy = "one_for_one"
			}
			f := boot(t, stagesTree(strategy), []string{"a", "b", "c"}, opts...)
			b := f.probes["b"]
			b.set(func(c *kernel.Ctx) kernel.Status {
				if b.nr.Load() == 1 {
					if tc.failCode {
						return kernel.FailCode(-42)
					}
					panic("first run")
				}
				return kernel.OK
			})
			before := len(f.log.list())
			f.submit(b.typ, 1)
			switch {
			case tc.completed:
				waitFor(t, "the retried task", func() bool { return b.ok.Load() == 1 })
			case tc.poisoned:
				// The task reaches sys.error when the strategy stopped b;
				// b's actor finishes stopping on its own mailbox.
				waitFor(t, "the POISONED report and b stopped", func() bool {
					return f.reports(task.Poisoned) == 1 && !f.n.Running("b")
				})
			}
			want := map[string]int64{"a": 1, "b": 1, "c": 1, "sink": 1}
			for _, m := range tc.reinit {
				want[m] = 2
			}
			waitFor(t, "the restarts", func() bool {
				for m, n := range want {
					if f.probes[m].inits.Load() < n {
						return false
					}
				}
				return true
			})
			if got := f.n.Kernel().Poisoned(b.typ); got != tc.poisoned {
				t.Fatalf("poisoned = %v, want %v", got, tc.poisoned)
			}
			if f.n.Running("b") == tc.poisoned {
				t.Fatalf("module b running = %v after the directive", f.n.Running("b"))
			}
			if tc.order != nil {
				var inits []string
				for _, ev := range f.log.list()[before:] {
					if m, ok := strings.CutPrefix(ev, "init "); ok {
						inits = append(inits, m)
					}
				}
				if !slices.Equal(inits, tc.order) {
					t.Fatalf("re-Init order %v, want %v", inits, tc.order)
				}
			}
			r := f.halt()
			for m, n := range want {
				if got := f.probes[m].inits.Load(); got != n {
					t.Fatalf("module %s: Init ran %d times, want %d (events %v)", m, got, n, f.log.list())
				}
			}
			s := r.Stats
			wantRetried := uint64(0)
			if tc.completed {
				wantRetried = 1
			}
			if s.Retried != wantRetried || s.Restarts != uint64(len(tc.reinit)) {
				t.Fatalf("retried %d restarts %d, want %d and %d", s.Retried, s.Restarts, wantRetried, len(tc.reinit))
			}
			if tc.poisoned != (s.Errored == 1) || b.nr.Load() != map[bool]int64{true: 2, false: 1}[tc.completed] {
				t.Fatalf("errored %d, b ran %d times", s.Errored, b.nr.Load())
			}
		})
	}
}

// [X2][F3] Issue 3 acceptance 2: a module that panics on every task is
// restarted within its supervisor's intensity (protoactor's one-for-one,
// 3 restarts), then stopped and poisoned; its tasks go to sys.error; Reset
// brings it back and service resumes; no task is lost.
func TestX2_RepeatedPanicsStopAndReset(t *testing.T) {
	f := boot(t, stagesTree("one_for_one"), []string{"a", "b", "c"},
		WithStrategy("stages", actor.NewOneForOneStrategy(3, time.Minute, decider(actor.RestartDirective))))
	b := f.probes["b"]
	b.set(func(*kernel.Ctx) kernel.Status { panic("broken") })
	k := f.n.Kernel()
	// One task: it fails, b restarts and the task is retried, three times;
	// the fourth failure exceeds the intensity and stops b.
	f.submit(b.typ, 0)
	waitFor(t, "b stopped", func() bool { return !f.n.Running("b") && f.reports(task.Poisoned) == 1 })
	if !k.Poisoned(b.typ) || b.inits.Load() != 4 || b.nr.Load() != 4 {
		t.Fatalf("poisoned %v, b initialised %d times and ran %d times, want true, 4 (1 + 3 restarts), 4",
			k.Poisoned(b.typ), b.inits.Load(), b.nr.Load())
	}
	const more = 10
	for i := range more {
		f.submit(b.typ, uint64(100+i))
	}
	waitFor(t, "POISONED reports", func() bool { return f.reports(task.Poisoned) == 1+more })
	if b.nr.Load() != 4 {
		t.Fatalf("a stopped module's handler ran: %d runs", b.nr.Load())
	}
	if !f.n.Running("a") || !f.n.Running("c") || f.probes["a"].inits.Load() != 1 {
		t.Fatal("b's siblings were disturbed")
	}
	b.set(nil) // mended
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.n.Reset(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if k.Poisoned(b.typ) || !f.n.Running("b") || b.inits.Load() != 5 {
		t.Fatalf("after Reset: poisoned %v running %v inits %d", k.Poisoned(b.typ), f.n.Running("b"), b.inits.Load())
	}
	f.submit(b.typ, 200)
	waitFor(t, "service", func() bool { return b.ok.Load() == 1 })
	r := f.halt()
	if r.Stats.Errored != 1+more || r.Stats.Panics != 4 || r.Stats.Retried != 3 {
		t.Fatalf("errored %d panics %d", r.Stats.Errored, r.Stats.Panics)
	}
}

// [X2] GMK's strategies over two levels (OTP intensity per supervisor,
// escalation): b fails its first three runs of one task. "stages"
// (one_for_one, at most 2 restarts) restarts b twice; the third failure
// exceeds its intensity: it stops c, b, a (reverse start order) and
// escalates; "root" restarts "stages", which starts a, b, c again in order;
// the task is retried then and completes — never poisoned, never lost.
func TestX2_IntensityEscalatesToParent(t *testing.T) {
	tree := "  name: root\n  strategy: one_for_one\n  max_restarts: 5\n  within: 10s\n  children:\n" +
		"    - supervisor:\n        name: stages\n        strategy: one_for_one\n        max_restarts: 2\n        within: 10s\n" +
		"        children:\n          - module: a\n          - module: b\n          - module: c\n" +
		"    - module: sink\n"
	f := boot(t, tree, []string{"a", "b", "c"})
	b := f.probes["b"]
	b.set(func(*kernel.Ctx) kernel.Status {
		if b.nr.Load() <= 3 {
			panic("not yet")
		}
		return kernel.OK
	})
	before := len(f.log.list())
	f.submit(b.typ, 7)
	waitFor(t, "the task", func() bool { return b.ok.Load() == 1 })
	waitFor(t, "the restarted subtree", func() bool { return f.probes["c"].inits.Load() == 2 })
	events := f.log.list()[before:]
	want := []string{"fini b", "init b", "fini b", "init b", // two restarts within the intensity
		"fini c", "fini b", "fini a", // the third: stopped in reverse start order
		"init a", "init b", "init c"} // root restarts stages: started in order
	if !slices.Equal(events, want) {
		t.Fatalf("lifecycle %v,\nwant %v", events, want)
	}
	if f.n.Kernel().Poisoned(b.typ) || f.reports(task.Poisoned) != 0 {
		t.Fatal("the escalated failure poisoned the module")
	}
	r := f.halt()
	if r.Stats.Retried != 3 || r.Stats.Panics != 3 || r.Stats.Errored != 0 {
		t.Fatalf("retried %d panics %d errored %d, want 3 3 0", r.Stats.Retried, r.Stats.Panics, r.Stats.Errored)
	}
}

// protoactor's own log output (slog) goes through the node's zap logger,
// named "protoactor": a module actor's failure is logged there, and only
// there.
func TestX2_ProtoactorLogsThroughZap(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	f := boot(t, stagesTree("one_for_one"), []string{"a", "b", "c"}, WithLogger(zap.New(core)))
	b := f.probes["b"]
	b.set(func(*kernel.Ctx) kernel.Status {
		if b.nr.Load() == 1 {
			panic("once")
		}
		return kernel.OK
	})
	f.submit(b.typ, 1)
	waitFor(t, "the retried task", func() bool { return b.ok.Load() == 1 })
	f.halt()
	found := false
	for _, e := range logs.All() {
		found = found || (e.LoggerName == "protoactor" && strings.Contains(e.Message, "Recovering"))
	}
	if !found {
		t.Fatalf("no protoactor log entry for the failure among %d entries", logs.Len())
	}
}

// [X1][X2] A handler that fails while its module's restart waits for it.
// The restart holds the module ([X1]: no handler runs during Fini and Init)
// and the hold waits for every worker to leave the handler it is in. If
// that handler then fails, its worker reports the failure to the module's
// actor — which is the one holding. The report must not wait for the hold
// (it did once: both took the module entry's lock, and the node deadlocked
// in CI). Here b's first task blocks in its handler; b's second task
// panics on the other worker, and GMK's one_for_one restarts b; once the
// restart holds b, the first task is let go and returns a FAIL code. Both
// tasks must then complete (the FAIL code is resumed and retried after the
// restart), b is re-initialised once, and nothing is lost.
func TestX2_FailureWhileItsRestartHoldsTheModule(t *testing.T) {
	f := boot(t, stagesTree("one_for_one"), []string{"a", "b", "c"})
	b := f.probes["b"]
	inside, proceed := make(chan struct{}), make(chan struct{})
	var runs [3]atomic.Int64 // by Meta0
	b.set(func(c *kernel.Ctx) kernel.Status {
		m := c.Task().Meta0
		switch runs[m].Add(1) {
		case 1:
			if m == 1 {
				close(inside)
				<-proceed
				return kernel.FailCode(-7)
			}
			panic("b crashes")
		}
		return kernel.OK
	})
	f.submit(b.typ, 1)
	<-inside // one worker is in b's handler
	f.submit(b.typ, 2)
	waitFor(t, "the restart to hold b", func() bool {
		for _, m := range f.n.Kernel().Modules() {
			if m.Name == "b" {
				return m.Held
			}
		}
		return false
	})
	close(proceed)
	waitFor(t, "both tasks to complete", func() bool { return b.ok.Load() == 2 })
	r := f.halt()
	if got := b.inits.Load(); got != 2 {
		t.Fatalf("b: Init ran %d times, want 2 (one restart)", got)
	}
	if s := r.Stats; s.Retried != 2 || s.Restarts != 1 || s.Errored != 0 {
		t.Fatalf("retried %d restarts %d errored %d, want 2, 1, 0", s.Retried, s.Restarts, s.Errored)
	}
	if runs[1].Load() != 2 || runs[2].Load() != 2 {
		t.Fatalf("task 1 ran %d times, task 2 %d, want 2 each", runs[1].Load(), runs[2].Load())
	}
}

// [X1][X2] A restart whose re-Init fails. one_for_all restarts a, b and c
// one at a time, on the supervisor's own goroutine, waiting for each start
// before the next. a's re-Init fails: the actor fails its restart, and that
// failure is a message to the same supervisor. The supervisor must stop
// waiting for a's start then (it waited out its start timeout once, with
// the module held and every other failure of the subtree waiting); it
// restarts the subtree again, and the task completes.
func TestX2_FailedReInitDoesNotStallItsSupervisor(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	f := boot(t, stagesTree("one_for_all"), []string{"a", "b", "c"}, WithLogger(zap.New(core)))
	a := f.probes["a"]
	a.set(func(*kernel.Ctx) kernel.Status {
		if a.nr.Load() == 1 {
			panic("a crashes")
		}
		return kernel.OK
	})
	fail := func(n int64) error {
		if n == 2 {
			return errors.New("a's first re-Init fails")
		}
		return nil
	}
	a.initErr.Store(&fail)
	f.submit(a.typ, 1)
	waitFor(t, "the retried task", func() bool { return a.ok.Load() == 1 })
	for _, e := range logs.All() {
		if strings.Contains(e.Message, "did not") {
			t.Fatalf("the supervisor waited out a start: %q %v", e.Message, e.ContextMap())
		}
	}
	r := f.halt()
	if got := a.inits.Load(); got != 3 {
		t.Fatalf("a: Init ran %d times, want 3 (boot, the failed re-Init, the next)", got)
	}
	if r.Stats.Completed != 1 || r.Stats.Errored != 0 {
		t.Fatalf("completed %d errored %d, want 1 and 0", r.Stats.Completed, r.Stats.Errored)
	}
}

// [X1][X2] The same for a respawn (Reset): the supervisor spawns the
// stopped module and waits for its start on its own goroutine; the
// module's Init fails there, and the supervisor must read that failure
// at once — its strategy restarts the module, whose next Init succeeds,
// and Reset returns with the module running and no longer poisoned.
func TestX2_ResetWhoseInitFailsOnce(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	stopFailures := actor.DeciderFunc(func(reason any) actor.Directive {
		if _, ok := reason.(*Failure); ok {
			return actor.StopDirective // a handler's failure stops the module
		}
		return actor.RestartDirective // a failed start is tried again
	})
	f := boot(t, stagesTree("one_for_one"), []string{"a", "b", "c"}, WithLogger(zap.New(core)),
		WithStrategy("stages", actor.NewOneForOneStrategy(5, time.Minute, stopFailures)))
	b := f.probes["b"]
	b.set(func(*kernel.Ctx) kernel.Status { panic("b crashes") })
	f.submit(b.typ, 1)
	waitFor(t, "b stopped", func() bool { return !f.n.Running("b") && f.reports(task.Poisoned) == 1 })
	b.set(nil)
	fail := func(n int64) error {
		if n == 2 { // the respawn's Init
			return errors.New("b's respawn fails once")
		}
		return nil
	}
	b.initErr.Store(&fail)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.n.Reset(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	for _, e := range logs.All() {
		if strings.Contains(e.Message, "did not") {
			t.Fatalf("the supervisor waited out a start: %q %v", e.Message, e.ContextMap())
		}
	}
	if !f.n.Running("b") || f.n.Kernel().Poisoned(b.typ) || b.inits.Load() != 3 {
		t.Fatalf("after Reset: running %v poisoned %v inits %d, want true, false, 3",
			f.n.Running("b"), f.n.Kernel().Poisoned(b.typ), b.inits.Load())
	}
	f.submit(b.typ, 2)
	waitFor(t, "service", func() bool { return b.ok.Load() == 1 })
	f.halt()
}
