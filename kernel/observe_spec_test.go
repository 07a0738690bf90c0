package kernel

// Spec tests of observability ([O1]–[O3]; GMK.md acceptance 9, CPU part):
// trace rings drained while the kernel runs, per-module levels changed at run
// time, statistically right sampling, EMIT_TRACE, the Chrome JSON export, and
// metrics that add up with what the test did. Tests that need records skip
// in the stripped build (-tags gmk_notrace).

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel/alloc"
	"github.com/gmkernel/gmk/kernel/trace"
)

func fxNeedTrace(t *testing.T) {
	t.Helper()
	if !trace.Enabled {
		t.Skip("tracing is compiled out (-tags gmk_notrace)")
	}
}

// fxTraceArena gives every worker a trace ring of 4096 records (10 % of a
// 4 MiB arena).
var fxTraceArena = alloc.Config{TaskSlabPct: 10, TraceSlabPct: 10, BlockPct: 60, BumpPct: 20}

// fxCounter counts trace records by (task type, event).
type fxCounter map[[2]uint32]int

func (c fxCounter) add(r *trace.Record) { c[[2]uint32{r.Type, uint32(r.Event)}]++ }

func (c fxCounter) get(typ uint32, ev trace.Event) int { return c[[2]uint32{typ, uint32(ev)}] }

// [O2][O1] Trace rings and metrics are read while the kernel runs: a drainer
// and a metrics reader run concurrently with the load; workers never wait
// for them. Every record is either drained or counted lost — exactly two per
// task at level ALL without sampling — with or without a drainer.
func TestO2_DrainWhileRunning(t *testing.T) {
	fxNeedTrace(t)
	for _, drain := range []bool{true, false} {
		t.Run(map[bool]string{true: "drainer", false: "no-drainer"}[drain], func(t *testing.T) {
			testDrainWhileRunning(t, drain)
		})
	}
}

func testDrainWhileRunning(t *testing.T, drain bool) {
	const typ, n = 1, 20000
	var done atomic.Int64
	m := Module{Name: "obs", Handlers: []Handler{{Type: typ, Fn: func(*Ctx) Status { done.Add(1); return OK }}}}
	// A 1 MiB arena leaves each worker a 256-record ring: far less than 2n.
	k := fxBoot(t, BootConfig{Workers: 2}, m)
	if err := k.SetTraceLevel("obs", trace.All); err != nil {
		t.Fatal(err)
	}
	var drained atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the host's trace drainer
		defer wg.Done()
		for drain {
			select {
			case <-stop:
				return
			default:
			}
			drained.Add(int64(k.DrainTrace(func(int, *trace.Record) {})))
		}
	}()
	go func() { // a metrics reader ([O1]): counters only grow
		defer wg.Done()
		var last Stats
		for {
			select {
			case <-stop:
				return
			default:
			}
			s := k.Stats()
			if s.Completed < last.Completed || s.Submitted < last.Submitted {
				t.Errorf("counters went back: %v then %v", last, s)
				return
			}
			last = s
			_ = k.TypeStats(typ)
			_ = k.TenantStats(0)
		}
	}()
	ts := make([]Task, n)
	for i := range ts {
		ts[i] = Task{Type: typ}
	}
	fxSubmitAll(t, k, ts)
	fxWait(t, "every task", func() bool { return done.Load() == n })
	close(stop)
	wg.Wait()
	r := haltOK(t, k)
	checkIdentity(t, r)
	drained.Add(int64(k.DrainTrace(func(int, *trace.Record) {})))
	lost := k.TraceLost()
	if uint64(drained.Load())+lost != 2*n {
		t.Fatalf("drained %d + lost %d != %d records", drained.Load(), lost, 2*n)
	}
	if ring := k.workers[0].tw.Cap(); !drain && drained.Load() > int64(2*ring) {
		t.Fatalf("drained %d records after the run from two %d-record rings", drained.Load(), ring)
	}
	t.Logf("drained %d, lost %d", drained.Load(), lost)
}

// [O3] Module levels filter and change at run time: OFF records nothing,
// ERROR only failures, ALL every start and end too.
func TestO3_ModuleLevelsFilter(t *testing.T) {
	fxNeedTrace(t)
	const tOff, tErr, tAll, nOK, nFail = 1, 2, 3, 60, 20
	var done atomic.Int64
	h := func(c *Ctx) Status {
		done.Add(1)
		if c.Task().Meta0 == 1 {
			return FailCode(-2)
		}
		return OK
	}
	mod := func(name string, typ uint32) Module {
		return Module{Name: name, Handlers: []Handler{{Type: typ, Fn: h}}}
	}
	k := fxBoot(t, BootConfig{Workers: 2, ArenaSize: 4 << 20, Arena: fxTraceArena, Poison: PoisonPolicy{Failures: 1000}},
		mod("off", tOff), mod("err", tErr), mod("all", tAll))
	for name, lv := range map[string]trace.Level{"off": trace.Off, "err": trace.Error, "all": trace.All} {
		if err := k.SetTraceLevel(name, lv); err != nil {
			t.Fatal(err)
		}
		if got, _ := k.TraceLevel(name); got != lv {
			t.Fatalf("level of %s is %v, want %v", name, got, lv)
		}
	}
	if err := k.SetTraceLevel("nobody", trace.All); err == nil {
		t.Fatal("SetTraceLevel of an unknown module succeeded")
	}
	// round submits nOK healthy and nFail failing tasks of every type and
	// drains until the records it expects arrived (a record may trail its
	// task's handler by a little); surplus records show up in later counts.
	round := func(want map[[2]uint32]int) fxCounter {
		base := done.Load()
		var ts []Task
		for _, typ := range []uint32{tOff, tErr, tAll} {
			for i := range nOK + nFail {
				ts = append(ts, Task{Type: typ, Meta0: map[bool]uint64{true: 1}[i < nFail]})
			}
		}
		fxSubmitAll(t, k, ts)
		total := 0
		for _, n := range want {
			total += n
		}
		c, got := fxCounter{}, 0
		fxWait(t, "the round's records", func() bool {
			got += k.DrainTrace(func(_ int, r *trace.Record) { c.add(r) })
			return done.Load() == base+int64(len(ts)) && got >= total
		})
		return c
	}
	want := map[[2]uint32]int{
		{tErr, uint32(trace.TaskFail)}:  nFail,
		{tAll, uint32(trace.TaskStart)}: nOK + nFail, {tAll, uint32(trace.TaskEnd)}: nOK + nFail,
		{tAll, uint32(trace.TaskFail)}: nFail,
	}
	fxSameCounts(t, "round 1", round(want), want)
	// Run time change: OFF ↔ ALL.
	_ = k.SetTraceLevel("off", trace.All)
	_ = k.SetTraceLevel("all", trace.Off)
	want = map[[2]uint32]int{
		{tOff, uint32(trace.TaskStart)}: nOK + nFail, {tOff, uint32(trace.TaskEnd)}: nOK + nFail,
		{tOff, uint32(trace.TaskFail)}: nFail,
		{tErr, uint32(trace.TaskFail)}: nFail,
	}
	c := round(want)
	r := haltOK(t, k)
	checkIdentity(t, r)
	k.DrainTrace(func(_ int, r *trace.Record) { c.add(r) })
	fxSameCounts(t, "round 2", c, want)
	if k.TraceLost() != 0 {
		t.Fatalf("%d records lost", k.TraceLost())
	}
}

func fxSameCounts(t *testing.T, what string, got fxCounter, want map[[2]uint32]int) {
	t.Helper()
	for key, n := range got {
		if want[key] != n {
			t.Fatalf("%s: %d records of type %d event %v, want %d", what, n, key[0], trace.Event(key[1]), want[key])
		}
	}
	for key, n := range want {
		if got[key] != n {
			t.Fatalf("%s: %d records of type %d event %v, want %d", what, got[key], key[0], trace.Event(key[1]), n)
		}
	}
}

// fxSampled runs n tasks of a module at level ALL with TraceSample 8 and
// returns the TASK_START and TASK_END records of its type (drained in rounds
// small enough that no ring overflows) and whether all carried Sampled.
func fxSampled(t *testing.T, workers, n int) (starts, ends int) {
	const typ, sample, chunk = 1, 8, 8192
	var done atomic.Int64
	m := Module{Name: "samp", Handlers: []Handler{{Type: typ, Fn: func(*Ctx) Status { done.Add(1); return OK }}}}
	k := fxBoot(t, BootConfig{Workers: workers, ArenaSize: 4 << 20, Arena: fxTraceArena, TraceSample: sample, Seed: 7}, m)
	if err := k.SetTraceLevel("samp", trace.All); err != nil {
		t.Fatal(err)
	}
	count := func(_ int, r *trace.Record) {
		if r.Type != typ {
			return
		}
		if r.Flags&trace.Sampled == 0 {
			t.Errorf("record %v without the sampled flag", r.Event)
		}
		switch r.Event {
		case trace.TaskStart:
			starts++
		case trace.TaskEnd:
			ends++
		}
	}
	ts := make([]Task, chunk)
	for i := range ts {
		ts[i] = Task{Type: typ}
	}
	for sent := 0; sent < n; sent += chunk {
		m := min(chunk, n-sent)
		fxSubmitAll(t, k, ts[:m])
		fxWait(t, "the chunk", func() bool { return done.Load() == int64(sent+m) })
		k.DrainTrace(count)
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	k.DrainTrace(count)
	if k.TraceLost() != 0 {
		t.Fatalf("%d records lost", k.TraceLost())
	}
	return starts, ends
}

// [O3] Sampling at level ALL: with TraceSample 8, the number of traced tasks
// is Binomial(n, 1/8) — within 5 sigma of n/8 — every record carries the
// sampled flag, starts and ends pair up, and one worker with a fixed seed
// takes the same decisions every run.
func TestO3_SamplingCounts(t *testing.T) {
	fxNeedTrace(t)
	n := 200000
	if testing.Short() {
		n = 50000
	}
	starts, ends := fxSampled(t, 2, n)
	mean, sigma := float64(n)/8, math.Sqrt(float64(n)*(1.0/8)*(7.0/8))
	if math.Abs(float64(starts)-mean) > 5*sigma || starts != ends {
		t.Fatalf("%d starts and %d ends of %d tasks, want %.0f ± %.0f (5σ)", starts, ends, n, mean, 5*sigma)
	}
	a, _ := fxSampled(t, 1, 20000)
	b, _ := fxSampled(t, 1, 20000)
	if a != b {
		t.Fatalf("same seed, one worker: %d then %d sampled tasks", a, b)
	}
	t.Logf("%d of %d tasks sampled (expected %.0f ± %.0f)", starts, n, mean, sigma)
}

// [O3] EMIT_TRACE tasks are always traced, whatever their module's level or
// sampling, with the forced flag — their failures too.
func TestO3_EmitTraceAlwaysTraced(t *testing.T) {
	fxNeedTrace(t)
	const tQuiet, tLoud, n = 1, 2, 100
	h := func(c *Ctx) Status {
		if c.Task().Meta0 == 1 {
			return Fail
		}
		return OK
	}
	k := fxBoot(t, BootConfig{Workers: 1, ArenaSize: 4 << 20, Arena: fxTraceArena, TraceSample: 1 << 30},
		Module{Name: "quiet", Handlers: []Handler{{Type: tQuiet, Fn: h}}},
		Module{Name: "loud", Handlers: []Handler{{Type: tLoud, Fn: h}}})
	_ = k.SetTraceLevel("quiet", trace.Off)
	_ = k.SetTraceLevel("loud", trace.All) // sampling 1 in 2^30: practically nothing
	for _, typ := range []uint32{tQuiet, tLoud} {
		for i := range n {
			x := Task{Type: typ}
			if i%2 == 0 {
				x.Flags |= EmitTrace
			}
			if i%10 == 0 {
				x.Meta0 = 1 // fails: half of these are EMIT_TRACE
			}
			if err := k.Submit(x); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	c := fxCounter{}
	k.DrainTrace(func(_ int, r *trace.Record) {
		if r.Flags&trace.Forced == 0 {
			t.Errorf("record %v of type %d not forced", r.Event, r.Type)
		}
		c.add(r)
	})
	for _, typ := range []uint32{tQuiet, tLoud} {
		if c.get(typ, trace.TaskStart) != n/2 || c.get(typ, trace.TaskEnd) != n/2 || c.get(typ, trace.TaskFail) != n/10 {
			t.Fatalf("type %d: starts %d ends %d fails %d, want %d %d %d", typ,
				c.get(typ, trace.TaskStart), c.get(typ, trace.TaskEnd), c.get(typ, trace.TaskFail), n/2, n/2, n/10)
		}
	}
}

// [O2] WriteTrace drains the rings into Chrome trace JSON: a traceEvents
// array with one B/E slice per traced task.
func TestO2_WriteTraceJSON(t *testing.T) {
	fxNeedTrace(t)
	const typ, n = 1, 50
	k := fxBoot(t, BootConfig{Workers: 2, TraceLevel: trace.All},
		Module{Name: "m", Handlers: []Handler{{Type: typ, Fn: func(*Ctx) Status { return OK }}}})
	for range n {
		if err := k.Submit(Task{Type: typ}); err != nil {
			t.Fatal(err)
		}
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	var buf bytes.Buffer
	if err := k.WriteTrace(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TraceEvents []struct {
			Name string         `json:"name"`
			Ph   string         `json:"ph"`
			TS   float64        `json:"ts"`
			TID  int            `json:"tid"`
			Args map[string]any `json:"args"`
		} `json:"traceEvents"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("WriteTrace output is not JSON: %v\n%.500s", err, buf.String())
	}
	ph := map[string]int{}
	for _, e := range doc.TraceEvents {
		if e.Ph == "B" || e.Ph == "E" {
			if e.Args["type"] != float64(typ) {
				t.Fatalf("slice of type %v, want %d", e.Args["type"], typ)
			}
		}
		ph[e.Ph]++
	}
	if ph["B"] != n || ph["E"] != n {
		t.Fatalf("%d B and %d E events, want %d each (%v)", ph["B"], ph["E"], n, ph)
	}
}

// [O1] The counters add up with what the test did: per tenant, per type, per
// channel, user metrics and the global identity — with successes, failures,
// retries, channel deliveries (some refused with CHAN_FULL) and lossy drops.
func TestO1_MetricsAddUp(t *testing.T) {
	const tOK, tFail, tRetry, tIn, tVoid, tenants = 1, 2, 3, 4, 5, 3
	var metric MetricID
	m := Module{Name: "acct",
		Handlers: []Handler{
			{Type: tOK, Fn: func(c *Ctx) Status { c.MetricInc(metric, 2); return OK }},
			{Type: tFail, Fn: func(*Ctx) Status { return FailCode(-4) }},
			{Type: tRetry, Fn: func(c *Ctx) Status { // Aux is the retry count
				if c.Task().Aux == 0 {
					return Retry
				}
				return OK
			}},
			{Type: tIn, Fn: func(*Ctx) Status { return OK }},
		},
		Channels: []ChanDecl{{Name: "acct.in", Dir: Consume, Type: tIn, Guarantee: Lossless, Slots: 8},
			{Name: "acct.void", Dir: Produce, Type: tVoid}},
		Init: func(c *Ctx) (err error) {
			metric, err = c.Kernel().Metric("acct.ok")
			return err
		},
	}
	k := fxBoot(t, BootConfig{Workers: 2, Tenants: tenants, Poison: PoisonPolicy{Failures: 1000}}, m)
	var want [tenants]TenantStats
	var nOK, nFail, nRetry uint64
	for ten := range tenants {
		ok, fail, retry := 10+ten, 3+ten, 2+ten
		for i := range ok + fail + retry {
			typ := uint32(tOK)
			switch {
			case i >= ok+fail:
				typ = tRetry
			case i >= ok:
				typ = tFail
			}
			if err := k.Submit(Task{Type: typ, Tenant: uint16(ten)}); err != nil {
				t.Fatal(err)
			}
		}
		want[ten] = TenantStats{Enqueued: uint64(ok + fail + 2*retry), Dequeued: uint64(ok + fail + 2*retry),
			Completed: uint64(ok + retry), Errored: uint64(fail)}
		nOK, nFail, nRetry = nOK+uint64(ok), nFail+uint64(fail), nRetry+uint64(retry)
	}
	in, void := fxChan(t, k, "acct.in"), fxChan(t, k, "acct.void")
	const nIn, nVoid = 500, 40
	var full uint64
	for i := 0; i < nIn; {
		switch err := k.ChanEmit(in, Task{Type: tIn}); {
		case err == nil:
			i++
		case fxIsFull(err):
			full++
		default:
			t.Fatal(err)
		}
	}
	for range nVoid { // a lossy channel without subscribers drops every emit
		if err := k.ChanEmit(void, Task{Type: tVoid}); err != nil {
			t.Fatal(err)
		}
	}
	want[0].Enqueued += nIn
	want[0].Dequeued += nIn
	want[0].Completed += nIn
	r := haltOK(t, k)
	checkIdentity(t, r)
	wantStats := Stats{Submitted: nOK + nFail + nRetry, Emitted: nIn + nVoid, Completed: nOK + nRetry + nIn,
		Errored: nFail, Dropped: nVoid, Retried: nRetry}
	if r.Stats != wantStats || r.Queued != 0 {
		t.Fatalf("stats %+v, want %+v", r.Stats, wantStats)
	}
	for ten := range tenants {
		if got := k.TenantStats(ten); got != want[ten] {
			t.Fatalf("tenant %d: %+v, want %+v", ten, got, want[ten])
		}
	}
	for typ, w := range map[uint32]TypeStats{tOK: {OK: nOK}, tFail: {Fail: nFail},
		tRetry: {OK: nRetry, Retry: nRetry}, tIn: {OK: nIn}, tVoid: {}} {
		if got := k.TypeStats(typ); got != w {
			t.Fatalf("type %d: %+v, want %+v", typ, got, w)
		}
	}
	if cs, _ := k.ChanStats(in); cs.Emits != nIn || cs.Full != full || cs.Drops != 0 || cs.Subscribers != 1 || cs.Depth != 0 || cs.Name != "acct.in" {
		t.Fatalf("acct.in: %+v, want %d emits, %d full", cs, nIn, full)
	}
	if cs, _ := k.ChanStats(void); cs.Emits != nVoid || cs.Drops != nVoid || cs.Subscribers != 0 {
		t.Fatalf("acct.void: %+v, want %d emits and drops", cs, nVoid)
	}
	if v := k.MetricValue(metric); v != 2*nOK {
		t.Fatalf("user metric %d, want %d", v, 2*nOK)
	}
	t.Logf("%v; acct.in refused %d emits with CHAN_FULL", r.Stats, full)
}

// [O2][O3][S6] An idle worker wakes every ParkWait to look for work; those
// looks are not traced: at level ALL, an idle kernel records no park or
// wake for many ParkWaits (it recorded a pair per worker per look, which
// filled the rings and sys.trace). When work comes, the worker that runs
// it records a wake before the task and a park after it.
func TestO3_IdleWorkersDoNotTraceTheirLooks(t *testing.T) {
	fxNeedTrace(t)
	var ran atomic.Int64
	m := Module{Name: "obs", Handlers: []Handler{{Type: 1, Fn: func(*Ctx) Status { ran.Add(1); return OK }}}}
	k := fxBoot(t, BootConfig{Workers: 2, TraceLevel: trace.All, ParkWait: time.Millisecond}, m)
	parks := func() (n int) {
		k.DrainTrace(func(_ int, r *trace.Record) {
			if r.Event == trace.WorkerPark || r.Event == trace.WorkerWake {
				n++
			}
		})
		return n
	}
	parks() // the first parks
	fxWait(t, "the workers to settle", func() bool {
		time.Sleep(5 * time.Millisecond)
		return parks() == 0
	})
	time.Sleep(50 * time.Millisecond) // 50 looks per worker
	if n := parks(); n != 0 {
		t.Fatalf("%d park and wake records while idle for 50 ParkWaits, want 0", n)
	}
	if err := k.Submit(Task{Type: 1}); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "the task", func() bool { return ran.Load() == 1 })
	var seq []trace.Event
	fxWait(t, "the worker to park again", func() bool {
		k.DrainTrace(func(_ int, r *trace.Record) {
			switch r.Event {
			case trace.WorkerWake, trace.WorkerPark, trace.TaskStart:
				seq = append(seq, r.Event)
			}
		})
		return len(seq) > 0 && seq[len(seq)-1] == trace.WorkerPark
	})
	start := slices.Index(seq, trace.TaskStart)
	if start < 1 || seq[start-1] != trace.WorkerWake {
		t.Fatalf("records %v: want a wake before the task's start and a park after", seq)
	}
	checkIdentity(t, haltOK(t, k))
}
