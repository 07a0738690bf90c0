package kernel

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// [C4] [C7] [C9] Flow control holds for deliveries that skip the subscription's
// queue. src and mid share worker 0, so each of src's emits reaches mid by
// the home worker's fast path (straight into its queues, or the handoff
// slot) rather than through the queue that drainSubs meters; mid's lossless
// output is consumed by a slow sink on worker 1. mid must still wait for
// the sink instead of overrunning its output: every task arrives, in
// order, and none ends in sys.error (before the fix mid's emits failed
// with CHAN_FULL faster than its hold queue could take them, and the
// retries ran out).
func TestC4_FastPathMeteredByOutputRoom(t *testing.T) {
	const n = 30000
	var got, outOfOrder atomic.Int64
	src := stageModule("src", "", "fl.mid", 1, nil)
	src.Channels = append(src.Channels, ChanDecl{Name: "fl.in", Dir: Consume, Type: 1, Guarantee: Lossless, Pin: true, Worker: 0})
	mid := stageModule("mid", "", "fl.out", 2, nil)
	mid.Channels = append(mid.Channels, ChanDecl{Name: "fl.mid", Dir: Consume, Type: 2, Guarantee: Lossless, Pin: true, Worker: 0})
	sink := Module{Name: "sink",
		Handlers: []Handler{{Type: 3, Fn: func(c *Ctx) Status {
			if c.Task().Meta0 != uint64(got.Load())+2 {
				outOfOrder.Add(1)
			}
			got.Add(1)
			for end := time.Now().Add(2 * time.Microsecond); time.Now().Before(end); {
			}
			return OK
		}}},
		Channels: []ChanDecl{{Name: "fl.out", Dir: Consume, Type: 3, Guarantee: Lossless, Pin: true, Worker: 1}},
	}
	k, err := Boot(BootConfig{Workers: 2, ArenaSize: 2 << 20, QueueCap: 8192, MaxTypes: 8}, src, mid, sink)
	if err != nil {
		t.Fatal(err)
	}
	in, err := k.Chan("fl.in")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range n {
		if err := k.ChanEmitWait(ctx, in, Task{Type: 1, Meta0: uint64(i)}); err != nil {
			t.Fatalf("emit %d: %v", i, err)
		}
	}
	for got.Load() < n && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if got.Load() != n || outOfOrder.Load() != 0 || r.Stats.Errored != 0 {
		t.Fatalf("sink got %d of %d (%d out of order), %d in sys.error; %v", got.Load(), n, outOfOrder.Load(), r.Stats.Errored, r.Stats)
	}
}
