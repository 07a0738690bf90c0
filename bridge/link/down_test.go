package link_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/kernel"
)

// sysCounter counts the reports reaching a kernel's sys.dropped.
func sysCounter(n *atomic.Int64) kernel.Module {
	return kernel.Module{Name: "deadletters",
		Handlers: []kernel.Handler{{Type: 1, Fn: func(*kernel.Ctx) kernel.Status { n.Add(1); return kernel.OK }}},
		Channels: []kernel.ChanDecl{{Name: kernel.SysDropped, Dir: kernel.Consume, Type: 1, Mode: kernel.FanOut}}}
}

// [B4] [C6] A lossy bridge channel whose consumer stalls drops instead of
// holding the producer back, and counts every drop: what the consumer got
// plus what went to either kernel's sys.dropped is exactly what was emitted.
func TestB4_LossyDropsCounted(t *testing.T) {
	const n = 20_000
	lossy := kernel.ChanDecl{Guarantee: kernel.Lossy, Slots: 64}
	release := make(chan struct{})
	var got, deadA, deadB atomic.Int64
	stall := kernel.Module{Name: "stall", Channels: []kernel.ChanDecl{{Name: "host.rx", Dir: kernel.Consume, Type: tIn, Guarantee: kernel.Lossy, Slots: 64}},
		Handlers: []kernel.Handler{{Type: tIn, Fn: func(*kernel.Ctx) kernel.Status {
			if got.Add(1) == 1 {
				<-release // the consumer stalls on its first task: everything behind it backs up
			}
			return kernel.OK
		}}}}
	p := fxBootPair(t, fxSpec{
		a:      []kernel.Module{producer("ingest", "host.rx", tIn, lossy), sysCounter(&deadA)},
		b:      []kernel.Module{stall, sysCounter(&deadB)},
		bridge: bridge.Config{Capacity: 64},
		link:   link.Config{PauseAt: 64},
	})
	id := fxChan(t, p.a, "host.rx")
	for i := range n {
		if err := p.a.ChanEmit(id, kernel.Task{Type: tIn, Meta0: uint64(i)}); err != nil {
			t.Fatalf("emit %d on a lossy channel: %v", i, err) // lossy never refuses
		}
	}
	close(release)
	sa, sb := p.halt()
	dropped := p.a.Stats().Dropped + p.b.Stats().Dropped
	if got.Load()+int64(dropped) != n {
		t.Fatalf("consumer got %d + dropped %d (a %d, b %d) != %d emitted", got.Load(), dropped, p.a.Stats().Dropped, p.b.Stats().Dropped, n)
	}
	// sys.dropped is lossy too: a report its full subscriber missed is counted as SysLost.
	lost := p.a.Stats().SysLost + p.b.Stats().SysLost
	if dropped == 0 || uint64(deadA.Load()+deadB.Load())+lost != dropped {
		t.Fatalf("%d drops, %d sys.dropped reports + %d lost reports: want drops, each reported", dropped, deadA.Load()+deadB.Load(), lost)
	}
	out, in := fxStat(t, sa, "host.rx", link.Out), fxStat(t, sb, "host.rx", link.In)
	if out.Sent != in.Received || in.Received != in.Delivered {
		t.Fatalf("the bridge itself lost tasks: %v / %v", out, in)
	}
	t.Logf("got %d, dropped on a %d (drop-slow at the paused relay), on b %d", got.Load(), p.a.Stats().Dropped, p.b.Stats().Dropped)
}

// [B4] A bridge that disconnects (a GPU reset) shows CHAN_CLOSED on both
// sides: emits on the producing kernel fail at once, the consuming
// kernel's end is suspended once its pump drained the ring, in both
// directions of the transport; tasks that could no longer cross are counted
// in sys.dropped, none vanish.
func TestB4_DisconnectClosesBothSides(t *testing.T) {
	const n = 1000
	rx, tx := &recorder{}, &recorder{}
	p := fxBootPair(t, fxSpec{
		a: []kernel.Module{producer("ingest", "host.rx", tIn, lossless), tx.module("store", "host.tx", tOut, lossless)},
		b: []kernel.Module{rx.module("xform", "host.rx", tIn, lossless), producer("emit", "host.tx", tOut, lossless)},
	})
	emitAll(t, p.a, "host.rx", tIn, n)
	fxWait(t, "the first crossing", func() bool { return rx.n.Load() == n })
	p.eb.Disconnect() // the GPU side goes down
	ra, rb := fxChan(t, p.a, "host.rx"), fxChan(t, p.b, "host.rx")
	xa, xb := fxChan(t, p.a, "host.tx"), fxChan(t, p.b, "host.tx")
	fxWait(t, "CHAN_CLOSED on both sides", func() bool {
		return p.a.ChanSuspended(ra) && p.b.ChanSuspended(rb) && p.a.ChanSuspended(xa) && p.b.ChanSuspended(xb)
	})
	for _, c := range []struct {
		k  *kernel.Kernel
		id kernel.ChanID
		ty uint32
	}{{p.a, ra, tIn}, {p.b, xb, tOut}} {
		if err := c.k.ChanEmit(c.id, kernel.Task{Type: c.ty}); !errors.Is(err, kernel.ErrChanClosed) {
			t.Fatalf("%s: emit after disconnect: %v, want CHAN_CLOSED", c.k.ID(), err)
		}
	}
	sa, sb := p.halt()
	for _, s := range append(sa, sb...) {
		if !s.Down {
			t.Fatalf("%v: not marked down", s)
		}
	}
	rx.inOrder(t, n)
}

// [B1] [K1] [C2] Route wires channels by locality (a channel name is one
// channel across the kernels: local when both ends are on one kernel, a
// bridge channel when they are not) and rejects cross-kernel
// declarations that disagree, naming both sides.
func TestB1_RouteByLocality(t *testing.T) {
	prod := func(name string, typ uint32, d kernel.ChanDecl) link.Decls {
		d.Name, d.Dir, d.Type = name, kernel.Produce, typ
		return link.Decls{Module: "p." + name, Channels: []kernel.ChanDecl{d}}
	}
	cons := func(name string, typ uint32, d kernel.ChanDecl) link.Decls {
		d.Name, d.Dir, d.Type = name, kernel.Consume, typ
		return link.Decls{Module: "c." + name, Channels: []kernel.ChanDecl{d}}
	}
	fan := kernel.ChanDecl{Mode: kernel.FanOut}
	cases := []struct {
		name   string
		cpu    []link.Decls
		gpu    []link.Decls
		want   string // bridge channels, "" for none
		errHas []string
	}{
		{"default pair", []link.Decls{prod("host.rx", 1, lossless), cons("host.tx", 2, lossless)},
			[]link.Decls{cons("host.rx", 1, lossless), prod("host.tx", 2, lossless)},
			"host.rx cpu.0→gpu.0 p2p/lossless; host.tx gpu.0→cpu.0 p2p/lossless", nil},
		{"local channels stay local", []link.Decls{prod("a.b", 1, lossless), cons("a.b", 1, lossless)},
			[]link.Decls{prod("c.d", 1, lossless), cons("c.d", 1, lossless)}, "", nil},
		{"fan-out with consumers on both", []link.Decls{prod("f.out", 3, fan), cons("f.out", 3, fan)},
			[]link.Decls{cons("f.out", 3, fan)}, "f.out cpu.0→gpu.0 fanout/lossy", nil},
		{"type mismatch", []link.Decls{prod("host.rx", 1, lossless)}, []link.Decls{cons("host.rx", 7, lossless)}, "",
			[]string{"host.rx", "cpu.0 module p.host.rx declares type 1", "gpu.0 module c.host.rx declares type 7", "CHAN_TYPE_MISMATCH"}},
		{"guarantee mismatch", []link.Decls{prod("host.rx", 1, lossless)}, []link.Decls{cons("host.rx", 1, kernel.ChanDecl{})}, "",
			[]string{"host.rx", "cpu.0", "gpu.0", "lossless", "lossy"}},
		{"P2P consumer on both", []link.Decls{prod("host.rx", 1, lossless), cons("host.rx", 1, lossless)},
			[]link.Decls{cons("host.rx", 1, lossless)}, "", []string{"P2P channel host.rx", "cpu.0", "gpu.0", "CHAN_ALREADY_BOUND"}},
		{"a loop", []link.Decls{prod("l.x", 1, fan), cons("l.x", 1, fan)}, []link.Decls{prod("l.x", 1, fan), cons("l.x", 1, fan)}, "",
			[]string{"l.x", "both", "one way"}},
	}
	for _, c := range cases {
		got, err := link.Route(link.Side{Kernel: "cpu.0", Modules: c.cpu}, link.Side{Kernel: "gpu.0", Modules: c.gpu})
		if c.errHas != nil {
			if err == nil || !errors.Is(err, kernel.ErrDecl) {
				t.Fatalf("%s: err = %v, want a declaration error", c.name, err)
			}
			for _, s := range c.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Fatalf("%s: %q does not name %q", c.name, err, s)
				}
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var names []string
		for _, ch := range got {
			names = append(names, ch.String())
		}
		if s := strings.Join(names, "; "); s != c.want {
			t.Fatalf("%s: routes %q, want %q", c.name, s, c.want)
		}
	}
}

// [B1] A transport direction carries one channel: two channels wired to the
// same direction (whose Sender would then have two goroutines) are refused.
func TestB1_OneChannelPerDirection(t *testing.T) {
	ta, _, err := bridge.NewMemPair(bridge.Config{Capacity: 16})
	if err != nil {
		t.Fatal(err)
	}
	spec := func(n string) link.Chan {
		return link.Chan{Spec: kernel.ChanSpec{Name: n, Type: 1}, From: "a", To: "b"}
	}
	_, err = link.New("a", []link.Wire{{Chan: spec("x.one"), T: ta}, {Chan: spec("x.two"), T: ta}}, link.Config{})
	if err == nil || !strings.Contains(err.Error(), "share one direction") {
		t.Fatalf("two channels on one direction: %v", err)
	}
	back := link.Chan{Spec: kernel.ChanSpec{Name: "x.back", Type: 1}, From: "b", To: "a"}
	if _, err := link.New("a", []link.Wire{{Chan: spec("x.one"), T: ta}, {Chan: back, T: ta}}, link.Config{}); err != nil {
		t.Fatalf("one channel each way on a transport: %v", err)
	}
}

// [B4] [C9] Tasks a sender staged into an open batch and never published
// when the bridge went down are accounted for: counted abandoned (their
// bytes went into the old ring, their source payloads were released), so
// the lane's identity balances and the pair reaches quiescence. Before,
// they were neither sent nor counted, and a system halting after a GPU
// reset waited for quiescence for ever (gpu/system's watchdog test).
func TestB4_StagedBatchWrittenOffWhenBridgeGoesDown(t *testing.T) {
	const n = 10
	rx := &recorder{}
	p := fxBootPair(t, fxSpec{
		a:    []kernel.Module{producer("ingest", "host.rx", tIn, lossless)},
		b:    []kernel.Module{rx.module("xform", "host.rx", tIn, lossless)},
		link: link.Config{Batch: bridge.BatchConfig{Size: 64, Interval: time.Hour}}, // the batch stays open
	})
	emitAll(t, p.a, "host.rx", tIn, n)
	out := func() link.Stats { return fxStat(t, p.ea.Stats(), "host.rx", link.Out) }
	fxWait(t, "the open batch", func() bool { s := out(); return s.Taken == n && s.Staged == n })
	p.ea.Disconnect() // the bridge goes down (a GPU reset) with the batch unpublished
	fxWait(t, "the staged tasks written off", func() bool { return out().Abandoned == n })
	sa, _ := p.halt()
	if s := fxStat(t, sa, "host.rx", link.Out); s.Sent != 0 || s.Queued != 0 || s.Abandoned != n || rx.n.Load() != 0 {
		t.Fatalf("%v; %d received: want the %d staged tasks abandoned, none sent", s, rx.n.Load(), n)
	}
}
