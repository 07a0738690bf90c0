package kernel

import "testing"

// TestPublishChanStatsCountsTheHandlersEmits: after PublishChanStats a
// handler's own emits are in ChanStats at once — the count a bridge
// endpoint waits for before it acknowledges a task; without it the worker
// publishes its counters only between batches. (What this buys, nothing
// lost across a GPU reset, is proved by gpu/system's [B4] [F4] tests.)
func TestPublishChanStatsCountsTheHandlersEmits(t *testing.T) {
	const tIn, tOut, n = 1, 2, 200
	var out ChanID
	seen := make([]uint64, 0, n)
	prod := Module{Name: "prod",
		Handlers: []Handler{{Type: tIn, Fn: func(c *Ctx) Status {
			for range 3 {
				if err := c.ChanEmit(out, Task{Type: tOut}); err != nil {
					return Fail
				}
			}
			c.PublishChanStats()
			st, _ := c.Kernel().ChanStats(out)
			seen = append(seen, st.Emits) // one worker: handlers run one at a time
			return OK
		}}},
		Channels: []ChanDecl{{Name: "pub.out", Dir: Produce, Type: tOut, Guarantee: Lossless, Slots: 4 * n}},
		Init:     func(c *Ctx) (err error) { out, err = c.Kernel().Chan("pub.out"); return err },
	}
	cons := Module{Name: "cons",
		Handlers: []Handler{{Type: tOut, Fn: func(*Ctx) Status { return OK }}},
		Channels: []ChanDecl{{Name: "pub.out", Dir: Consume, Type: tOut, Guarantee: Lossless, Slots: 4 * n}},
	}
	k, err := Boot(BootConfig{Workers: 1, ArenaSize: 8 << 20}, prod, cons)
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := k.Submit(Task{Type: tIn}); err != nil {
			t.Fatal(err)
		}
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if len(seen) != n {
		t.Fatalf("%d handler runs, want %d", len(seen), n)
	}
	for i, v := range seen {
		if v != uint64(3*(i+1)) {
			t.Fatalf("run %d saw %d emits counted, want %d", i, v, 3*(i+1))
		}
	}
}
