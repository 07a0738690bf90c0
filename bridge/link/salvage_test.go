package link_test

import (
	"context"
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// [B4] [C6] A peer that runs on after the bridge went down — a GPU kernel
// between the system's Disconnect and its reset — publishes into a ring
// whose consumer's pump has already drained it and ended. On a channel
// without acknowledgements nobody would send those tasks again: Detach
// salvages them from the old ring and the next pump delivers them first,
// in order, before what the rebooted peer sends. Nothing is discarded.
// (Found on an H100: 13 of 3,000 echo replies were discarded at a reset.)
func TestB4_DetachSalvagesLatePublications(t *testing.T) {
	const first, late, after = 50, 20, 10
	lossless := kernel.ChanDecl{Guarantee: kernel.Lossless, Slots: 256}
	bcfg := bridge.Config{Capacity: 64, Staging: 4096}
	rec := &recorder{}
	chans, err := link.Route(fxSide("a", []kernel.Module{producer("ingest", "host.rx", tIn, lossless)}),
		fxSide("b", []kernel.Module{rec.module("xform", "host.rx", tIn, lossless)}))
	if err != nil {
		t.Fatal(err)
	}
	ch := chans[0]
	ta, tb, err := bridge.NewMemPair(bcfg)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := link.New("b", []link.Wire{{Chan: ch, T: tb}}, link.Config{}) // no Ack: the GPU's host.tx
	if err != nil {
		t.Fatal(err)
	}
	b := fxKernel(t, kernel.BootConfig{ID: "b", Workers: 2}, rec.module("xform", "host.rx", tIn, lossless), eb.Module())
	if err := eb.Start(b); err != nil {
		t.Fatal(err)
	}
	stage := func(s bridge.Sender, from, k int) {
		for i := range k {
			if err := s.Stage(&task.Task{Type: tIn, Meta0: uint64(from + i)}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	stage(ta.Sender(), 0, first)
	ta.Sender().Publish()
	fxWait(t, "the first tasks", func() bool { return rec.n.Load() == first })

	stage(ta.Sender(), first, late) // staged before the bridge goes down...
	eb.Disconnect()
	fxWait(t, "the pump ended", func() bool { return eb.Stats()[0].Down })
	time.Sleep(10 * time.Millisecond) // the pump is past its last Poll
	if n := ta.Sender().Publish(); n != late {
		t.Fatalf("published %d late tasks, want %d", n, late) // ...published after its pump drained
	}
	ta.Disconnect() // the peer is reset

	st, _ := bridge.States(ta)
	ta2, tb2, err := bridge.NewMemPairEpoch(bcfg, bridge.NextEpoch(st))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := eb.Reconnect(ctx, []link.Wire{{Chan: ch, T: tb2}}); err != nil {
		t.Fatal(err)
	}
	stage(ta2.Sender(), first+late, after)
	ta2.Sender().Publish()
	fxWait(t, "every task delivered", func() bool { return rec.n.Load() == first+late+after })
	eb.Stop()
	if err := b.Halt(context.Background()); err != nil {
		t.Fatal(err)
	}
	eb.Close()
	for _, tr := range []bridge.Transport{ta, tb, ta2, tb2} {
		_ = tr.Close()
	}
	rec.inOrder(t, first+late+after)
	s := eb.Stats()[0]
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if s.Discarded != 0 || s.Received != first+late+after || s.Delivered != s.Received || s.Dropped != 0 {
		t.Fatalf("consumer after the reconnect: %v; want every task received and delivered, none discarded", s)
	}
}
