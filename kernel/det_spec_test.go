package kernel

// Spec tests of the deterministic lane ([D1], [D2]; GMK.md acceptance 7,
// issue 7 acceptance 1–3): canonical order whatever the worker count, the
// T → T+1 visibility rule and the channel-id drain order, sys.tick, the
// trace hash, boot checks, and determinism under a non-deterministic flood.

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// detLog records what deterministic handlers ran, in order (they all run on
// worker 0, one at a time; the mutex is for the test's reads).
type detLog struct {
	mu  sync.Mutex
	got []string
}

func (l *detLog) add(format string, args ...any) {
	l.mu.Lock()
	l.got = append(l.got, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *detLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.got)
}

func detTypes(ids ...uint32) []TypeInfo {
	var out []TypeInfo
	for _, id := range ids {
		out = append(out, TypeInfo{ID: id, Deterministic: true})
	}
	return out
}

// [D1] Tasks submitted for one tick run in (priority, type, seq) order —
// the same order with 1, 2 and 4 workers.
func TestD1_CanonicalOrder(t *testing.T) {
	var want []string
	for _, workers := range []int{1, 2, 4} {
		log := &detLog{}
		rec := func(c *Ctx) Status {
			x := c.Task()
			log.add("tick=%d prio=%d type=%d meta=%d", c.Tick(), x.Priority(), x.Type, x.Meta0)
			return OK
		}
		m := Module{Name: "det", Handlers: []Handler{
			{Type: 1, Fn: rec, Flags: DetHandler}, {Type: 2, Fn: rec, Flags: DetHandler}, {Type: 3, Fn: rec, Flags: DetHandler}}}
		k := fxBoot(t, BootConfig{Workers: workers, Types: detTypes(1, 2, 3)}, m)
		var ts []Task
		for i := range 12 { // types 3,2,1 interleaved, two priorities
			x := Task{Type: uint32(3 - i%3), Meta0: uint64(i)}
			x.Flags |= Flags(i % 2) // priority 0 or 1
			ts = append(ts, x)
		}
		if _, err := k.SubmitBatch(ts); err != nil {
			t.Fatal(err)
		}
		r := haltOK(t, k)
		checkIdentity(t, r)
		got := log.list()
		if len(got) != 12 || r.Stats.Completed != 12 {
			t.Fatalf("%d workers: ran %v", workers, got)
		}
		sorted := slices.Clone(ts)
		slices.SortStableFunc(sorted, func(a, b Task) int {
			if a.Priority() != b.Priority() {
				return a.Priority() - b.Priority()
			}
			return int(a.Type) - int(b.Type)
		})
		for i, x := range sorted {
			if w := fmt.Sprintf("tick=1 prio=%d type=%d meta=%d", x.Priority(), x.Type, x.Meta0); got[i] != w {
				t.Fatalf("%d workers: position %d ran %q, want %q (all: %v)", workers, i, got[i], w, got)
			}
		}
		if want == nil {
			want = got
		} else if !slices.Equal(got, want) {
			t.Fatalf("%d workers ran %v, 1 worker %v", workers, got, want)
		}
	}
}

// [D1] What a deterministic handler emits during tick T runs at T+1 —
// direct emits and channel deliveries — and deterministic channels drain in
// ascending channel id order, whatever the order of the emits.
func TestD1_NextTickVisibilityAndDrainOrder(t *testing.T) {
	const tSeed, tEv, tDirect = 1, 2, 3
	log := &detLog{}
	var low, high ChanID
	seed := Module{Name: "seed", Handlers: []Handler{{Type: tSeed, Flags: DetHandler, Fn: func(c *Ctx) Status {
		log.add("seed tick=%d", c.Tick())
		for i := range 2 { // the higher channel id first
			if err := c.ChanEmit(high, Task{Type: tEv, Meta0: uint64(100 + i)}); err != nil {
				return FailCode(-1)
			}
			if err := c.ChanEmit(low, Task{Type: tEv, Meta0: uint64(200 + i)}); err != nil {
				return FailCode(-1)
			}
		}
		if err := c.Emit(Task{Type: tDirect, Meta0: 300}); err != nil {
			return FailCode(-1)
		}
		return OK
	}}},
		Channels: []ChanDecl{
			{Name: "test.low", Dir: Produce, Type: tEv, Guarantee: Lossless},
			{Name: "test.high", Dir: Produce, Type: tEv, Guarantee: Lossless}},
		Init: func(c *Ctx) (err error) {
			if low, err = c.Kernel().Chan("test.low"); err != nil {
				return err
			}
			high, err = c.Kernel().Chan("test.high")
			return err
		}}
	rec := func(c *Ctx) Status {
		log.add("type=%d chan=%d meta=%d tick=%d", c.Task().Type, c.Task().ChannelID(), c.Task().Meta0, c.Tick())
		return OK
	}
	sink := Module{Name: "sink", Handlers: []Handler{{Type: tEv, Flags: DetHandler, Fn: rec}, {Type: tDirect, Flags: DetHandler, Fn: rec}},
		Channels: []ChanDecl{
			{Name: "test.high", Dir: Consume, Type: tEv, Guarantee: Lossless},
			{Name: "test.low", Dir: Consume, Type: tEv, Guarantee: Lossless}}}
	k := fxBoot(t, BootConfig{Workers: 2, Types: detTypes(tSeed, tEv, tDirect)}, seed, sink)
	if low > high {
		t.Fatalf("channel ids: low %d high %d", low, high)
	}
	if err := k.Submit(Task{Type: tSeed}); err != nil {
		t.Fatal(err)
	}
	checkIdentity(t, haltOK(t, k))
	want := []string{"seed tick=1",
		fmt.Sprintf("type=2 chan=%d meta=200 tick=2", low), fmt.Sprintf("type=2 chan=%d meta=201 tick=2", low),
		fmt.Sprintf("type=2 chan=%d meta=100 tick=2", high), fmt.Sprintf("type=2 chan=%d meta=101 tick=2", high),
		"type=3 chan=0 meta=300 tick=2"}
	if got := log.list(); !slices.Equal(got, want) {
		t.Fatalf("ran\n%v\nwant\n%v", got, want)
	}
	if s := k.DetStats(); s.Tick != 2 || s.Ran != 6 {
		t.Fatalf("lane stats %+v", s)
	}
}

// [D1] Boot refuses a deterministic type whose handler is not registered
// DETERMINISTIC, and a non-deterministic subscriber of a deterministic
// channel; Submit refuses a DETERMINISTIC flag on a type that is not.
func TestD1_BootChecks(t *testing.T) {
	nop := func(*Ctx) Status { return OK }
	_, err := Boot(BootConfig{Workers: 1, Types: detTypes(1)}, Module{Name: "m", Handlers: []Handler{{Type: 1, Fn: nop}}})
	if !errors.Is(err, ErrNotDeterministic) || !errors.Is(err, ErrConfig) {
		t.Fatalf("non-DETERMINISTIC handler of a deterministic type: %v", err)
	}
	relay := Module{Name: "relay", Handlers: []Handler{{Type: AnyType, Fn: nop}, {Type: 1, Fn: nop, Flags: DetHandler}}}
	k := fxBoot(t, BootConfig{Workers: 1, Types: detTypes(1)}, relay)
	id, err := k.ChanOpen(ChanSpec{Name: "test.det", Type: 1, Mode: FanOut, Guarantee: Lossless})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.ChanSubscribe(id, "relay", AnyType); !errors.Is(err, ErrNotDeterministic) {
		t.Fatalf("non-deterministic catch-all on a deterministic channel: %v", err)
	}
	x := Task{Type: 2}
	x.Flags |= Deterministic
	if err := k.Submit(x); !errors.Is(err, ErrNotDeterministic) {
		t.Fatalf("DETERMINISTIC flag on a plain type: %v", err)
	}
	haltOK(t, k)
}

// detSim is a small deterministic workload: n counters, each an entity that
// re-emits itself with its value updated from its own channel deliveries
// until it reaches ticks; every tick, each entity also sends its value to
// the next one over a fan-out channel. It returns the final values and the
// trace hash.
func detSim(t *testing.T, workers, n, ticks int, flood bool) ([]uint64, uint64) {
	t.Helper()
	const tStep, tMsg, tNoise = 1, 2, 7
	vals := make([]uint64, n)
	var ring ChanID
	step := func(c *Ctx) Status {
		x := c.Task()
		i := x.Meta1
		vals[i] = vals[i]*31 + x.Meta0 + c.Tick()
		if c.Tick() >= uint64(ticks) {
			return OK
		}
		if err := c.ChanEmit(ring, Task{Type: tMsg, Meta0: vals[i], Meta1: (i + 1) % uint64(n)}); err != nil {
			return Retry
		}
		if err := c.Emit(Task{Type: tStep, Meta0: 1, Meta1: i}); err != nil {
			return FailCode(-1)
		}
		return OK
	}
	msg := func(c *Ctx) Status {
		x := c.Task()
		vals[x.Meta1] ^= x.Meta0 << 1
		return OK
	}
	var noise atomic.Int64
	mods := []Module{{Name: "sim", Handlers: []Handler{
		{Type: tStep, Fn: step, Flags: DetHandler}, {Type: tMsg, Fn: msg, Flags: DetHandler}},
		Channels: []ChanDecl{{Name: "sim.ring", Dir: Produce, Type: tMsg, Mode: FanOut, Guarantee: Lossless, Slots: 4096},
			{Name: "sim.ring", Dir: Consume, Type: tMsg, Mode: FanOut, Guarantee: Lossless, Slots: 4096}},
		Init: func(c *Ctx) (err error) { ring, err = c.Kernel().Chan("sim.ring"); return err }},
		{Name: "noise", Handlers: []Handler{{Type: tNoise, Fn: func(c *Ctx) Status { noise.Add(1); return OK }}}}}
	k := fxBoot(t, BootConfig{Workers: workers, Types: detTypes(tStep, tMsg)}, mods...)
	var in []Task
	for i := range n {
		in = append(in, Task{Type: tStep, Meta0: uint64(i), Meta1: uint64(i)})
	}
	if _, err := k.SubmitBatch(in); err != nil { // one tick's inputs
		t.Fatal(err)
	}
	if flood {
		for i := range 20000 {
			for k.Submit(Task{Type: tNoise, Meta0: uint64(i)}) != nil {
			}
		}
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if flood && noise.Load() != 20000 {
		t.Fatalf("the flood ran %d of 20000", noise.Load())
	}
	if s := k.DetStats(); s.Tick != uint64(ticks) {
		t.Fatalf("lane ended at tick %d, want %d", s.Tick, ticks)
	}
	return vals, k.TraceHash()
}

// [D2] Same inputs → same outputs and the same trace hash, run after run,
// with 1, 2 and 4 workers, and while a non-deterministic flood shares the
// kernel (issue 7 acceptance 1 and 3).
func TestD2_SameRunSameHash(t *testing.T) {
	runs := 20
	if testing.Short() {
		runs = 5
	}
	want, wantHash := detSim(t, 1, 8, 50, false)
	if wantHash == fnvOffset {
		t.Fatal("the trace hash never changed")
	}
	for r := range runs {
		for _, workers := range []int{1, 2, 4} {
			got, h := detSim(t, workers, 8, 50, r%2 == 1)
			if h != wantHash || !slices.Equal(got, want) {
				t.Fatalf("run %d, %d workers: hash %x values %v, want %x %v", r, workers, h, got, wantHash, want)
			}
		}
	}
	other, h := detSim(t, 2, 8, 51, false)
	if h == wantHash || slices.Equal(other, want) {
		t.Fatal("a different run has the same hash")
	}
}

// [D1] sys.tick: each tick advance delivers the new tick to its
// deterministic subscribers, first in the tick.
func TestD1_SysTick(t *testing.T) {
	const tTick, tWork = 4, 5
	log := &detLog{}
	m := Module{Name: "clock", Handlers: []Handler{
		{Type: tTick, Flags: DetHandler, Fn: func(c *Ctx) Status { log.add("tick %d/%d", c.Task().Meta0, c.Tick()); return OK }},
		{Type: tWork, Flags: DetHandler, Fn: func(c *Ctx) Status {
			log.add("work %d", c.Tick())
			if c.Tick() < 3 {
				_ = c.Emit(Task{Type: tWork})
			}
			return OK
		}}},
		Channels: []ChanDecl{{Name: SysTick, Dir: Consume, Type: tTick}}}
	k := fxBoot(t, BootConfig{Workers: 2, Types: detTypes(tTick, tWork)}, m)
	if err := k.Submit(Task{Type: tWork}); err != nil {
		t.Fatal(err)
	}
	checkIdentity(t, haltOK(t, k))
	want := []string{"tick 1/1", "work 1", "tick 2/2", "work 2", "tick 3/3", "work 3"}
	if got := log.list(); !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	if err := k.ChanClose(k.sysTick.ID()); err == nil {
		t.Fatal("sys.tick was closed")
	}
}

// [D1] SubmitBatch in a kernel with deterministic types: an empty batch is
// nothing; in a mixed batch the deterministic tasks go to the lane (and run
// on worker 0 in canonical order), the plain ones to the ready queues.
func TestD1_MixedBatch(t *testing.T) {
	const tDet, tPlain = 1, 2
	log := &detLog{}
	var plain atomic.Int64
	m := Module{Name: "m", Handlers: []Handler{
		{Type: tDet, Flags: DetHandler, Fn: func(c *Ctx) Status {
			log.add("det %d tick=%d worker=%d", c.Task().Meta0, c.Tick(), c.Worker())
			return OK
		}},
		{Type: tPlain, Fn: func(*Ctx) Status { plain.Add(1); return OK }}}}
	k := fxBoot(t, BootConfig{Workers: 2, Types: detTypes(tDet)}, m)
	if n, err := k.SubmitBatch(nil); n != 0 || err != nil {
		t.Fatalf("empty batch: %d, %v", n, err)
	}
	ts := []Task{{Type: tPlain}, {Type: tDet, Meta0: 2}, {Type: tDet, Meta0: 1}, {Type: tPlain}, {Type: tDet, Meta0: 3}}
	ts[2].SetPriority(0)
	ts[1].SetPriority(1) // canonical order puts Meta0 1 (priority 0) first
	if n, err := k.SubmitBatch(ts); n != len(ts) || err != nil {
		t.Fatalf("mixed batch: %d, %v", n, err)
	}
	checkIdentity(t, haltOK(t, k))
	got := log.list()
	if plain.Load() != 2 || len(got) != 3 || got[0] != "det 1 tick=1 worker=0" {
		t.Fatalf("plain ran %d, lane ran %v", plain.Load(), got)
	}
	if s := k.DetStats(); s.Ran != 3 {
		t.Fatalf("the lane ran %d tasks, want 3", s.Ran)
	}
}
