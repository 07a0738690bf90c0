package kernel

import "testing"

// TestF3_PanicInGuardedBatch: the guarded dispatch (one recovery per batch)
// ends a panicking task as PANICKED and goes on with the rest of the batch
// and with the deliveries handed off meanwhile ([F3]: a panic is a failure,
// never the end of the worker). A co-located chain split → relay → sink
// (pinned to one worker, colocated) on lossless P2P channels: split emits
// and then panics on every 5th item (so the panicking handler has handed a
// delivery off), sink panics on every 7th (a panic inside a handed-off
// delivery). Relay still sees its channel complete and in order ([C4]),
// sink sees no item twice and every item that did not end in sys.error, the
// panics are counted, and the accounting identity holds at Halt ([C9]).
func TestF3_PanicInGuardedBatch(t *testing.T) {
	const n = 64 * 50
	var mid, out ChanID
	var midOrder spOrder
	seen := map[uint64]int{}
	var count uint64 // split's emit counter (its home worker only)
	split := Module{Name: "split",
		Handlers: []Handler{{Type: 1, Fn: func(c *Ctx) Status {
			if c.Task().Aux > 0 {
				return OK // a retry of a panicked run: its emit was made
			}
			if c.ChanEmit(mid, Task{Type: 2, Meta0: count}) != nil {
				t.Error("emit on g.mid refused")
			}
			count++
			if c.Task().Meta0%5 == 0 {
				panic("split")
			}
			return OK
		}}},
		Channels: []ChanDecl{{Name: "g.in", Dir: Consume, Type: 1, Guarantee: Lossless},
			{Name: "g.mid", Dir: Produce, Type: 2, Guarantee: Lossless, Slots: 1 << 14}},
	}
	relay := relayMod(t, "g", 1<<14, &midOrder, &out)
	sink := spCons("sink", ChanDecl{Name: "g.out", Type: 3, Guarantee: Lossless, Slots: 1 << 14},
		func(c *Ctx) Status {
			if x := c.Task(); x.Aux == 0 && x.Meta0%7 == 3 {
				panic("sink")
			}
			seen[c.Task().Meta0]++
			return OK
		})
	cfg := spCfg()
	cfg.Poison.Failures = 1 << 30 // panics here are the test, not a reason to poison
	k := spBoot(t, cfg, colocated(split, relay, sink)...)
	in := spChan(t, k, "g.in")
	mid, out = spChan(t, k, "g.mid"), spChan(t, k, "g.out")
	emitSeq(t, k, in, n, 64)
	r := haltOK(t, k)
	checkIdentity(t, r)
	midOrder.check(t, "relay (g.mid)", n)
	wantPanics := uint64(0)
	for i := range uint64(n) {
		if i%5 == 0 {
			wantPanics++
		}
		if i%7 == 3 {
			wantPanics++
		}
	}
	if r.Stats.Panics != wantPanics {
		t.Errorf("panics %d, want %d", r.Stats.Panics, wantPanics)
	}
	for m, c := range seen {
		if c != 1 {
			t.Errorf("sink saw item %d %d times", m, c)
		}
	}
	if got := uint64(len(seen)) + r.Stats.Errored; got < n {
		t.Errorf("sink saw %d items and %d tasks ended in sys.error: %d of %d items lost", len(seen), r.Stats.Errored, n-got, n)
	}
}
