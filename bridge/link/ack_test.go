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

// [B4] [C9] A consumer that closes its end of a bridge channel makes its
// kernel refuse what the pump brings next (to sys.dropped, CHAN_CLOSED):
// those tasks are done with, and are acknowledged — the ones queued at the
// close and the ones the channel refused alike — so nothing waits for
// them: the producer ends with every task acknowledged.
func TestB4_AckWhenTheConsumerClosesItsChannel(t *testing.T) {
	const n, closeAt = 300, 40
	lossless := kernel.ChanDecl{Guarantee: kernel.Lossless, Slots: 256}
	prod := producer("ingest", "host.rx", tIn, lossless)
	var in kernel.ChanID
	var handled atomic.Int64
	g := lossless
	g.Name, g.Dir, g.Type = "host.rx", kernel.Consume, tIn
	cons := kernel.Module{Name: "closer", Channels: []kernel.ChanDecl{g},
		Handlers: []kernel.Handler{{Type: tIn, Fn: func(c *kernel.Ctx) kernel.Status {
			handled.Add(1)
			if c.Task().Meta0 == closeAt {
				_ = c.ChanClose(in)
			}
			return kernel.OK
		}}},
		Init: func(c *kernel.Ctx) (err error) { in, err = c.Kernel().Chan("host.rx"); return err }}
	chans, err := link.Route(fxSide("a", []kernel.Module{prod}), fxSide("b", []kernel.Module{cons}))
	if err != nil {
		t.Fatal(err)
	}
	ta, tb, _ := bridge.NewMemPair(bridge.Config{Capacity: 64})
	ack := new(atomic.Uint64)
	ea, err := link.New("a", []link.Wire{{Chan: chans[0], T: ta, Ack: ack}}, link.Config{})
	if err != nil {
		t.Fatal(err)
	}
	eb, err := link.New("b", []link.Wire{{Chan: chans[0], T: tb, Ack: ack}}, link.Config{})
	if err != nil {
		t.Fatal(err)
	}
	a := fxKernel(t, kernel.BootConfig{ID: "a", Workers: 2}, prod, ea.Module())
	b := fxKernel(t, kernel.BootConfig{ID: "b", Workers: 2}, cons, eb.Module())
	if err := ea.Start(a); err != nil {
		t.Fatal(err)
	}
	if err := eb.Start(b); err != nil {
		t.Fatal(err)
	}
	id := fxChan(t, a, "host.rx")
	for i := range n {
		if err := a.ChanEmitWait(context.Background(), id, kernel.Task{Type: tIn, Meta0: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	fxWait(t, "every task acknowledged", func() bool { s := ea.Stats()[0]; return s.Acked == n && s.Unacked == 0 })
	ea.Stop()
	eb.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, k := range []*kernel.Kernel{b, a} {
		if err := k.Halt(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ea.Close()
	eb.Close()
	_ = ta.Close()
	_ = tb.Close()
	out, rx := ea.Stats()[0], eb.Stats()[0]
	for _, s := range []link.Stats{out, rx} {
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
		t.Log(s)
	}
	r, _ := b.Halted()
	if h := handled.Load(); h < closeAt+1 || uint64(h)+r.Stats.Dropped != n {
		t.Fatalf("b handled %d and dropped %d of %d tasks: want the first %d handled, the rest dropped", h, r.Stats.Dropped, n, closeAt+1)
	}
}
