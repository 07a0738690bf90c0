package kernel

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel/task"
	"github.com/gmkernel/gmk/kernel/trace"
)

// [F3] [C3] Channel deliveries of a poisoned type go to sys.error with
// POISONED, not to their handler — also the plain deliveries that
// runTask's short path takes while no type is poisoned — and run again
// once the type is reset. The count of poisoned types that lets the short
// path skip the per-type check follows every poisoning and reset.
func TestF3_PoisonedChannelDeliveries(t *testing.T) {
	const typ, tSink, n = 1, 9, 50
	var ran atomic.Int64
	sink := &fxSink{}
	k := fxBoot(t, BootConfig{Workers: 2},
		Module{Name: "cons", Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status { ran.Add(1); return OK }}},
			Channels: []ChanDecl{{Name: "c.in", Dir: Consume, Type: typ, Guarantee: Lossless}}},
		sink.module("sink", tSink, SysError))
	in, err := k.Chan("c.in")
	if err != nil {
		t.Fatal(err)
	}
	emit := func(from int) {
		for i := range n {
			if err := k.ChanEmit(in, Task{Type: typ, Meta0: uint64(from + i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	emit(0)
	fxWait(t, "the first deliveries", func() bool { return ran.Load() == n })

	if err := k.PoisonModule("cons"); err != nil {
		t.Fatal(err)
	}
	_ = k.PoisonModule("cons") // again: counted once
	if got := k.npoisoned.Load(); got != 1 {
		t.Fatalf("%d types counted poisoned, want 1", got)
	}
	emit(n)
	fxWait(t, "the POISONED reports", func() bool { return len(sink.byCode(task.Poisoned)) == n })
	if ran.Load() != n {
		t.Fatalf("the handler ran %d times, want %d: a poisoned type's delivery ran", ran.Load(), n)
	}

	if err := k.ResetModule("cons"); err != nil {
		t.Fatal(err)
	}
	if got := k.npoisoned.Load(); got != 0 {
		t.Fatalf("%d types counted poisoned after the reset, want 0", got)
	}
	emit(2 * n)
	fxWait(t, "the deliveries after the reset", func() bool { return ran.Load() == 2*n })
	r := haltOK(t, k)
	checkIdentity(t, r)
	for _, x := range sink.byCode(task.Poisoned) {
		if x.Meta0 < n || x.Meta0 >= 2*n {
			t.Fatalf("POISONED report %+v is not one of the deliveries made while poisoned", x)
		}
	}
}

// [O3] [C3] A module at trace level ALL has the start and end of each of
// its channel deliveries recorded — runTask's short path leaves such a
// module's tasks to the general path — and, set to OFF at run time, none.
func TestO3_ChannelDeliveriesTracedAtAll(t *testing.T) {
	fxNeedTrace(t)
	const typ, n = 1, 40
	var ran atomic.Int64
	k := fxBoot(t, BootConfig{Workers: 2, ArenaSize: 4 << 20, Arena: fxTraceArena},
		Module{Name: "cons", Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status { ran.Add(1); return OK }}},
			Channels: []ChanDecl{{Name: "c.in", Dir: Consume, Type: typ, Guarantee: Lossless}}})
	in, err := k.Chan("c.in")
	if err != nil {
		t.Fatal(err)
	}
	round := func(lv trace.Level) fxCounter {
		if err := k.SetTraceLevel("cons", lv); err != nil {
			t.Fatal(err)
		}
		base := ran.Load()
		for i := range n {
			if err := k.ChanEmit(in, Task{Type: typ, Meta0: uint64(i)}); err != nil {
				t.Fatal(err)
			}
		}
		c := fxCounter{}
		fxWait(t, "the round's deliveries and records", func() bool {
			k.DrainTrace(func(_ int, r *trace.Record) { c.add(r) })
			return ran.Load() == base+n && (lv == trace.Off || c.get(typ, trace.TaskEnd) >= n)
		})
		return c
	}
	if c := round(trace.All); c.get(typ, trace.TaskStart) != n || c.get(typ, trace.TaskEnd) != n {
		t.Fatalf("level ALL: %d starts and %d ends recorded for %d deliveries", c.get(typ, trace.TaskStart), c.get(typ, trace.TaskEnd), n)
	}
	c := round(trace.Off)
	r := haltOK(t, k)
	checkIdentity(t, r)
	k.DrainTrace(func(_ int, r *trace.Record) { c.add(r) })
	if c.get(typ, trace.TaskStart)+c.get(typ, trace.TaskEnd) != 0 {
		t.Fatalf("level OFF: %d starts and %d ends recorded", c.get(typ, trace.TaskStart), c.get(typ, trace.TaskEnd))
	}
}

// [X1] [C3] While its module is held, a channel's deliveries wait — none
// runs, the plain ones of runTask's short path included, also on the
// worker that ran the channel's deliveries on that path just before the
// hold — and every one runs once the hold ends.
func TestX1_HeldModuleDeliveriesWait(t *testing.T) {
	const typ, n = 1, 40
	var ran atomic.Int64
	k := fxBoot(t, BootConfig{Workers: 2},
		Module{Name: "cons", Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status { ran.Add(1); return OK }}},
			Channels: []ChanDecl{{Name: "c.in", Dir: Consume, Type: typ, Guarantee: Lossless}}})
	in, err := k.Chan("c.in")
	if err != nil {
		t.Fatal(err)
	}
	emit := func() {
		for i := range n {
			if err := k.ChanEmit(in, Task{Type: typ, Meta0: uint64(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	emit() // before the hold: the short path runs them
	fxWait(t, "the deliveries before the hold", func() bool { return ran.Load() == n })
	if err := k.HoldModule("cons"); err != nil {
		t.Fatal(err)
	}
	emit()
	fxWait(t, "the deliveries taken off the channel", func() bool { s, _ := k.ChanStats(in); return s.Depth == 0 })
	time.Sleep(20 * time.Millisecond) // time enough for a wrongly run handler to show
	if got := ran.Load() - n; got != 0 {
		t.Fatalf("%d deliveries ran while their module was held", got)
	}
	if err := k.ReleaseModule("cons"); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "the deliveries after the hold", func() bool { return ran.Load() == 2*n })
	checkIdentity(t, haltOK(t, k))
}

// [O1] [C4] The counters of a co-located pipeline's handoffs — added per
// dispatch, not per emit — are whole at quiescence, per tenant and per
// channel, with the tenants interleaved: every delivery enqueued,
// dequeued and completed once, every handoff an emit of its channel.
func TestO1_HandoffCountersPerTenant(t *testing.T) {
	const n = 1000
	var done atomic.Int64
	k := fxBoot(t, BootConfig{Workers: 1, Tenants: 2},
		stageModule("s1", "c.in", "c.mid", 1, &done), stageModule("s2", "c.mid", "", 2, &done))
	in, _ := k.Chan("c.in")
	mid, _ := k.Chan("c.mid")
	for i := range n {
		if err := k.ChanEmit(in, Task{Type: 1, Tenant: uint16(i % 2), Meta0: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	fxWait(t, "the pipeline", func() bool { return done.Load() == n })
	r := haltOK(t, k)
	checkIdentity(t, r)
	for ten := range 2 {
		if s := k.TenantStats(ten); s.Enqueued != n || s.Dequeued != n || s.Completed != n {
			t.Fatalf("tenant %d: %+v, want %d enqueued, dequeued and completed (two stages of %d tasks)", ten, s, n, n/2)
		}
	}
	if s, _ := k.ChanStats(mid); s.Emits != n {
		t.Fatalf("c.mid counted %d emits, want %d", s.Emits, n)
	}
	if r.Stats.Emitted != 2*n || r.Stats.Completed != 2*n {
		t.Fatalf("stats %v: want %d emitted and completed", r.Stats, 2*n)
	}
}

// [O1] [C3] A handler that publishes its worker's counters while it runs
// (PublishChanStats, as a bridge endpoint does before it acknowledges)
// flushes the short path's counts mid-task: its own completion, counted
// after it returns, is still counted once — for its type, its tenant and
// the kernel — at quiescence.
func TestO1_PublishChanStatsInsideShortPath(t *testing.T) {
	const n = 200
	var ran atomic.Int64
	k := fxBoot(t, BootConfig{Workers: 1},
		Module{Name: "cons", Handlers: []Handler{{Type: 1, Fn: func(c *Ctx) Status {
			c.PublishChanStats()
			ran.Add(1)
			return OK
		}}}, Channels: []ChanDecl{{Name: "c.in", Dir: Consume, Type: 1, Guarantee: Lossless}}})
	in, _ := k.Chan("c.in")
	for i := range n {
		if err := k.ChanEmit(in, Task{Type: 1, Meta0: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	fxWait(t, "the deliveries", func() bool { return ran.Load() == n })
	r := haltOK(t, k)
	checkIdentity(t, r)
	if s := k.TenantStats(0); r.Stats.Completed != n || s.Completed != n || s.Dequeued != n {
		t.Fatalf("stats %v, tenant 0 %+v: want %d completed and dequeued", r.Stats, s, n)
	}
}

// [C3] [C9] [F3] [O3] A change a handler makes to its own deliveries'
// conditions — closing their channel, poisoning its module, raising its
// trace level to ALL — applies from the very next delivery, also within
// the batch it is running: runTask's short path trusts the conditions it
// checked only while the control generation reads the same, and each of
// these changes increments it. The 32 deliveries are published with one
// ring publication (ChanEmitBatch), so the one worker drains and
// dispatches them as one batch.
func TestC3_MidBatchChangesApplyToTheNextDelivery(t *testing.T) {
	const typ, tSink, n, at = 1, 9, 32, 5
	for _, tc := range []struct {
		name   string
		change func(k *Kernel, in ChanID) error
		code   Status // the code of the reports for the deliveries after the change; 0: they run
	}{
		{"close", func(k *Kernel, in ChanID) error { return k.ChanClose(in) }, task.ChanClosed},
		{"poison", func(k *Kernel, _ ChanID) error { return k.PoisonModule("cons") }, task.Poisoned},
		{"trace", func(k *Kernel, _ ChanID) error { return k.SetTraceLevel("cons", trace.All) }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "trace" {
				fxNeedTrace(t)
			}
			var ran atomic.Int64
			var in ChanID
			sink := &fxSink{}
			k := fxBoot(t, BootConfig{Workers: 1, ArenaSize: 4 << 20, Arena: fxTraceArena},
				Module{Name: "cons", Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status {
					ran.Add(1)
					if c.Task().Meta0 == at {
						if err := tc.change(c.Kernel(), in); err != nil {
							t.Error(err)
						}
					}
					return OK
				}}}, Channels: []ChanDecl{{Name: "c.in", Dir: Consume, Type: typ, Guarantee: Lossless}}},
				sink.module("sink", tSink, SysError, SysDropped))
			var err error
			if in, err = k.Chan("c.in"); err != nil {
				t.Fatal(err)
			}
			batch := make([]Task, n)
			for i := range batch {
				batch[i] = Task{Type: typ, Meta0: uint64(i)}
			}
			if m, err := k.ChanEmitBatch(in, batch); m != n {
				t.Fatalf("emitted %d of %d: %v", m, n, err)
			}
			fxWait(t, "every delivery run or reported", func() bool { return ran.Load()+sink.n.Load() == n })
			r := haltOK(t, k)
			checkIdentity(t, r)
			if tc.code != 0 {
				if got := ran.Load(); got != at+1 {
					t.Fatalf("the handler ran %d times, want %d: deliveries after the change ran", got, at+1)
				}
				if got := len(sink.byCode(tc.code)); got != n-at-1 {
					t.Fatalf("%d reports with %v, want %d", got, tc.code, n-at-1)
				}
				for _, x := range sink.byCode(tc.code) {
					if x.Meta0 <= at {
						t.Fatalf("report %+v is for a delivery made before the change", x)
					}
				}
				return
			}
			c := fxCounter{}
			k.DrainTrace(func(_ int, r *trace.Record) { c.add(r) })
			if got := c.get(typ, trace.TaskStart); got != n-at-1 {
				t.Fatalf("%d task starts traced, want %d: the deliveries after the change", got, n-at-1)
			}
		})
	}
}
