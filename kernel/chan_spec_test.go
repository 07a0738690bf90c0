package kernel

// Spec tests of channels (GMK.md §7, acceptance item 6): P2P order, fan-out,
// backpressure and the priority reserve. The helpers prefixed sp are shared by
// the *_spec_test.go files of this package.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel/channel"
)

// spDeadline bounds every wait of the spec tests; a healthy run never comes
// near it, even on a loaded 2-core machine under -race.
const spDeadline = 20 * time.Second

// spCfg is the configuration of the spec tests: two workers and queues
// sized for tests (the default 64 Ki-slot queues and 64 MiB arena take
// seconds to initialise under -race).
func spCfg() BootConfig {
	return BootConfig{Workers: 2, ArenaSize: 2 << 20, QueueCap: 4096, EVQCap: 4096, MaxTypes: 64}
}

// spMillion is the message count of the two 1M-message tests of the spec
// (100k with -short).
func spMillion() uint64 {
	if testing.Short() {
		return 100_000
	}
	return 1_000_000
}

// spBoot boots a kernel and halts it at cleanup when the test did not (a
// failing test must not leak workers into goleak's check).
func spBoot(t *testing.T, cfg BootConfig, mods ...Module) *Kernel {
	t.Helper()
	k, err := Boot(cfg, mods...)
	if err != nil {
		t.Fatalf("boot: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), spDeadline)
		defer cancel()
		_ = k.Halt(ctx) // ErrClosed when the test halted it already
	})
	return k
}

func spChan(t testing.TB, k *Kernel, name string) ChanID {
	t.Helper()
	id, err := k.Chan(name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// spCons is a module consuming one declared channel with fn.
func spCons(name string, d ChanDecl, fn HandlerFunc) Module {
	d.Dir = Consume
	return Module{Name: name, Handlers: []Handler{{Type: d.Type, Fn: fn}}, Channels: []ChanDecl{d}}
}

// spGate holds handlers until the test lets them through: wait takes one token
// (give) or returns at once after open. A handler waiting on a gate blocks its
// worker, which is the point: that worker's subscriptions stop draining. Tests
// `defer g.open()` so that a failing test never leaves a worker blocked.
type spGate struct {
	ch   chan struct{}
	once sync.Once
}

func newSpGate() *spGate { return &spGate{ch: make(chan struct{}, 1024)} }

func (g *spGate) wait() { <-g.ch }

// give lets n more waits through (only before open).
func (g *spGate) give(n int) {
	for range n {
		g.ch <- struct{}{}
	}
}

func (g *spGate) open() { g.once.Do(func() { close(g.ch) }) }

// spRecv waits for a handler's signal on ch.
func spRecv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(spDeadline):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// spWait polls cond, for kernel state that changes asynchronously after a
// handler returned (an ack, a release), until it holds or spDeadline passes.
func spWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(spDeadline); !cond(); runtime.Gosched() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// spEmit emits x on id from the test goroutine, waiting (at most spDeadline)
// while a lossless channel applies backpressure.
func spEmit(t *testing.T, k *Kernel, id ChanID, x Task) {
	err := k.ChanEmit(id, x)
	if errors.Is(err, ErrChanFull) {
		ctx, cancel := context.WithTimeout(t.Context(), spDeadline)
		err = k.ChanEmitWait(ctx, id, x)
		cancel()
	}
	if err != nil {
		t.Fatalf("emit %d: %v", x.Meta0, err)
	}
}

// spOrder checks that one subscriber sees Meta0 0, 1, 2 … with channel
// sequence 1, 2, 3 … . Only the subscription's home worker calls see; the test
// reads it after Halt (which waits for the workers).
type spOrder struct {
	noSeq bool // lossy channels number dropped emits too: check Meta0 only
	n     uint64
	bad   int
	first string
}

func (o *spOrder) see(x *Task) {
	if x.Meta0 != o.n || !o.noSeq && x.Seq != uint32(o.n+1) || x.Flags&ChannelMsg == 0 {
		if o.bad == 0 {
			o.first = fmt.Sprintf("delivery %d: meta0 %d seq %d flags %#x", o.n, x.Meta0, x.Seq, x.Flags)
		}
		o.bad++
		o.n = x.Meta0 // resynchronise so one gap is reported once
	}
	o.n++
}

func (o *spOrder) check(t *testing.T, who string, want uint64) {
	t.Helper()
	if o.bad != 0 || o.n != want {
		t.Errorf("%s: %d deliveries (want %d), %d out of order; first: %s", who, o.n, want, o.bad, o.first)
	}
}

// spReport is one report a system-channel subscriber saw.
type spReport struct {
	Type  uint32
	Code  Status
	Meta0 uint64
	Data  []byte // a copy of the payload
}

// spSink collects the reports of sys.error or sys.dropped.
type spSink struct {
	mu  sync.Mutex
	got []spReport
}

// module returns a module whose handler for typ subscribes to the system
// channel sys from Init (Ctx.ChanSub; the type check is skipped for the
// untyped system channels).
func (s *spSink) module(name, sys string, typ uint32) Module {
	return Module{Name: name,
		Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status {
			x := c.Task()
			r := spReport{Type: x.Type, Code: Status(int16(x.Aux)), Meta0: x.Meta0, Data: append([]byte(nil), c.Payload()...)}
			s.mu.Lock()
			s.got = append(s.got, r)
			s.mu.Unlock()
			return OK
		}}},
		Init: func(c *Ctx) error {
			id, err := c.Kernel().Chan(sys)
			if err != nil {
				return err
			}
			return c.ChanSub(id, typ)
		},
	}
}

func (s *spSink) reports() []spReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]spReport(nil), s.got...)
}

// TestC4_P2POneMillionInOrder proves acceptance item 6 (first part), [C4] and
// the per-subscriber sequence of [C7]: 1M inline tasks over a lossless P2P
// channel arrive in emit order, Seq 1..N, none lost. (-short: 100k.)
func TestC4_P2POneMillionInOrder(t *testing.T) {
	const typ = 7
	n := spMillion()
	var o spOrder
	cons := spCons("cons", ChanDecl{Name: "spec.p2p", Type: typ, Mode: P2P, Guarantee: Lossless, Slots: 1 << 14},
		func(c *Ctx) Status { o.see(c.Task()); return OK })
	k := spBoot(t, spCfg(), cons)
	id := spChan(t, k, "spec.p2p")
	start := time.Now()
	for i := range n {
		spEmit(t, k, id, Task{Type: typ, Meta0: uint64(i)})
	}
	r := haltOK(t, k)
	t.Logf("%d tasks in %v", n, time.Since(start))
	checkIdentity(t, r)
	o.check(t, "consumer", n)
	if r.Stats.Completed != n || r.Stats.Dropped != 0 || r.Stats.Errored != 0 {
		t.Errorf("stats %v", r.Stats)
	}
}

// TestC5_FanOutThreeSubscribersAllReceive proves acceptance item 6 "fan-out to
// 3 subscribers all receive all" ([C5]). The channel is lossy (the fan-out
// default) with a slot for every message, so nothing can be dropped, and each
// subscriber sees every message in emit order with the channel sequence.
func TestC5_FanOutThreeSubscribersAllReceive(t *testing.T) {
	const typ, n = 3, 20_000
	var orders [3]spOrder
	var mods []Module
	for i := range orders {
		o := &orders[i]
		mods = append(mods, spCons(fmt.Sprintf("sub%d", i),
			ChanDecl{Name: "spec.fan", Type: typ, Mode: FanOut, Guarantee: Lossy, Slots: 32 << 10},
			func(c *Ctx) Status { o.see(c.Task()); return OK }))
	}
	k := spBoot(t, spCfg(), mods...)
	id := spChan(t, k, "spec.fan")
	for i := range n {
		spEmit(t, k, id, Task{Type: typ, Meta0: uint64(i)})
	}
	cs, _ := k.ChanStats(id)
	r := haltOK(t, k)
	checkIdentity(t, r)
	for i := range orders {
		orders[i].check(t, fmt.Sprintf("sub%d", i), n)
	}
	if cs.Emits != n || cs.Drops != 0 || cs.Subscribers != 3 || r.Stats.Completed != 3*n {
		t.Errorf("chan %+v, stats %v", cs, r.Stats)
	}
}

// spHeld is a consumer that blocks on gate at its first delivery after
// signalling started, then records the order of everything it gets.
func spHeld(name string, d ChanDecl, gate *spGate, started chan<- struct{}, o *spOrder) Module {
	first := true // home worker only
	return spCons(name, d, func(c *Ctx) Status {
		if first {
			first = false
			started <- struct{}{}
			gate.wait()
		}
		o.see(c.Task())
		return OK
	})
}

// TestC4_BackpressureFillsDrainsResumes proves acceptance item 6
// "backpressure fills, reports CHAN_FULL, drains and resumes" ([C4], [C7]):
// with the consumer held, a lossless P2P channel of 8 slots takes exactly 8
// messages and then refuses with ErrChanFull; released, it drains and the
// producer resumes with nothing lost or reordered.
func TestC4_BackpressureFillsDrainsResumes(t *testing.T) {
	const typ, slots, n = 4, 8, 1000
	gate, started := newSpGate(), make(chan struct{}, 1)
	defer gate.open()
	var o spOrder
	cons := spHeld("cons", ChanDecl{Name: "spec.bp", Type: typ, Guarantee: Lossless, Slots: slots}, gate, started, &o)
	k := spBoot(t, spCfg(), cons)
	id := spChan(t, k, "spec.bp")
	spEmit(t, k, id, Task{Type: typ, Meta0: 0})
	spRecv(t, started, "the consumer to hold its first delivery")
	next := uint64(1)
	for ; ; next++ {
		err := k.ChanEmit(id, Task{Type: typ, Meta0: next})
		if errors.Is(err, ErrChanFull) {
			break
		}
		if err != nil || next > 10*slots {
			t.Fatalf("emit %d: %v (channel never filled)", next, err)
		}
	}
	if err := k.ChanEmit(id, Task{Type: typ, Meta0: next}); !errors.Is(err, ErrChanFull) {
		t.Fatalf("second emit into a full channel: %v", err)
	}
	cs, _ := k.ChanStats(id)
	if next-1 != slots || cs.Full != 2 || cs.Depth != slots {
		t.Fatalf("accepted %d while held (want %d); chan %+v", next-1, slots, cs)
	}
	gate.open()
	for ; next < n; next++ {
		spEmit(t, k, id, Task{Type: typ, Meta0: next})
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	o.check(t, "consumer", n)
}

// TestC8_PriorityReserve proves [C8]: once a subscriber queue holds 90 % of
// its slots, only priority-0 tasks are accepted. 32 slots: 29 low-priority
// tasks fit, then only priority 0 gets the last 3. Lossless channels refuse
// with ErrChanFull; a lossy one drops (counted) instead.
func TestC8_PriorityReserve(t *testing.T) {
	const typ, slots, reserve = 5, 32, 29
	cases := []struct {
		name string
		mode channel.Mode
		g    channel.Guarantee
	}{{"p2p-lossless", P2P, Lossless}, {"fanout-lossless", FanOut, Lossless}, {"p2p-lossy", P2P, Lossy}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gate, started := newSpGate(), make(chan struct{}, 1)
			defer gate.open()
			o := spOrder{noSeq: tc.g == Lossy}
			d := ChanDecl{Name: "spec.prio", Type: typ, Mode: tc.mode, Guarantee: tc.g, Slots: slots}
			k := spBoot(t, spCfg(), spHeld("cons", d, gate, started, &o))
			id := spChan(t, k, "spec.prio")
			spEmit(t, k, id, Task{Type: typ})
			spRecv(t, started, "the consumer to hold its first delivery")
			next := uint64(1)
			accept := func(prio int) bool { // one emit; true when queued
				x := Task{Type: typ, Meta0: next}
				x.SetPriority(prio)
				before, _ := k.ChanStats(id)
				err := k.ChanEmit(id, x)
				after, _ := k.ChanStats(id)
				if err != nil && !errors.Is(err, ErrChanFull) {
					t.Fatalf("emit: %v", err)
				}
				ok := err == nil && after.Drops == before.Drops
				if ok {
					next++
				}
				return ok
			}
			low := 0
			for ; accept(1+low%3) && low < slots; low++ {
			}
			high := 0
			for ; accept(0) && high < slots; high++ {
			}
			if low != reserve || high != slots-reserve {
				t.Fatalf("accepted %d low-priority then %d priority-0 tasks; want %d then %d", low, high, reserve, slots-reserve)
			}
			gate.open()
			r := haltOK(t, k)
			checkIdentity(t, r)
			o.check(t, "consumer", 1+slots)
		})
	}
}
