package kernel

// Spec tests of cooperative yield ([Y1]–[Y4], [S4]; GMK.md acceptance 8 and
// 12). The fx* fixtures live in halt_spec_test.go.

import (
	"sync/atomic"
	"testing"

	"github.com/gmkernel/gmk/kernel/metrics"
	"github.com/gmkernel/gmk/kernel/sched"
	"github.com/gmkernel/gmk/kernel/task"
	"github.com/gmkernel/gmk/kernel/trace"
)

// [Y1] A 3-phase handler (YieldAt(1), YieldAt(2), then done) completes every
// task exactly once, in phase order, with the yield counter in the header.
func TestY1_ThreePhaseHandler(t *testing.T) {
	const typ, n = 1, 20000
	phase := make([]atomic.Uint32, n)
	var bad, done atomic.Int64
	m := Module{Name: "phased", Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status {
		tk := c.Task()
		p := tk.Meta0
		if p > 2 || uint64(tk.YieldCount) != p || !phase[tk.Meta1].CompareAndSwap(uint32(p), uint32(p+1)) {
			bad.Add(1)
			return OK
		}
		if p < 2 {
			c.YieldAt(p + 1)
		} else {
			done.Add(1)
		}
		return OK
	}}}}
	k := fxBoot(t, BootConfig{Workers: 2, ArenaSize: 4 << 20}, m)
	ts := make([]Task, n)
	for i := range ts {
		ts[i] = Task{Type: typ, Meta1: uint64(i)}
		ts[i].SetPriority(i % 4)
	}
	fxSubmitAll(t, k, ts)
	r := haltOK(t, k)
	checkIdentity(t, r)
	if bad.Load() != 0 || done.Load() != n {
		t.Fatalf("done %d of %d, %d out-of-order phases (%v)", done.Load(), n, bad.Load(), r.Stats)
	}
	for i := range phase {
		if phase[i].Load() != 3 {
			t.Fatalf("task %d ended in phase %d", i, phase[i].Load())
		}
	}
	if s := r.Stats; s.Yielded != 2*n || s.Completed != n || s.Errored != 0 {
		t.Fatalf("stats %v: want %d yields, %d completed, 0 errors", s, 2*n, n)
	}
}

// [S4][Y2] Unit level: normal pushes stop at the 75 % watermark, yields may
// fill the reserve, then the shared overflow queue takes them, and only when
// both are full does Core.Yield refuse.
func TestS4_LQReserveAndOverflowUnit(t *testing.T) {
	q := sched.NewLQ(32)
	if q.Cap() != 32 || q.Water() != 24 {
		t.Fatalf("cap %d water %d, want 32 and 24 (25 %% reserve)", q.Cap(), q.Water())
	}
	var x Task
	for i := range 24 {
		if !q.Push(&x) {
			t.Fatalf("push %d refused below the watermark", i)
		}
	}
	if q.Push(&x) || q.Room() != 0 {
		t.Fatalf("push at the watermark accepted (room %d)", q.Room())
	}
	for i := range 8 {
		if !q.PushReserve(&x) {
			t.Fatalf("reserve push %d refused", i)
		}
	}
	if q.PushReserve(&x) || q.Len() != 32 {
		t.Fatalf("reserve push into a full LQ accepted (len %d)", q.Len())
	}

	set := metrics.NewSet(64, 1)
	core, locals := sched.NewCore(sched.CoreConfig{Workers: 1, QueueCap: 8, LQCap: 16, OverflowCap: 4,
		Stats: set, EnqBase: 8})
	l := locals[0]
	for l.LQ.Push(&x) {
	}
	yields := 0
	for core.Yield(l, &x) {
		yields++
	}
	// 4 reserve slots of the 16-slot LQ, then the 4-slot overflow queue.
	if yields != 8 || l.LQ.Len() != 16 || core.SharedLen() != 4 {
		t.Fatalf("yields %d, LQ %d, shared %d: want 8, 16, 4", yields, l.LQ.Len(), core.SharedLen())
	}
	// [Y2] The overflow queue is drained before the priorities.
	if !core.Submit(&Task{Type: 1, Meta0: 99}) {
		t.Fatal("submit refused")
	}
	dst := make([]Task, 8)
	if n := core.PopShared(l, dst); n != 4 || dst[0].Meta0 == 99 {
		t.Fatalf("first shared pop took %d tasks (meta0 %d), want the 4 overflowed yields", n, dst[0].Meta0)
	}
}

// [Y2][S4] Kernel level: a handler fills its worker's LQ to the watermark with
// follow-on emits, then yields. The yield goes into the LQ's reserve — not the
// shared overflow queue, not sys.error — and the task finishes later.
func TestY2_YieldAtWatermarkUsesReserve(t *testing.T) {
	const tYield, tFill, batch = 1, 2, 8
	var (
		atWater, sharedAfter, lqAfter atomic.Int64
		fills, finished               atomic.Int64
		checked                       atomic.Bool
	)
	lqAfter.Store(-1)
	m := Module{Name: "reserve", Handlers: []Handler{
		{Type: tYield, Fn: func(c *Ctx) Status {
			if c.Task().Meta0 == 1 {
				finished.Add(1)
				return OK
			}
			lq := c.w.l.LQ
			for lq.Room() > 0 {
				if err := c.Emit(Task{Type: tFill}); err != nil {
					t.Errorf("emit below the watermark: %v", err)
					return OK
				}
			}
			atWater.Store(int64(lq.Len()))
			c.YieldAt(1)
			return OK
		}},
		{Type: tFill, Fn: func(c *Ctx) Status {
			if checked.CompareAndSwap(false, true) { // first filler after the yield
				lqAfter.Store(int64(c.w.l.LQ.Len()))
				sharedAfter.Store(int64(c.Kernel().core.SharedLen()))
			}
			fills.Add(1)
			return OK
		}},
	}}
	k := fxBoot(t, BootConfig{Workers: 1, BatchSize: batch, LQCap: 32, ArenaSize: 1 << 20}, m)
	if err := k.Submit(Task{Type: tYield}); err != nil {
		t.Fatal(err)
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	water := k.workers[0].l.LQ.Water()
	if atWater.Load() != int64(water) {
		t.Fatalf("LQ held %d tasks before the yield, want the watermark %d", atWater.Load(), water)
	}
	// The first filler batch popped `batch` tasks: what is left is the other
	// fillers plus the yielded task in the reserve; nothing went to the
	// shared overflow queue.
	if lqAfter.Load() != int64(water+1-batch) || sharedAfter.Load() != 0 {
		t.Fatalf("after the yield: LQ %d (want %d), shared %d (want 0)", lqAfter.Load(), water+1-batch, sharedAfter.Load())
	}
	if finished.Load() != 1 || fills.Load() != int64(water) || r.Stats.Yielded != 1 || r.Stats.Errored != 0 {
		t.Fatalf("finished %d fills %d, stats %v", finished.Load(), fills.Load(), r.Stats)
	}
}

// [Y2] Under stress the LQs fill to capacity, yields spill into the shared
// overflow queue and that queue drains: every task completes, or ends in
// sys.error with YIELD_OVERFLOW; nothing is lost or left queued.
func TestY2_OverflowDrainsUnderStress(t *testing.T) {
	for _, workers := range []int{1, 2} {
		t.Run(map[int]string{1: "1worker", 2: "2workers"}[workers], func(t *testing.T) {
			testOverflowStress(t, workers)
		})
	}
}

func testOverflowStress(t *testing.T, workers int) {
	const typ, tSink, roots, children, phases = 1, 9, 200, 20000, 4
	var budget, done, emitted, atFull atomic.Int64
	budget.Store(children)
	m := Module{Name: "flood", Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status {
		tk := c.Task()
		if tk.Meta0 == phases {
			done.Add(1)
			return OK
		}
		if budget.Add(-1) >= 0 {
			if c.Emit(Task{Type: typ}) == nil {
				emitted.Add(1)
			}
		}
		if c.w.l.LQ.Len() == c.w.l.LQ.Cap() {
			atFull.Add(1) // this yield cannot use the LQ
		}
		c.YieldAt(tk.Meta0 + 1)
		return OK
	}}}}
	sink := &fxSink{}
	k := fxBoot(t, BootConfig{Workers: workers, BatchSize: 8, LQCap: 16, OverflowCap: 16},
		m, sink.module("sink", tSink, SysError))
	ts := make([]Task, roots)
	for i := range ts {
		ts[i] = Task{Type: typ}
	}
	fxSubmitAll(t, k, ts)
	r := haltOK(t, k)
	checkIdentity(t, r)
	if r.Queued != 0 {
		t.Fatalf("%d tasks left queued", r.Queued)
	}
	overflowed := k.TypeStats(typ).Fail
	total := roots + emitted.Load()
	if done.Load()+int64(overflowed) != total {
		t.Fatalf("done %d + YIELD_OVERFLOW %d != tasks %d (%v)", done.Load(), overflowed, total, r.Stats)
	}
	reports := sink.byCode(task.YieldOverflow)
	if uint64(len(reports))+r.Stats.SysLost != overflowed || r.Stats.Errored != overflowed {
		t.Fatalf("%d YIELD_OVERFLOW reports + %d lost, %d errored, want %d", len(reports), r.Stats.SysLost, r.Stats.Errored, overflowed)
	}
	// Yields that met a full LQ and did not end in YIELD_OVERFLOW went through
	// the overflow queue and were drained from it.
	if atFull.Load() <= int64(overflowed) {
		t.Fatalf("%d yields met a full LQ, %d overflowed: the overflow queue was not exercised", atFull.Load(), overflowed)
	}
	t.Logf("tasks %d: done %d, yields at a full LQ %d, YIELD_OVERFLOW %d; %v", total, done.Load(), atFull.Load(), overflowed, r.Stats)
}

// [Y2][O1] "If that is full too, the task goes to sys.error with a
// yield-overflow code and a trace event": every YIELD_OVERFLOW leaves a
// TASK_FAIL record (arg0 = the code) at the default level, as other
// failures do, and Stats.Yielded counts only the yields re-enqueued.
func TestY2_YieldOverflowReported(t *testing.T) {
	fxNeedTrace(t)
	const typ = 1
	var budget, calls, tasks atomic.Int64
	budget.Store(2000)
	tasks.Store(1)
	m := Module{Name: "flood", Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status {
		calls.Add(1)
		if c.Task().Meta0 == 4 {
			return OK
		}
		if budget.Add(-1) >= 0 && c.Emit(Task{Type: typ}) == nil {
			tasks.Add(1)
		}
		c.YieldAt(c.Task().Meta0 + 1)
		return OK
	}}}}
	k := fxBoot(t, BootConfig{Workers: 1, BatchSize: 8, LQCap: 16, OverflowCap: 2, ArenaSize: 4 << 20, Arena: fxTraceArena}, m)
	if err := k.Submit(Task{Type: typ}); err != nil {
		t.Fatal(err)
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	overflowed := k.TypeStats(typ).Fail
	if overflowed == 0 {
		t.Fatal("no YIELD_OVERFLOW: the scenario did not fill the LQ and the overflow queue")
	}
	// Every call but a task's first was brought about by a re-enqueued yield.
	if reenqueued := uint64(calls.Load() - tasks.Load()); r.Stats.Yielded != reenqueued {
		t.Errorf("Stats.Yielded %d, but %d yields were re-enqueued (%d overflowed)", r.Stats.Yielded, reenqueued, overflowed)
	}
	var traced uint64
	k.DrainTrace(func(_ int, rec *trace.Record) {
		if rec.Event == trace.TaskFail && Status(int64(rec.Arg0)) == task.YieldOverflow {
			traced++
		}
	})
	if traced != overflowed || k.TraceLost() != 0 {
		t.Errorf("%d YIELD_OVERFLOW failures, %d traced (lost %d)", overflowed, traced, k.TraceLost())
	}
}

// [Y3] A handler that always yields is stopped after max_yields re-enqueues
// (BootConfig default 16, or the type's TypeInfo.MaxYields) and ends in
// sys.error with YIELD_LIMIT; each such end counts as a failure for poison.
func TestY3_YieldLimitToSysError(t *testing.T) {
	const tDef, tThree, tSink, perType = 1, 2, 9, 3
	var calls [3]atomic.Int64
	forever := func(c *Ctx) Status {
		calls[c.Task().Type].Add(1)
		c.Yield()
		return OK
	}
	sink := &fxSink{}
	sup := &fxRecSup{inner: &Backoff{Policy: RetryPolicy{Max: 8}}}
	clk := &fxClock{}
	cfg := BootConfig{Workers: 2, ArenaSize: 1 << 20, Clock: clk.Now, Supervisor: sup,
		Types:  []TypeInfo{{ID: tThree, Name: "three", MaxYields: 3}},
		Poison: PoisonPolicy{Failures: perType, Window: 1000}}
	m := Module{Name: "spinner", Handlers: []Handler{{Type: tDef, Fn: forever}, {Type: tThree, Fn: forever}}}
	k := fxBoot(t, cfg, m, sink.module("sink", tSink, SysError))
	for range perType {
		for _, typ := range []uint32{tDef, tThree} {
			if err := k.Submit(Task{Type: typ}); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if got, want := calls[tDef].Load(), int64(perType*(16+1)); got != want {
		t.Fatalf("default type ran %d times, want %d (16 yields + the limit)", got, want)
	}
	if got, want := calls[tThree].Load(), int64(perType*(3+1)); got != want {
		t.Fatalf("max_yields=3 type ran %d times, want %d", got, want)
	}
	if r.Stats.Yielded != perType*(16+3) {
		t.Fatalf("yielded %d, want %d", r.Stats.Yielded, perType*(16+3))
	}
	limited := sink.byCode(task.YieldLimit)
	if len(limited) != 2*perType || k.TypeStats(tDef).Fail != perType || k.TypeStats(tThree).Fail != perType {
		t.Fatalf("%d YIELD_LIMIT reports, fails %+v %+v", len(limited), k.TypeStats(tDef), k.TypeStats(tThree))
	}
	// The supervisor sees the header's counter: one past the limit.
	for _, f := range sup.failures() {
		want := map[uint32]uint16{tDef: 17, tThree: 4}[f.Task.Type]
		if f.Status != task.YieldLimit || f.Task.YieldCount != want {
			t.Fatalf("failure %v of type %d with YieldCount %d, want YIELD_LIMIT with %d", f.Status, f.Task.Type, f.Task.YieldCount, want)
		}
	}
	// perType failures at one tick reach the poison threshold of both types.
	if !k.Poisoned(tDef) || !k.Poisoned(tThree) {
		t.Fatalf("YIELD_LIMIT did not count for poison: poisoned %v %v", k.Poisoned(tDef), k.Poisoned(tThree))
	}
}

// [Y3] acceptance 12: "the counter lives in the header" — the sys.error
// report of a YIELD_LIMIT task carries the task's yield counter, max_yields+1
// (the yield that crossed the limit was counted, then refused).
func TestY3_YieldLimitReportCarriesYieldCount(t *testing.T) {
	const typ, tSink = 1, 9
	sink := &fxSink{}
	m := Module{Name: "spinner", Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status {
		c.Yield()
		return OK
	}}}}
	k := fxBoot(t, BootConfig{Workers: 1, ArenaSize: 1 << 20, MaxYields: 5}, m, sink.module("sink", tSink, SysError))
	if err := k.Submit(Task{Type: typ, Meta0: 7}); err != nil {
		t.Fatal(err)
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	reps := sink.byCode(task.YieldLimit)
	if len(reps) != 1 {
		t.Fatalf("%d YIELD_LIMIT reports, want 1", len(reps))
	}
	if rep := reps[0]; rep.Type != typ || rep.Meta0 != 7 || rep.YieldCount != 6 {
		t.Fatalf("report type %d meta0 %d YieldCount %d, want type %d meta0 7 YieldCount 6 (max_yields+1)",
			rep.Type, rep.Meta0, rep.YieldCount, typ)
	}
}

// [Y4] YieldPoint: with a clock that advances on every read, a long handler
// yields once its type's budget is spent and finishes its work across
// yields, each unit exactly once. With a frozen clock it never yields.
func TestY4_YieldPointBudget(t *testing.T) {
	const typ, units, step, budget = 1, 100, 100, 1000
	for _, tc := range []struct {
		name  string
		step  int64
		yield bool
	}{{"advancing", step, true}, {"frozen", 0, false}} {
		t.Run(tc.name, func(t *testing.T) {
			var did [units]atomic.Int32
			var runs, maxRun atomic.Int64
			m := Module{Name: "long", Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status {
				runs.Add(1)
				tk := c.Task()
				for n := int64(1); tk.Meta0 < units; n++ {
					did[tk.Meta0].Add(1)
					tk.Meta0++ // continuation state lives in meta0
					maxRun.Store(max(maxRun.Load(), n))
					if c.YieldPoint() {
						return OK
					}
				}
				return OK
			}}}}
			clk := &fxClock{}
			k := fxBoot(t, BootConfig{Workers: 1, ArenaSize: 1 << 20, Clock: func() int64 { return clk.Ticking(tc.step) },
				Types: []TypeInfo{{ID: typ, BudgetNS: budget, MaxYields: units}}}, m)
			if err := k.Submit(Task{Type: typ}); err != nil {
				t.Fatal(err)
			}
			r := haltOK(t, k)
			checkIdentity(t, r)
			for i := range did {
				if did[i].Load() != 1 {
					t.Fatalf("unit %d done %d times", i, did[i].Load())
				}
			}
			if r.Stats.Completed != 1 || uint64(runs.Load()) != r.Stats.Yielded+1 {
				t.Fatalf("runs %d, stats %v", runs.Load(), r.Stats)
			}
			// Every clock read advances `step`, so the budget is spent by the
			// (budget/step+1)-th yield point of a run at the latest.
			if tc.yield && (r.Stats.Yielded == 0 || maxRun.Load() > budget/step+1) {
				t.Fatalf("yields %d, longest run %d units (budget allows %d)", r.Stats.Yielded, maxRun.Load(), budget/step+1)
			}
			if !tc.yield && r.Stats.Yielded != 0 {
				t.Fatalf("frozen clock: %d yields", r.Stats.Yielded)
			}
		})
	}
}
