package link_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/kernel"
)

// fxPair is two kernels, "a" and "b", joined by bridge channels over one
// in-memory transport per channel pair — the shape gpu/system gives the CPU
// and GPU kernels, built here from the link API alone.
type fxPair struct {
	t      testing.TB
	a, b   *kernel.Kernel
	ea, eb *link.Endpoint
	trs    []bridge.Transport
	chans  []link.Chan
}

type fxSpec struct {
	a, b   []kernel.Module
	bridge bridge.Config
	link   link.Config
	cfgB   kernel.BootConfig // b's kernel config (a's is small and default)
	arena  int               // both kernels' arena size; default 8 MiB
	acks   bool              // each wire gets an Ack cell: P2P lossless channels acknowledge
}

func fxBootPair(t testing.TB, s fxSpec) *fxPair {
	t.Helper()
	chans, err := link.Route(fxSide("a", s.a), fxSide("b", s.b))
	if err != nil {
		t.Fatal(err)
	}
	p := &fxPair{t: t, chans: chans}
	var wa, wb []link.Wire
	for _, c := range chans { // one transport per channel: the simplest valid wiring
		ta, tb, err := bridge.NewMemPair(s.bridge)
		if err != nil {
			t.Fatal(err)
		}
		if c.From == "b" {
			ta, tb = tb, ta // b sends on its side-A ring, a receives on its side-B ring
		}
		p.trs = append(p.trs, ta, tb)
		var ack *atomic.Uint64
		if s.acks {
			ack = new(atomic.Uint64)
		}
		wa, wb = append(wa, link.Wire{Chan: c, T: ta, Ack: ack}), append(wb, link.Wire{Chan: c, T: tb, Ack: ack})
	}
	if p.ea, err = link.New("a", wa, s.link); err != nil {
		t.Fatal(err)
	}
	if p.eb, err = link.New("b", wb, s.link); err != nil {
		t.Fatal(err)
	}
	p.a = fxKernel(t, kernel.BootConfig{ID: "a", Workers: 2, ArenaSize: s.arena}, append(s.a, p.ea.Module())...)
	cb := s.cfgB
	cb.ID = "b"
	if cb.ArenaSize == 0 {
		cb.ArenaSize = s.arena
	}
	if cb.Workers == 0 {
		cb.Workers = 2
	}
	p.b = fxKernel(t, cb, append(s.b, p.eb.Module())...)
	if err := p.ea.Start(p.a); err != nil {
		t.Fatal(err)
	}
	if err := p.eb.Start(p.b); err != nil {
		t.Fatal(err)
	}
	return p
}

func fxKernel(t testing.TB, cfg kernel.BootConfig, mods ...kernel.Module) *kernel.Kernel {
	t.Helper()
	cfg.QueueCap, cfg.EVQCap, cfg.MaxTypes, cfg.MaxChannels = 4096, 1024, 64, 32
	if cfg.ArenaSize == 0 {
		cfg.ArenaSize = 8 << 20
	}
	k, err := kernel.Boot(cfg, mods...)
	if err != nil {
		t.Fatalf("boot %s: %v", cfg.ID, err)
	}
	return k
}

func fxSide(id string, mods []kernel.Module) link.Side {
	s := link.Side{Kernel: id}
	for _, m := range mods {
		s.Modules = append(s.Modules, link.Decls{Module: m.Name, Channels: m.Channels})
	}
	return s
}

// idle reports whether both kernels are quiescent and no bridge channel
// carries a task (every task a relay took was delivered or dropped).
func (p *fxPair) idle() bool {
	if !p.a.Quiescent() || !p.b.Quiescent() {
		return false
	}
	var taken, ended uint64
	for _, s := range append(p.ea.Stats(), p.eb.Stats()...) {
		if s.Dir == link.Out {
			taken += s.Taken
			ended += s.Dropped + s.Abandoned
		} else {
			ended += s.Delivered + s.Dropped + s.Abandoned
		}
	}
	return taken == ended && p.a.Quiescent() && p.b.Quiescent()
}

// halt quiesces the pair, stops both endpoints, halts both kernels and
// checks every accounting identity; it returns both endpoints' final stats.
func (p *fxPair) halt() (sa, sb []link.Stats) {
	t := p.t
	t.Helper()
	fxWait(t, "quiescence", p.idle)
	p.ea.Stop()
	p.eb.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, k := range []*kernel.Kernel{p.b, p.a} {
		if err := k.Halt(ctx); err != nil {
			t.Fatalf("halt %s: %v", k.ID(), err)
		}
		r, _ := k.Halted()
		s := r.Stats
		if s.Created() != s.Completed+s.Errored+s.Dropped+r.Queued {
			t.Fatalf("%s accounting: %v queued=%d", k.ID(), s, r.Queued)
		}
	}
	p.ea.Close()
	p.eb.Close()
	for _, tr := range p.trs {
		_ = tr.Close()
	}
	sa, sb = p.ea.Stats(), p.eb.Stats()
	for _, s := range append(append([]link.Stats{}, sa...), sb...) {
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []*kernel.Kernel{p.a, p.b} {
		if n := k.LivePayloads(); n != 0 {
			t.Fatalf("%s: %d payloads live after halt ([B3]: the source copy is released)", k.ID(), n)
		}
	}
	return sa, sb
}

func fxWait(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

func fxChan(t testing.TB, k *kernel.Kernel, name string) kernel.ChanID {
	t.Helper()
	id, err := k.Chan(name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// fxStat returns the stats of channel name in dir from ss.
func fxStat(t testing.TB, ss []link.Stats, name string, dir link.Dir) link.Stats {
	t.Helper()
	for _, s := range ss {
		if s.Chan == name && s.Dir == dir {
			return s
		}
	}
	t.Fatalf("no %s stats for %s", dir, name)
	return link.Stats{}
}
