package hosttest

import (
	"fmt"
	"testing"
)

// [B4] [B2] [B3]: through the LL ring's C producer and consumer
// (gmk_bridge_ll_stage / gmk_bridge_ll_poll), with random payload sizes and
// batch publishes over many laps of small rings, every task arrives once, in
// order, with gapless sequence numbers and intact bytes, and CLOSED comes
// after the drain; then the single-threaded LL checks hold (stale and torn
// slots never consumed, foreign tags reported, wake line, close).
func TestB4_BridgeRingLLLossless(t *testing.T) {
	skipWithoutCgo(t)
	runBridge(t, BridgeLL, []Config{
		{Items: 100000, Capacity: 64, Block: 16 << 10},
		{Items: 100000, Capacity: 8, Block: 512},    // slots and staging both scarce: constant wrap and skip
		{Items: 50000, Capacity: 1024, Block: 4096}, // staging the bottleneck
		{Items: 100000, Capacity: 2, Block: 256},    // the smallest ring: every slot rewritten 50,000 times
	})
}

// runBridge runs the bridge harness run (Bridge or BridgeLL) on each config
// and checks that every task was received.
func runBridge(t *testing.T, run func(Config) (Stats, error), cs []Config) {
	t.Helper()
	for _, c := range cs {
		t.Run(fmt.Sprintf("%dslots/%dB", c.Capacity, c.Block), func(t *testing.T) {
			c := config(t, c, 10000)
			st, err := run(c)
			if err != nil {
				t.Fatal(err)
			}
			if st.Ops != int64(c.Items) {
				t.Fatalf("received %d tasks, want %d", st.Ops, c.Items)
			}
			t.Logf("%d tasks in %d batches; %d refused stages, %d empty polls", st.Ops, st.Aux, st.Full, st.Empty)
		})
	}
}
