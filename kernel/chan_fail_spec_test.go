package kernel

// Spec tests of channel errors and dead letters (GMK.md [C3], [C6], [C9],
// [C11], acceptance item 6): declaration checks at boot, emit-time errors,
// closed channels, drop-slow and sys.dropped.

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/task"
)

func spNop(*Ctx) Status { return OK }

// TestC11_DeclarationMismatchFailsBoot proves [C11] and acceptance item 6
// "type mismatch fails boot": inconsistent declarations are boot errors whose
// message names the channel and the modules involved.
func TestC11_DeclarationMismatchFailsBoot(t *testing.T) {
	prod := func(name, ch string, typ uint32, m channel.Mode, g channel.Guarantee) Module {
		return Module{Name: name, Channels: []ChanDecl{{Name: ch, Dir: Produce, Type: typ, Mode: m, Guarantee: g}}}
	}
	cons := func(name, ch string, typ uint32, m channel.Mode, g channel.Guarantee) Module {
		return spCons(name, ChanDecl{Name: ch, Type: typ, Mode: m, Guarantee: g}, spNop)
	}
	cases := []struct {
		name  string
		types []TypeInfo
		mods  []Module
		want  []string
	}{
		{"producer-consumer-types-differ", nil,
			[]Module{prod("prod", "m.typed", 1, P2P, Lossless), cons("cons", "m.typed", 2, P2P, Lossless)},
			[]string{"m.typed", "prod", "cons", "CHAN_TYPE_MISMATCH"}},
		{"two-consumers-on-p2p", nil,
			[]Module{cons("consa", "m.p2p", 1, P2P, Lossless), cons("consb", "m.p2p", 1, P2P, Lossless)},
			[]string{"m.p2p", "consa", "consb", "CHAN_ALREADY_BOUND"}},
		{"lossless-type-on-lossy-channel", []TypeInfo{{ID: 3, Name: "ledger", Lossless: true}},
			[]Module{prod("prod", "m.lossy", 3, FanOut, Lossy), cons("cons", "m.lossy", 3, FanOut, Lossy)},
			[]string{"m.lossy", "prod", "lossless"}},
		{"mode-mismatch", nil,
			[]Module{prod("prod", "m.mode", 1, FanOut, Lossless), cons("cons", "m.mode", 1, P2P, Lossless)},
			[]string{"m.mode", "prod", "cons"}},
		{"slot-sizes-differ", nil,
			[]Module{{Name: "prod", Channels: []ChanDecl{{Name: "m.slots", Dir: Produce, Type: 1, Slots: 64}}},
				spCons("cons", ChanDecl{Name: "m.slots", Type: 1, Slots: 128}, spNop)},
			[]string{"m.slots", "prod", "cons", "slots=64", "slots=128"}},
		{"consumer-without-handler", nil,
			[]Module{{Name: "cons", Channels: []ChanDecl{{Name: "m.nohandler", Dir: Consume, Type: 1}}}},
			[]string{"m.nohandler", "cons"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := spCfg()
			cfg.Types = tc.types
			k, err := Boot(cfg, tc.mods...)
			if err == nil {
				_ = k.Halt(t.Context())
				t.Fatal("boot succeeded")
			}
			if !errors.Is(err, ErrDecl) {
				t.Errorf("error %q does not wrap ErrDecl", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

// TestC3_TypeMismatchAtEmit proves [C3]: emitting a task whose type is not the
// channel's fails with CHAN_TYPE_MISMATCH naming the channel, from outside and
// from a handler, and nothing is delivered.
func TestC3_TypeMismatchAtEmit(t *testing.T) {
	const tCh, tOther = 1, 2
	var id ChanID
	errc := make(chan error, 1)
	emitter := Module{Name: "emitter",
		Handlers: []Handler{{Type: tOther, Fn: func(c *Ctx) Status {
			errc <- c.ChanEmit(id, *c.Task())
			return OK
		}}}}
	var got int
	cons := spCons("cons", ChanDecl{Name: "spec.typed", Type: tCh, Guarantee: Lossless}, func(*Ctx) Status { got++; return OK })
	k := spBoot(t, spCfg(), cons, emitter)
	id = spChan(t, k, "spec.typed")
	err := k.ChanEmit(id, Task{Type: tOther})
	if err := k.Submit(Task{Type: tOther}); err != nil {
		t.Fatal(err)
	}
	for i, err := range []error{err, spRecv(t, errc, "the handler's emit")} {
		if !errors.Is(err, ErrChanTypeMismatch) || !strings.Contains(err.Error(), "spec.typed") {
			t.Errorf("emit %d: %v, want CHAN_TYPE_MISMATCH naming spec.typed", i, err)
		}
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if cs, _ := k.ChanStats(id); got != 0 || cs.Emits != 0 {
		t.Errorf("delivered %d, chan %+v", got, cs)
	}
}

// TestC3_SecondP2PSubscriberAlreadyBound proves [C3]: a second subscriber of a
// P2P channel gets CHAN_ALREADY_BOUND — from Init (Ctx.ChanSub on a channel
// it opened), from another module, and from a handler at run time on a
// declared channel; a second error handler is refused the same way.
func TestC3_SecondP2PSubscriberAlreadyBound(t *testing.T) {
	const typ, tBind = 1, 2
	var initErrs [4]error
	binder := Module{Name: "binder",
		Handlers: []Handler{{Type: typ, Fn: spNop}},
		Init: func(c *Ctx) error {
			id, err := c.ChanOpen(ChanSpec{Name: "spec.bound", Type: typ, Mode: P2P, Guarantee: Lossless})
			if err != nil {
				return err
			}
			initErrs[0], initErrs[1] = c.ChanSub(id, typ), c.ChanSub(id, typ)
			initErrs[2], initErrs[3] = c.ChanOnError(id, typ), c.ChanOnError(id, typ)
			return nil
		}}
	errc := make(chan error, 2)
	other := spCons("other", ChanDecl{Name: "spec.decl", Type: typ, Guarantee: Lossless}, spNop)
	other.Handlers = append(other.Handlers, Handler{Type: tBind, Fn: func(c *Ctx) Status {
		for _, name := range []string{"spec.bound", "spec.decl"} {
			id, _ := c.Kernel().Chan(name)
			errc <- c.ChanSub(id, typ)
		}
		return OK
	}})
	k := spBoot(t, spCfg(), binder, other)
	if initErrs[0] != nil || initErrs[2] != nil {
		t.Fatalf("first subscription / error handler: %v, %v", initErrs[0], initErrs[2])
	}
	if err := k.Submit(Task{Type: tBind}); err != nil {
		t.Fatal(err)
	}
	errs := []error{initErrs[1], initErrs[3], spRecv(t, errc, "bind"), spRecv(t, errc, "bind")}
	for i, err := range errs {
		if !errors.Is(err, ErrChanAlreadyBound) {
			t.Errorf("second subscription %d: %v, want CHAN_ALREADY_BOUND", i, err)
		}
	}
	checkIdentity(t, haltOK(t, k))
}

// TestC3C9_ClosedChannel proves [C3] and [C9]: after ChanClose, emits fail
// with CHAN_CLOSED naming the channel, and the deliveries still queued go to
// sys.dropped with code CHAN_CLOSED (in order, carrying the original task and
// its payload, which is freed after the report); system channels cannot be
// closed.
func TestC3C9_ClosedChannel(t *testing.T) {
	const typ, tSink, queued = 6, 9, 10
	gate, started := newSpGate(), make(chan struct{}, 1)
	defer gate.open()
	var o spOrder
	var sink spSink
	d := ChanDecl{Name: "spec.close", Type: typ, Guarantee: Lossless, Slots: 64, Pin: true}
	k := spBoot(t, spCfg(), spHeld("cons", d, gate, started, &o), sink.module("sink", SysDropped, tSink))
	id := spChan(t, k, "spec.close")
	spEmit(t, k, id, Task{Type: typ})
	spRecv(t, started, "the consumer to hold its first delivery")
	for i := 1; i <= queued; i++ {
		spEmit(t, k, id, spPayloadTask(t, k, typ, 0, uint64(i), 40))
	}
	if err := k.ChanClose(id); err != nil {
		t.Fatal(err)
	}
	if err := k.ChanEmit(id, Task{Type: typ}); !errors.Is(err, ErrChanClosed) || !strings.Contains(err.Error(), "spec.close") {
		t.Errorf("emit after close: %v", err)
	}
	for _, name := range []string{SysError, SysDropped} {
		if err := k.ChanClose(spChan(t, k, name)); err == nil {
			t.Errorf("closing %s succeeded", name)
		}
	}
	gate.open()
	r := haltOK(t, k)
	checkIdentity(t, r)
	o.check(t, "consumer", 1)
	got := sink.reports()
	if len(got) != queued || r.Stats.Dropped != queued {
		t.Fatalf("%d reports, %d dropped; want %d", len(got), r.Stats.Dropped, queued)
	}
	for i, rep := range got {
		if rep.Code != task.ChanClosed || rep.Type != typ || rep.Meta0 != uint64(i+1) || !spSame(rep.Data, uint64(i+1), 40) {
			t.Errorf("report %d: %+v, want CHAN_CLOSED for type %d meta0 %d with its payload", i, rep, typ, i+1)
		}
	}
	spCheckArena(t, k, r, queued)
}

// spFill writes the pattern of message id into b; spSame checks it.
func spFill(b []byte, id uint64) {
	for j := range b {
		b[j] = byte(id*7 + uint64(j))
	}
}

func spSame(b []byte, id uint64, n int) bool {
	want := make([]byte, n)
	spFill(want, id)
	return bytes.Equal(b, want)
}

// spPayloadTask allocates n bytes of tenant ten from the arena (as a producer
// outside the workers would), fills them with id's pattern and returns a task
// of type typ carrying them; the task owns the reference.
func spPayloadTask(t *testing.T, k *Kernel, typ uint32, ten uint16, id uint64, n int) Task {
	t.Helper()
	h, b, err := k.Alloc(int(ten), n)
	if err != nil {
		t.Fatalf("alloc %d bytes: %v", n, err)
	}
	spFill(b, id)
	return Task{Type: typ, Tenant: ten, Payload: h, PayloadLen: uint32(n), Meta0: id}
}

// TestC6_LossyFanOutDropSlow proves [C6], [C5]/[A4] under drop-slow and the
// dead-letter part of acceptance item 6: on a lossy fan-out channel of 8
// slots, a held subscriber loses the copies that do not fit (counted in
// ChanStats.Drops, delivered to a sys.dropped subscriber with CHAN_FULL and
// the payload intact) while the two others get every message; every payload
// is freed exactly once (Live()==0, no misuse, frees == allocations).
func TestC6_LossyFanOutDropSlow(t *testing.T) {
	const typ, tSink, slots, n, size = 8, 9, 8, 64, 100
	gate, started := newSpGate(), make(chan struct{}, 1)
	defer gate.open()
	acks := make(chan struct{}, 2*n)
	var bad [3]int
	var orders [3]spOrder
	d := ChanDecl{Name: "spec.slow", Type: typ, Mode: FanOut, Guarantee: Lossy, Slots: slots, Pin: true}
	sub := func(i int, held bool) Module {
		first := held
		d.Worker = min(i, 1) // the held subscriber alone on worker 0
		return spCons(fmt.Sprintf("sub%d", i), d, func(c *Ctx) Status {
			x := c.Task()
			if first {
				first = false
				started <- struct{}{}
				gate.wait()
			}
			if !spSame(c.Payload(), x.Meta0, size) {
				bad[i]++
			}
			orders[i].see(x)
			if !held {
				acks <- struct{}{}
			}
			return OK
		})
	}
	var sink spSink
	k := spBoot(t, spCfg(), sub(0, true), sub(1, false), sub(2, false), sink.module("sink", SysDropped, tSink))
	id := spChan(t, k, "spec.slow")
	for i := range uint64(n) {
		if err := k.ChanEmit(id, spPayloadTask(t, k, typ, 0, i, size)); err != nil {
			t.Fatalf("emit %d: %v", i, err)
		}
		if i == 0 {
			spRecv(t, started, "the slow subscriber to hold its first delivery")
		}
		spRecv(t, acks, "fast subscriber")
		spRecv(t, acks, "fast subscriber")
	}
	const drops = n - 1 - slots // the slow one holds message 0 and queues 1..8
	if cs, _ := k.ChanStats(id); cs.Drops != drops || cs.Emits != n {
		t.Errorf("chan %+v, want %d drops", cs, drops)
	}
	gate.open()
	r := haltOK(t, k)
	checkIdentity(t, r)
	orders[0].check(t, "slow subscriber", slots+1)
	orders[1].check(t, "fast subscriber 1", n)
	orders[2].check(t, "fast subscriber 2", n)
	got := sink.reports()
	if len(got) != drops || r.Stats.Dropped != drops || bad != [3]int{} {
		t.Errorf("%d reports, %d dropped (want %d); bad payloads %v", len(got), r.Stats.Dropped, drops, bad)
	}
	for i, rep := range got {
		id := uint64(slots + 1 + i)
		if rep.Code != task.ChanFull || rep.Type != typ || rep.Meta0 != id || !spSame(rep.Data, id, size) {
			t.Errorf("report %d: code %v type %d meta0 %d (payload ok %v), want CHAN_FULL for %d",
				i, rep.Code, rep.Type, rep.Meta0, spSame(rep.Data, id, size), id)
		}
	}
	spCheckArena(t, k, r, n)
}

// spCheckArena asserts after Halt that every payload was freed exactly once:
// nothing live, frees == allocs == want over all tenants, no misuse.
func spCheckArena(t *testing.T, k *Kernel, r HaltReport, want uint64) {
	t.Helper()
	var allocs, frees, misuse uint64
	for ten := range k.cfg.Tenants {
		s := k.arena.Stats(ten).Block
		allocs, frees, misuse = allocs+s.Allocs, frees+s.Frees, misuse+s.Misuse
	}
	if live := k.arena.Live(); live != 0 || allocs != want || frees != want || misuse != 0 || r.Stats.PayloadMisuse != 0 {
		t.Errorf("arena: live %d, allocs %d, frees %d (want %d), misuse %d, kernel PayloadMisuse %d",
			live, allocs, frees, want, misuse, r.Stats.PayloadMisuse)
	}
}

// TestC9_DeadLettersReachSysDropped proves [C9]: sys.dropped is a fan-out
// channel that modules can consume — by declaration or by Ctx.ChanSub — and
// every subscriber sees every dead letter (here: emits on a lossy channel
// nobody consumes), with the original task and its payload.
func TestC9_DeadLettersReachSysDropped(t *testing.T) {
	const typ, tSink, n = 2, 9, 5
	cases := []struct {
		name string
		decl bool
	}{{"chansub", false}, {"declared", true}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var sinks [2]spSink
			mods := []Module{sinks[0].module("sink0", SysDropped, tSink), sinks[1].module("sink1", SysDropped, tSink)}
			if tc.decl {
				for i := range mods {
					mods[i].Init = nil
					mods[i].Channels = []ChanDecl{{Name: SysDropped, Dir: Consume, Type: tSink, Mode: FanOut}}
				}
			}
			k := spBoot(t, spCfg(), mods...)
			id, err := k.ChanOpen(ChanSpec{Name: "spec.nobody", Type: typ, Mode: FanOut})
			if err != nil {
				t.Fatal(err)
			}
			for i := range uint64(n) {
				if err := k.ChanEmit(id, spPayloadTask(t, k, typ, 0, i, 32)); err != nil {
					t.Fatal(err)
				}
			}
			r := haltOK(t, k)
			checkIdentity(t, r)
			for s := range sinks {
				got := sinks[s].reports()
				if len(got) != n {
					t.Fatalf("sink%d: %d reports, want %d", s, len(got), n)
				}
				for i, rep := range got {
					if rep.Type != typ || rep.Meta0 != uint64(i) || !spSame(rep.Data, uint64(i), 32) {
						t.Errorf("sink%d report %d: %+v", s, i, rep)
					}
				}
			}
			spCheckArena(t, k, r, n)
		})
	}
}
