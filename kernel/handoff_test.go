package kernel

import (
	"context"
	"slices"
	"testing"
)

// TestC4_HandoffKeepsFIFO: a co-located chain split → relay → sink (pinned
// to one worker: Boot would otherwise lay it over both, layout.go) on
// lossless P2P channels, where split emits 1, 2 or 3 tasks per delivery, so
// that the handoff slot (run next on the emitting worker) and the LQ both
// carry deliveries of one subscription, and the dispatch runs out of hops
// mid-batch. Each stage still sees its channel in emit order with sequences
// 1, 2, 3 … ([C4] per-channel FIFO), and every task completes once.
func TestC4_HandoffKeepsFIFO(t *testing.T) {
	const n = 400 * 48
	var split, mid, out ChanID
	var count uint64 // split's emit counter (split's home worker only)
	var midOrder, outOrder spOrder
	splitMod := Module{Name: "split",
		Handlers: []Handler{{Type: 1, Fn: func(c *Ctx) Status {
			for range 1 + c.Task().Meta0%3 {
				if c.ChanEmit(mid, Task{Type: 2, Meta0: count}) != nil {
					t.Error("emit on h.mid refused")
				}
				count++
			}
			return OK
		}}},
		Channels: []ChanDecl{{Name: "h.in", Dir: Consume, Type: 1, Guarantee: Lossless},
			{Name: "h.mid", Dir: Produce, Type: 2, Guarantee: Lossless, Slots: 1 << 16}},
	}
	relay := relayMod(t, "h", 1<<16, &midOrder, &out)
	sink := spCons("sink", ChanDecl{Name: "h.out", Type: 3, Guarantee: Lossless, Slots: 1 << 16},
		func(c *Ctx) Status { outOrder.see(c.Task()); return OK })
	k := spBoot(t, spCfg(), colocated(splitMod, relay, sink)...)
	split, mid, out = spChan(t, k, "h.in"), spChan(t, k, "h.mid"), spChan(t, k, "h.out")
	emitSeq(t, k, split, n, 48)
	r := haltOK(t, k)
	checkIdentity(t, r)
	total := uint64(0)
	for i := range uint64(n) {
		total += 1 + i%3
	}
	midOrder.check(t, "relay (h.mid)", total)
	outOrder.check(t, "sink (h.out)", total)
	if want := n + 2*total; r.Stats.Completed != want {
		t.Errorf("completed %d, want %d", r.Stats.Completed, want)
	}
}

// relayMod is a module that records the order of what arrives on channel
// <p>.mid (type 2) and passes each task on to <p>.out (type 3, *out's id).
func relayMod(t *testing.T, p string, slots int, order *spOrder, out *ChanID) Module {
	return Module{Name: "relay",
		Handlers: []Handler{{Type: 2, Fn: func(c *Ctx) Status {
			order.see(c.Task())
			x := *c.Task()
			x.Type = 3
			if c.ChanEmit(*out, x) != nil {
				t.Error("emit on " + p + ".out refused")
			}
			return OK
		}}},
		Channels: []ChanDecl{{Name: p + ".mid", Dir: Consume, Type: 2, Guarantee: Lossless, Slots: slots},
			{Name: p + ".out", Dir: Produce, Type: 3, Guarantee: Lossless, Slots: slots}},
	}
}

// emitSeq emits n tasks of type 1 with Meta0 0, 1, … n-1 on ch from outside
// the kernel, batch at a time, waiting for room as ChanEmitAll does.
func emitSeq(t *testing.T, k *Kernel, ch ChanID, n, batch int) {
	t.Helper()
	ts := make([]Task, batch)
	for i := 0; i < n; i += batch {
		m := min(batch, n-i)
		for j := range ts[:m] {
			ts[j] = Task{Type: 1, Meta0: uint64(i + j)}
		}
		if err := k.ChanEmitAll(context.Background(), ch, ts[:m]); err != nil {
			t.Fatal(err)
		}
	}
}

// colocated pins every consumer of mods to worker 0, so that a chain of them
// runs on one worker and its deliveries take the handoff slot (Boot would
// otherwise cut a three-stage chain over two workers, layout.go).
func colocated(mods ...Module) []Module {
	for i := range mods {
		chans := slices.Clone(mods[i].Channels)
		for j := range chans {
			if chans[j].Dir == Consume {
				chans[j].Pin, chans[j].Worker = true, 0
			}
		}
		mods[i].Channels = chans
	}
	return mods
}
