package link_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// handling is one handler call a consumer saw.
type handling struct {
	meta0       uint64
	redelivered bool
	payload     string
}

// acker consumes host.rx on the peer kernel; the peer's kernel tells its
// endpoint which deliveries it is done with (kernel.ChanObserve), and the
// endpoint acknowledges them. Its first sight of task hangAt blocks until
// release is closed: a hung peer.
type acker struct {
	mu      sync.Mutex
	seen    []handling
	hangAt  uint64
	hung    chan struct{}
	release chan struct{}
	once    sync.Once
}

func (a *acker) module(g kernel.ChanDecl) kernel.Module {
	g.Name, g.Dir, g.Type = "host.rx", kernel.Consume, tIn
	fn := func(c *kernel.Ctx) kernel.Status {
		t := c.Task()
		red := t.Flags&task.Redelivered != 0
		if t.Meta0 == a.hangAt && !red {
			a.once.Do(func() { close(a.hung) })
			<-a.release
		}
		a.mu.Lock()
		a.seen = append(a.seen, handling{t.Meta0, red, string(c.Payload())})
		a.mu.Unlock()
		return kernel.OK
	}
	return kernel.Module{Name: "consumer", Channels: []kernel.ChanDecl{g},
		Handlers: []kernel.Handler{{Type: tIn, Fn: fn}}}
}

func (a *acker) handled() []handling {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]handling(nil), a.seen...)
}

// [B4] [F5] A peer that hangs in a handler is reset and rebooted; the
// producing endpoint Reconnects to it on a region formatted for the next
// epoch. Nothing is lost: every task the producer published and the peer
// had not acknowledged as handled — the hung one, what waited in the peer's
// channel, what was left in the old ring — is published again, first, in
// order, flagged task.Redelivered; a task is handled twice only if its
// second handling is flagged. The producer's accounting shows it: every
// task acknowledged once (Acked), re-sends counted (Redelivered), the old
// ring's leftovers counted (Discarded), payload references all released.
func TestB4_ReconnectRedeliversUnacknowledged(t *testing.T) {
	const n, hangAt = 3000, 700
	lossless := kernel.ChanDecl{Guarantee: kernel.Lossless, Slots: 256}
	bcfg := bridge.Config{Capacity: 64, Staging: 64 << 10}
	lcfg := link.Config{PauseAt: 128}
	a1 := &acker{hangAt: hangAt, hung: make(chan struct{}), release: make(chan struct{})}
	a2 := &acker{hangAt: ^uint64(0), hung: make(chan struct{}), release: make(chan struct{})}
	var eb1, eb2 *link.Endpoint
	prod := producer("ingest", "host.rx", tIn, lossless)
	chans, err := link.Route(fxSide("a", []kernel.Module{prod}), fxSide("b", []kernel.Module{a1.module(lossless)}))
	if err != nil {
		t.Fatal(err)
	}
	ch := chans[0]

	ta, tb, _ := bridge.NewMemPair(bcfg)
	ack1 := new(atomic.Uint64)
	ea, err := link.New("a", []link.Wire{{Chan: ch, T: ta, Ack: ack1}}, lcfg)
	if err != nil {
		t.Fatal(err)
	}
	if eb1, err = link.New("b", []link.Wire{{Chan: ch, T: tb, Ack: ack1}}, lcfg); err != nil {
		t.Fatal(err)
	}
	a := fxKernel(t, kernel.BootConfig{ID: "a", Workers: 2}, prod, ea.Module())
	b1 := fxKernel(t, kernel.BootConfig{ID: "b", Workers: 2}, a1.module(lossless), eb1.Module())
	for _, s := range []struct {
		e *link.Endpoint
		k *kernel.Kernel
	}{{ea, a}, {eb1, b1}} {
		if err := s.e.Start(s.k); err != nil {
			t.Fatal(err)
		}
	}

	// The producer emits with payloads; ChanEmitWait holds it while the hung
	// peer backs the bridge up, and while the bridge is down it gets
	// CHAN_CLOSED and tries again: its own retry loop.
	id := fxChan(t, a, "host.rx")
	emitted := make(chan error, 1)
	go func() {
		for i := 0; i < n; {
			h, p, err := a.Alloc(0, 16)
			if err != nil {
				emitted <- err
				return
			}
			copy(p, fmt.Sprintf("task %11d", i))
			err = a.ChanEmitWait(context.Background(), id, kernel.Task{Type: tIn, Meta0: uint64(i), Payload: h, PayloadLen: 16})
			if err != nil {
				_ = a.Release(h)
				time.Sleep(50 * time.Microsecond) // CHAN_CLOSED: the bridge is down, try again
				continue
			}
			i++
		}
		emitted <- nil
	}()
	<-a1.hung

	// The reset: the bridge goes down, the peer's endpoint stops, its
	// kernel is left halting behind the stuck handler.
	eb1.Disconnect()
	eb1.Stop()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	b1halted := make(chan error, 1)
	go func() { b1halted <- b1.Halt(cancelled) }()

	// The reboot: the next epoch's region, a fresh Ack cell, a new kernel.
	st, _ := bridge.States(ta)
	ta2, tb2, err := bridge.NewMemPairEpoch(bcfg, bridge.NextEpoch(st))
	if err != nil {
		t.Fatal(err)
	}
	ack2 := new(atomic.Uint64)
	if eb2, err = link.New("b", []link.Wire{{Chan: ch, T: tb2, Ack: ack2}}, lcfg); err != nil {
		t.Fatal(err)
	}
	b2 := fxKernel(t, kernel.BootConfig{ID: "b", Workers: 2}, a2.module(lossless), eb2.Module())
	if err := eb2.Start(b2); err != nil {
		t.Fatal(err)
	}
	ctx, cancelRc := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelRc()
	if err := ea.Reconnect(ctx, []link.Wire{{Chan: ch, T: ta2, Ack: ack2}}); err != nil {
		t.Fatal(err)
	}
	if err := <-emitted; err != nil {
		t.Fatal(err)
	}
	fxWait(t, "every task acknowledged", func() bool {
		s := ea.Stats()[0]
		return s.Acked == n && s.Queued == 0 && s.Unacked == 0
	})
	close(a1.release)
	<-b1halted // cut short (a cancelled context): its report counts what it held
	eb1.Close()
	ea.Stop()
	eb2.Stop()
	hctx, cancelH := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelH()
	for _, k := range []*kernel.Kernel{b2, a} {
		if err := k.Halt(hctx); err != nil {
			t.Fatal(err)
		}
	}
	ea.Close()
	eb2.Close()

	// Every task handled, in order on each incarnation; a second handling
	// only flagged; the hung task handled again, flagged.
	first, second := a1.handled(), a2.handled()
	count := make([]int, n)
	for i, h := range first {
		if h.meta0 != uint64(i) || h.redelivered || h.payload != fmt.Sprintf("task %11d", h.meta0) {
			t.Fatalf("first peer, handling %d: %+v", i, h)
		}
		count[h.meta0]++
	}
	if len(first) < hangAt+1 {
		t.Fatalf("the first peer handled %d tasks, want at least %d (up to the hung one, which returns when released)", len(first), hangAt+1)
	}
	resent := 0
	for i, h := range second {
		if i > 0 && h.meta0 != second[i-1].meta0+1 {
			t.Fatalf("second peer: %d after %d: not in order", h.meta0, second[i-1].meta0)
		}
		if h.payload != fmt.Sprintf("task %11d", h.meta0) {
			t.Fatalf("second peer: task %d payload %q", h.meta0, h.payload)
		}
		if count[h.meta0] > 0 && !h.redelivered {
			t.Fatalf("task %d handled twice, the second time not flagged redelivered", h.meta0)
		}
		if h.redelivered {
			resent++
		}
		count[h.meta0]++
	}
	for i, c := range count {
		if c == 0 {
			t.Fatalf("task %d never handled", i)
		}
	}
	if second[0].meta0 > hangAt || !second[0].redelivered {
		t.Fatalf("the second peer starts with %+v, want the hung task %d or an earlier unacknowledged one, redelivered", second[0], hangAt)
	}

	out := ea.Stats()[0]
	in1, in2 := eb1.Stats()[0], eb2.Stats()[0]
	for _, s := range []link.Stats{out, in1, in2} {
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
	}
	if out.Taken != n || out.Acked != n || out.Unacked != 0 || out.Redelivered == 0 || out.Reconnects != 1 || out.Down {
		t.Fatalf("producer: %v", out)
	}
	if out.Sent != in1.Received+in2.Received+out.Discarded {
		t.Fatalf("sent %d != received %d + %d + discarded %d", out.Sent, in1.Received, in2.Received, out.Discarded)
	}
	if int(out.Redelivered) < resent {
		t.Fatalf("%d flagged handlings, only %d re-sends counted", resent, out.Redelivered)
	}
	if a.LivePayloads() != 0 || b2.LivePayloads() != 0 {
		t.Fatalf("payloads live: a %d, b2 %d", a.LivePayloads(), b2.LivePayloads())
	}
	t.Logf("%v\n%v\n%v", out, in1, in2)
}

// [B4] [C6] A lossy channel does not re-send across a reconnect: what its
// peer took was acknowledged when delivered (a lossy channel promises no
// handling), and what was still unacknowledged — here published into the
// ring after the peer's pump stopped, and thrown away with the ring — goes
// to the producer's sys.dropped, counted Lapsed; nothing comes back
// flagged redelivered, and every identity holds.
func TestB4_ReconnectLossyLapses(t *testing.T) {
	const n, late = 100, 20
	lossy := kernel.ChanDecl{Guarantee: kernel.Lossy, Slots: 256}
	bcfg := bridge.Config{Capacity: 64, Staging: 4096}
	a1 := &acker{hangAt: ^uint64(0), hung: make(chan struct{}), release: make(chan struct{})}
	a2 := &acker{hangAt: ^uint64(0), hung: make(chan struct{}), release: make(chan struct{})}
	var eb1, eb2 *link.Endpoint
	var dead atomic.Int64
	prod := producer("ingest", "host.rx", tIn, lossy)
	chans, err := link.Route(fxSide("a", []kernel.Module{prod}), fxSide("b", []kernel.Module{a1.module(lossy)}))
	if err != nil {
		t.Fatal(err)
	}
	ch := chans[0]
	ta, tb, _ := bridge.NewMemPair(bcfg)
	ack1 := new(atomic.Uint64)
	ea, _ := link.New("a", []link.Wire{{Chan: ch, T: ta, Ack: ack1}}, link.Config{})
	eb1, _ = link.New("b", []link.Wire{{Chan: ch, T: tb, Ack: ack1}}, link.Config{})
	a := fxKernel(t, kernel.BootConfig{ID: "a", Workers: 2}, prod, sysCounter(&dead), ea.Module())
	b1 := fxKernel(t, kernel.BootConfig{ID: "b", Workers: 2}, a1.module(lossy), eb1.Module())
	_ = ea.Start(a)
	_ = eb1.Start(b1)
	id := fxChan(t, a, "host.rx")
	emit := func(from, k int) {
		for i := range k {
			_ = a.ChanEmit(id, kernel.Task{Type: tIn, Meta0: uint64(from + i)}) // lossy: never refused
		}
	}
	emit(0, n)
	fxWait(t, "the first tasks acknowledged", func() bool { return ea.Stats()[0].Acked == n })
	eb1.Stop() // the peer's pump stops: what comes now stays in the ring, unacknowledged
	emit(n, late)
	fxWait(t, "the late tasks in the ring", func() bool { s := ea.Stats()[0]; return s.Unacked == late && s.Queued == 0 })
	eb1.Disconnect() // the peer is reset
	if err := b1.Halt(context.Background()); err != nil {
		t.Fatal(err)
	}
	eb1.Close()

	st, _ := bridge.States(ta)
	ta2, tb2, _ := bridge.NewMemPairEpoch(bcfg, bridge.NextEpoch(st))
	ack2 := new(atomic.Uint64)
	eb2, _ = link.New("b", []link.Wire{{Chan: ch, T: tb2, Ack: ack2}}, link.Config{})
	b2 := fxKernel(t, kernel.BootConfig{ID: "b", Workers: 2}, a2.module(lossy), eb2.Module())
	_ = eb2.Start(b2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ea.Reconnect(ctx, []link.Wire{{Chan: ch, T: ta2, Ack: ack2}}); err != nil {
		t.Fatal(err)
	}
	emit(n+late, 10) // the channel carries again
	fxWait(t, "the new peer", func() bool { return len(a2.handled()) == 10 })
	fxWait(t, "the producer idle", func() bool { s := ea.Stats()[0]; return s.Unacked == 0 && s.Queued == 0 && a.Quiescent() })
	ea.Stop()
	eb2.Stop()
	for _, k := range []*kernel.Kernel{b2, a} {
		if err := k.Halt(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ea.Close()
	eb2.Close()
	out := ea.Stats()[0]
	if err := out.Check(); err != nil {
		t.Fatal(err)
	}
	if out.Lapsed != late || out.Discarded != late || out.Redelivered != 0 || out.Acked != n+10 {
		t.Fatalf("lossy producer after a reconnect: %v; want %d lapsed (the ring's leftovers), nothing re-sent", out, late)
	}
	for _, h := range a2.handled() {
		if h.redelivered || h.meta0 < n+late {
			t.Fatalf("the new peer got %+v", h)
		}
	}
	fxWait(t, "the lapsed tasks' reports", func() bool { return dead.Load() >= late })
}
