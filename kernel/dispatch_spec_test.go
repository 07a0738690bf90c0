package kernel

// Spec tests of dispatch and modules (GMK.md [M1]–[M3], [T3], [K2],
// acceptance item 5).

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// spDispatch is the state of the mixed-types test: what every handler
// checked. Handlers of several workers update it, so it is atomic or locked;
// lastTick[w] is written by worker w only.
type spDispatch struct {
	workers, tenants int
	hits             [64]atomic.Uint64 // per type
	bad              atomic.Uint64
	mu               sync.Mutex
	first            string
	lastTick         []uint64
}

func (s *spDispatch) fail(format string, args ...any) {
	if s.bad.Add(1) == 1 {
		s.mu.Lock()
		s.first = fmt.Sprintf(format, args...)
		s.mu.Unlock()
	}
}

// handler returns the handler of typ in module mod: it checks the whole
// context ([T3]) against what the submitter encoded in the task — Meta1 is
// type<<16 | tenant, Meta0 the id that patterns the payload.
func (s *spDispatch) handler(mod string, typ uint32) HandlerFunc {
	return func(c *Ctx) Status {
		x := c.Task()
		w := c.Worker()
		switch {
		case x.Type != typ || x.Meta1>>16 != uint64(typ):
			s.fail("%s handler for type %d got type %d (meta1 %#x)", mod, typ, x.Type, x.Meta1)
		case c.Tenant() != int(x.Tenant) || c.Tenant() != int(x.Meta1&0xffff) || c.Tenant() >= s.tenants:
			s.fail("tenant %d, task tenant %d, submitted %d", c.Tenant(), x.Tenant, x.Meta1&0xffff)
		case w < 0 || w >= s.workers:
			s.fail("worker %d out of range", w)
		case c.Tick() < s.lastTick[w]:
			s.fail("worker %d tick went back from %d to %d", w, s.lastTick[w], c.Tick())
		case c.Module() != mod || c.Kernel() == nil || x.Flags&ChannelMsg != 0 || x.Channel != 0:
			s.fail("module %q (want %q), flags %#x, channel %d", c.Module(), mod, x.Flags, x.Channel)
		case x.PayloadLen != 0 && !spSame(c.Payload(), x.Meta0, int(x.PayloadLen)):
			s.fail("type %d id %d: payload of %d bytes does not match", typ, x.Meta0, x.PayloadLen)
		}
		if w >= 0 && w < s.workers {
			s.lastTick[w] = c.Tick()
		}
		s.hits[typ].Add(1)
		return OK
	}
}

// TestM1M3T3_MixedTypesDispatchValidContext proves acceptance item 5 and
// [M1], [M3], [T3]: 12 handlers in 3 modules; 4 goroutines submit mixed
// types and tenants at full rate, a quarter with payloads; every dispatch hits
// the handler of its type with a fully valid context, the per-type and
// per-tenant counters match, and every payload is freed.
func TestM1M3T3_MixedTypesDispatchValidContext(t *testing.T) {
	const (
		mods, perMod, base = 3, 4, 10
		goroutines, per    = 4, 5000
		tenants            = 3
	)
	cfg := spCfg()
	cfg.Tenants = tenants
	s := &spDispatch{workers: cfg.Workers, tenants: tenants, lastTick: make([]uint64, cfg.Workers)}
	var ms []Module
	for m := range mods {
		mod := Module{Name: fmt.Sprintf("mod%d", m), Version: "1.0"}
		for j := range perMod {
			typ := uint32(base + m*perMod + j)
			mod.Handlers = append(mod.Handlers, Handler{Type: typ, Fn: s.handler(mod.Name, typ), Name: fmt.Sprintf("h%d", typ)})
		}
		ms = append(ms, mod)
	}
	k := spBoot(t, cfg, ms...)
	var wg sync.WaitGroup
	var wantType [64]uint64
	var wantTenant [tenants]uint64
	var payloads atomic.Uint64
	for g := range goroutines {
		for i := range per {
			id := uint64(g*per + i)
			typ, ten := uint32(base+id%(mods*perMod)), id%tenants
			wantType[typ]++
			wantTenant[ten]++
		}
		wg.Go(func() {
			for i := range per {
				id := uint64(g*per + i)
				typ, ten := uint32(base+id%(mods*perMod)), uint16(id%tenants)
				x := Task{Type: typ, Tenant: ten, Meta0: id, Meta1: uint64(typ)<<16 | uint64(ten)}
				if id%4 == 0 {
					h, b, err := k.Alloc(int(ten), 16+int(id%200))
					if err != nil {
						s.fail("alloc: %v", err)
						continue
					}
					spFill(b, id)
					x.Payload, x.PayloadLen = h, uint32(len(b))
					payloads.Add(1)
				}
				spSubmit(k, x, s.fail)
			}
		})
	}
	wg.Wait()
	r := haltOK(t, k)
	checkIdentity(t, r)
	if s.bad.Load() != 0 {
		t.Fatalf("%d bad dispatches; first: %s", s.bad.Load(), s.first)
	}
	for typ := range wantType {
		if got, ts := s.hits[typ].Load(), k.TypeStats(uint32(typ)); got != wantType[typ] || ts.OK != wantType[typ] {
			t.Errorf("type %d: %d hits, TypeStats %+v; want %d", typ, got, ts, wantType[typ])
		}
	}
	for ten, want := range wantTenant {
		if ts := k.TenantStats(ten); ts.Completed != want || ts.Enqueued != want || ts.Dequeued != want || ts.Errored != 0 {
			t.Errorf("tenant %d: %+v, want %d", ten, ts, want)
		}
	}
	if r.Stats.Completed != goroutines*per {
		t.Errorf("stats %v", r.Stats)
	}
	spCheckArena(t, k, r, payloads.Load())
}

// spSubmit submits x, retrying while the ready queue is full (Submit's
// backpressure); other errors go to fail.
func spSubmit(k *Kernel, x Task, fail func(string, ...any)) {
	for {
		err := k.Submit(x)
		if !errors.Is(err, ErrChanFull) {
			if err != nil {
				fail("submit %d: %v", x.Meta0, err)
			}
			return
		}
		runtime.Gosched()
	}
}

// TestM3_UnknownTypeToSysDropped proves [M3]: a task of a type without a
// handler — submitted or emitted by a handler — goes to sys.dropped with
// UNKNOWN_TYPE, carrying its type, arguments and payload (freed after the
// report); a type at or above MaxTypes is refused at Submit.
func TestM3_UnknownTypeToSysDropped(t *testing.T) {
	const tKnown, tUnknown, tSink = 1, 40, 9
	var sink spSink
	emitter := Module{Name: "emitter", Handlers: []Handler{{Type: tKnown, Fn: func(c *Ctx) Status {
		if err := c.Emit(Task{Type: tUnknown, Meta0: 100}); err != nil {
			return Fail
		}
		return OK
	}}}}
	k := spBoot(t, spCfg(), emitter, sink.module("sink", SysDropped, tSink))
	if err := k.Submit(Task{Type: 64}); !errors.Is(err, ErrUnknownType) {
		t.Errorf("submit of type 64 with MaxTypes 64: %v", err)
	}
	for _, x := range []Task{{Type: tUnknown, Meta0: 1}, spPayloadTask(t, k, tUnknown, 0, 2, 48), {Type: tKnown}} {
		if err := k.Submit(x); err != nil {
			t.Fatal(err)
		}
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	got := sink.reports()
	slices.SortFunc(got, func(a, b spReport) int { return int(a.Meta0) - int(b.Meta0) })
	if len(got) != 3 || r.Stats.Dropped != 3 {
		t.Fatalf("%d reports %+v, %d dropped; want 3", len(got), got, r.Stats.Dropped)
	}
	for i, m0 := range []uint64{1, 2, 100} {
		if rep := got[i]; rep.Code != task.UnknownType || rep.Type != tUnknown || rep.Meta0 != m0 {
			t.Errorf("report %d: %+v, want UNKNOWN_TYPE type %d meta0 %d", i, rep, tUnknown, m0)
		}
	}
	if !spSame(got[1].Data, 2, 48) {
		t.Errorf("report payload %v", got[1].Data)
	}
	spCheckArena(t, k, r, 1)
}

// TestM1_RegistrationErrorsFailBoot proves [M1]/[M2]: bad registrations fail
// Boot with an ErrConfig naming the module and the type, before any Init.
func TestM1_RegistrationErrorsFailBoot(t *testing.T) {
	h := func(typ uint32) Handler { return Handler{Type: typ, Fn: spNop} }
	cases := []struct {
		name string
		mods []Module
		want []string
	}{
		{"nil-fn", []Module{{Name: "a", Handlers: []Handler{{Type: 3}}}}, []string{"module a", "type 3", "no function"}},
		{"duplicate-type", []Module{{Name: "a", Handlers: []Handler{h(3), h(4), h(3)}}}, []string{"module a", "type 3", "twice"}},
		{"type-too-large", []Module{{Name: "a", Handlers: []Handler{h(64)}}}, []string{"module a", "type 64", "max types 64"}},
		{"duplicate-module", []Module{{Name: "a"}, {Name: "b"}, {Name: "a"}}, []string{`"a"`, "duplicate"}},
		{"unnamed-module", []Module{{Handlers: []Handler{h(1)}}}, []string{`""`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inits := 0
			for i := range tc.mods {
				tc.mods[i].Init = func(*Ctx) error { inits++; return nil }
			}
			k, err := Boot(spCfg(), tc.mods...)
			if err == nil {
				_ = k.Halt(t.Context())
				t.Fatal("boot succeeded")
			}
			if !errors.Is(err, ErrConfig) || inits != 0 {
				t.Errorf("error %v (ErrConfig: %v), %d Init calls", err, errors.Is(err, ErrConfig), inits)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// spLifecycle records Init and Fini calls of modules (Boot and Halt run them
// on one goroutine).
type spLifecycle struct {
	log  []string
	bad  []string
	fail map[string]error // Init errors
}

func (l *spLifecycle) module(name string) Module {
	check := func(c *Ctx, what string) {
		if c.Worker() != -1 || c.Module() != name || c.Task() != nil || c.Tenant() != 0 {
			l.bad = append(l.bad, fmt.Sprintf("%s %s: worker %d module %q", what, name, c.Worker(), c.Module()))
		}
	}
	return Module{Name: name, Handlers: []Handler{{Type: 1, Fn: spNop}},
		Init: func(c *Ctx) error { check(c, "init"); l.log = append(l.log, "init:"+name); return l.fail[name] },
		Fini: func(c *Ctx) error {
			check(c, "fini")
			l.log = append(l.log, "fini:"+name)
			return errors.New("fini errors are logged, not fatal")
		},
	}
}

// TestM2K2_InitOrderFiniReverse proves [M2] and [K2]: Init runs in boot
// order with a task-less context before the workers start; Fini runs at Halt
// in reverse order, every one even when some fail (best effort).
func TestM2K2_InitOrderFiniReverse(t *testing.T) {
	var l spLifecycle
	k := spBoot(t, spCfg(), l.module("a"), l.module("b"), l.module("c"))
	if want := []string{"init:a", "init:b", "init:c"}; !slices.Equal(l.log, want) {
		t.Fatalf("after boot: %v, want %v", l.log, want)
	}
	checkIdentity(t, haltOK(t, k))
	if want := []string{"init:a", "init:b", "init:c", "fini:c", "fini:b", "fini:a"}; !slices.Equal(l.log, want) || l.bad != nil {
		t.Fatalf("lifecycle %v, want %v; bad contexts %v", l.log, want, l.bad)
	}
}

// TestM2_FailingInitRunsFiniOfInited proves [M2]: a failing Init fails Boot
// with an error wrapping it and naming the module, and the modules already
// inited get their Fini (in reverse order); later modules are not inited.
func TestM2_FailingInitRunsFiniOfInited(t *testing.T) {
	errInit := errors.New("no database")
	l := spLifecycle{fail: map[string]error{"c": errInit}}
	k, err := Boot(spCfg(), l.module("a"), l.module("b"), l.module("c"), l.module("d"))
	if err == nil {
		_ = k.Halt(t.Context())
		t.Fatal("boot succeeded")
	}
	if !errors.Is(err, errInit) || !strings.Contains(err.Error(), "module c") {
		t.Errorf("error %v does not wrap the Init error or name module c", err)
	}
	if want := []string{"init:a", "init:b", "init:c", "fini:b", "fini:a"}; !slices.Equal(l.log, want) || l.bad != nil {
		t.Errorf("lifecycle %v, want %v; bad contexts %v", l.log, want, l.bad)
	}
}
