package kernel

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// inspectKernel boots the kernel the inspection tests look at: a two-stage
// pipeline (in.ch → stage → out.ch → sink), a module whose type 5 always
// fails, and a catch-all consumer of sys.error.
func inspectKernel(t *testing.T, sunk, errs *atomic.Int64) *Kernel {
	t.Helper()
	bad := Module{Name: "bad", Version: "0.1", Handlers: []Handler{{Type: 5, Fn: func(*Ctx) Status { return FailCode(-7) }}}}
	report := Module{Name: "errs", Handlers: []Handler{{Type: AnyType, Fn: func(*Ctx) Status { errs.Add(1); return OK }}},
		Init: func(c *Ctx) error {
			id, err := c.Kernel().Chan(SysError)
			if err != nil {
				return err
			}
			return c.ChanSub(id, AnyType)
		}}
	k, err := Boot(BootConfig{Workers: 2, ArenaSize: 1 << 20, MaxTypes: 16,
		Poison: PoisonPolicy{Failures: 3, Window: 1 << 40},
		Types:  []TypeInfo{{ID: 1, Name: "raw"}, {ID: 2, Name: "clean"}}},
		stageModule("stage", "in.ch", "out.ch", 1, nil), stageModule("sink", "out.ch", "", 2, sunk), bad, report)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func chanInfo(t testing.TB, k *Kernel, name string) ChanInfo {
	t.Helper()
	for _, c := range k.Channels() {
		if c.Spec.Name == name {
			return c
		}
	}
	t.Fatalf("channel %s not listed", name)
	return ChanInfo{}
}

// [O1], [U5] Channels lists every channel — system channels included —
// with its spec, its counters and its subscriptions; a paused subscription's
// queue shows as the channel's depth and as its home worker's pending work.
func TestO1_InspectChannels(t *testing.T) {
	var sunk, errs atomic.Int64
	k := inspectKernel(t, &sunk, &errs)
	defer func() { checkIdentity(t, haltOK(t, k)) }()
	in, err := k.Chan("in.ch")
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	for i := range n {
		if err := k.ChanEmit(in, Task{Type: 1, Meta0: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the pipeline to finish", func() bool { return sunk.Load() == n })
	var names []string
	for _, c := range k.Channels() {
		names = append(names, c.Spec.Name)
	}
	for _, want := range []string{SysError, SysDropped, SysTick, "in.ch", "out.ch"} {
		if !slices.Contains(names, want) {
			t.Errorf("Channels lacks %s: %v", want, names)
		}
	}
	ci := chanInfo(t, k, "in.ch")
	if ci.Spec.Type != 1 || ci.Spec.Mode != P2P || ci.Spec.Guarantee != Lossless || ci.Stats.Emits != n {
		t.Errorf("in.ch: %+v", ci)
	}
	if len(ci.Subs) != 1 || ci.Subs[0].Module != "stage" {
		t.Fatalf("in.ch subscriptions: %+v", ci.Subs)
	}
	if s := chanInfo(t, k, SysError); len(s.Subs) != 1 || s.Subs[0].Module != "errs" {
		t.Errorf("sys.error subscriptions: %+v", s.Subs)
	}

	home := ci.Subs[0].Home
	if err := k.ChanPause(in, 0, true); err != nil {
		t.Fatal(err)
	}
	const m = 7
	for i := range m {
		if err := k.ChanEmit(in, Task{Type: 1, Meta0: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if d := chanInfo(t, k, "in.ch"); d.Stats.Depth != m || d.Subs[0].Depth != m || !d.Subs[0].Paused {
		t.Errorf("paused in.ch: depth %d, sub %+v; want %d queued", d.Stats.Depth, d.Subs[0], m)
	}
	if w := k.Workers()[home]; w.Pending < m || w.Subs < 1 {
		t.Errorf("worker %d: %+v; want %d pending", home, w, m)
	}
	if err := k.ChanPause(in, 0, false); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the resumed deliveries", func() bool { return sunk.Load() == n+m })
}

// [O1], [F3], [U5] Modules lists the modules in boot order with their types,
// catch-all handlers, counters and poisoned types; TypeModule, TypeName and
// TypeByName map between types, modules and names.
func TestF3_InspectModules(t *testing.T) {
	var sunk, errs atomic.Int64
	k := inspectKernel(t, &sunk, &errs)
	defer func() { checkIdentity(t, haltOK(t, k)) }()
	for range 3 {
		if err := k.Submit(Task{Type: 5}); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "type 5 to be poisoned", func() bool { return k.Poisoned(5) })
	waitUntil(t, "the failure reports", func() bool { return errs.Load() == 3 })
	mods := k.Modules()
	var names []string
	for _, m := range mods {
		names = append(names, m.Name)
	}
	if !slices.Equal(names, []string{"stage", "sink", "bad", "errs"}) {
		t.Fatalf("modules %v", names)
	}
	if b := mods[2]; !slices.Equal(b.Types, []uint32{5}) || !slices.Equal(b.Poisoned, []uint32{5}) ||
		b.Stats.Fail != 3 || b.Version != "0.1" {
		t.Errorf("bad: %+v", b)
	}
	if e := mods[3]; !e.CatchAll || len(e.Types) != 0 {
		t.Errorf("errs: %+v", e)
	}
	if s := mods[0]; len(s.Poisoned) != 0 || len(s.Channels) != 2 {
		t.Errorf("stage: %+v", s)
	}
	if err := k.ResetModule("bad"); err != nil {
		t.Fatal(err)
	}
	if p := k.Modules()[2].Poisoned; len(p) != 0 {
		t.Errorf("after ResetModule, poisoned %v", p)
	}
	if m, ok := k.TypeModule(1); !ok || m != "stage" {
		t.Errorf("TypeModule(1) = %q, %v", m, ok)
	}
	if _, ok := k.TypeModule(9); ok {
		t.Error("TypeModule(9): no module handles 9")
	}
	if k.TypeName(2) != "clean" || k.TypeName(5) != "" {
		t.Errorf("TypeName: %q %q", k.TypeName(2), k.TypeName(5))
	}
	if id, ok := k.TypeByName("raw"); !ok || id != 1 {
		t.Errorf("TypeByName(raw) = %d, %v", id, ok)
	}
}

// [S6], [O1] Workers reports every worker with its homed subscriptions; the
// shared queue, parked count, allocator stats and tick read without stalling.
func TestO1_InspectWorkers(t *testing.T) {
	var sunk, errs atomic.Int64
	k := inspectKernel(t, &sunk, &errs)
	ws := k.Workers()
	if len(ws) != 2 {
		t.Fatalf("%d workers", len(ws))
	}
	subs := 0
	for i, w := range ws {
		if w.ID != i {
			t.Errorf("worker %d has id %d", i, w.ID)
		}
		subs += w.Subs
	}
	if subs != 3 { // in.ch, out.ch, sys.error
		t.Errorf("%d subscriptions homed, want 3", subs)
	}
	waitUntil(t, "the idle workers to park", func() bool { return k.Parked() == 2 })
	if k.SharedDepth() != 0 {
		t.Errorf("shared depth %d on an idle kernel", k.SharedDepth())
	}
	if a := k.AllocStats(0); a.Block.Total == 0 {
		t.Errorf("alloc stats: %+v", a.Block)
	}
	if a := k.AllocStats(3); a.Block.Total != 0 {
		t.Errorf("tenant 3 does not exist: %+v", a.Block)
	}
	checkIdentity(t, haltOK(t, k))
	if len(k.Channels()) == 0 || len(k.Modules()) != 4 {
		t.Error("inspection after Halt")
	}
}
