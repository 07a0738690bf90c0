package link_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/gmkernel/gmk/bridge"
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
	p := fxBootPair(t, fxSpec{a: []kernel.Module{prod}, b: []kernel.Module{cons}, bridge: bridge.Config{Capacity: 64}, acks: true})
	id := fxChan(t, p.a, "host.rx")
	for i := range n {
		if err := p.a.ChanEmitWait(context.Background(), id, kernel.Task{Type: tIn, Meta0: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	fxWait(t, "every task acknowledged", func() bool { s := p.ea.Stats()[0]; return s.Acked == n && s.Unacked == 0 })
	p.halt()
	r, _ := p.b.Halted()
	if h := handled.Load(); h < closeAt+1 || uint64(h)+r.Stats.Dropped != n {
		t.Fatalf("b handled %d and dropped %d of %d tasks: want the first %d handled, the rest dropped", h, r.Stats.Dropped, n, closeAt+1)
	}
}
