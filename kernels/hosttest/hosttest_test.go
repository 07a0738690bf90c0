package hosttest

import (
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("hosttest.seed", 0, "seed of the stress runs' random streams (0: from the clock; logged)")

// config completes c for one subtest: a seed (logged, so a failure can be
// replayed with -hosttest.seed), a hang guard inside the test's deadline, and
// under -short a fraction of the items.
func config(t *testing.T, c Config, shortItems int) Config {
	t.Helper()
	c.Seed = *seedFlag
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay: -hosttest.seed=%d)", c.Seed, c.Seed)
	c.Timeout = 60 * time.Second
	if d, ok := t.Deadline(); ok {
		c.Timeout = min(c.Timeout, time.Until(d)/2)
	}
	if testing.Short() {
		c.Items = shortItems
	}
	return c
}

func skipWithoutCgo(t *testing.T) {
	t.Helper()
	if !Available {
		t.Skip("built without cgo: the device structures cannot be compiled as C")
	}
}

// The harness's hang guard fails a run that stops making progress — no
// progress mark for a whole window, what a lost publication looks like —
// and only such a run: marks that keep coming, each inside the window, let
// a run go on for several windows, as a run slowed down by a busy machine
// must (an absolute deadline failed such a run in CI).
func TestHarness_HangGuardMeasuresProgress(t *testing.T) {
	skipWithoutCgo(t)
	const window = 300 * time.Millisecond
	st, err := guardRun(window, 100*time.Millisecond, 12, true) // 1.2 s: four windows
	if err != nil {
		t.Fatalf("a run with a progress mark every 100 ms failed its %v window: %v", window, err)
	}
	if st.Ops != 12 {
		t.Fatalf("the waiter saw %d marks, want 12", st.Ops)
	}
	_, err = guardRun(window, 0, 1, false)
	if err == nil || !strings.Contains(err.Error(), "no progress for") {
		t.Fatalf("a run without progress ended with %v, want the guard's failure", err)
	}
}

// [R1] [S3] [G2]: the batch-claiming MPMC ring (GRQ buckets, LQs, egress)
// delivers every task exactly once, whole and per producer in order, under
// producers × consumers threads, while a small capacity keeps it wrapping and
// running full and empty.
func TestR1_MPMCEveryTaskExactlyOnce(t *testing.T) {
	skipWithoutCgo(t)
	for _, c := range []Config{
		{Producers: 8, Consumers: 8, Items: 20000, Capacity: 8},    // wraps every 8 tasks: full and empty all the time
		{Producers: 8, Consumers: 8, Items: 20000, Capacity: 64},   // batches of up to 32 exceed half the ring
		{Producers: 8, Consumers: 8, Items: 20000, Capacity: 1024}, // rarely full: long runs of batch claims
		{Producers: 1, Consumers: 8, Items: 80000, Capacity: 16},   // consumers fight over one producer's tasks
		{Producers: 8, Consumers: 1, Items: 10000, Capacity: 16},   // producers fight over the slots
	} {
		t.Run(fmt.Sprintf("%dx%d/cap%d", c.Producers, c.Consumers, c.Capacity), func(t *testing.T) {
			c := config(t, c, 2000)
			st, err := MPMC(c)
			if err != nil {
				t.Fatal(err)
			}
			if want := int64(c.Producers * c.Items); st.Ops != want {
				t.Fatalf("consumed %d tasks, want %d", st.Ops, want)
			}
			t.Logf("%d tasks, %d laps; %d short pushes, %d empty pops", st.Ops, st.Aux, st.Full, st.Empty)
		})
	}
}

// [A2] [A3] [G2]: the slab never gives one block to two holders, reports
// exhaustion as NONE, rejects bad and double frees, and gets every block back.
func TestA2_SlabNoBlockToTwoHolders(t *testing.T) {
	skipWithoutCgo(t)
	for _, c := range []Config{
		{Producers: 8, Capacity: 64, Block: 64},   // power-of-two blocks: the shift path
		{Producers: 8, Capacity: 16, Block: 48},   // the division path
		{Producers: 8, Capacity: 4, Block: 64},    // fewer blocks than threads: ABA at its most likely
		{Producers: 4, Capacity: 1000, Block: 24}, // a long free list
	} {
		t.Run(fmt.Sprintf("%dthreads/%dx%dB", c.Producers, c.Capacity, c.Block), func(t *testing.T) {
			c.Items = 200000
			c := config(t, c, 20000)
			st, err := Slab(c)
			if err != nil {
				t.Fatal(err)
			}
			// In each of the 100 rounds of racing frees every thread frees
			// every block once: exactly one free per block succeeds.
			if want := int64((c.Producers - 1) * c.Capacity * 100); st.Aux != want {
				t.Fatalf("racing frees: %d double frees rejected, want %d", st.Aux, want)
			}
			t.Logf("%d blocks handed out, %d allocations found the slab empty", st.Ops, st.Full)
		})
	}
}

// [A3] [G2]: concurrent bump allocations are disjoint, aligned and in
// bounds; past the end each thread gets NONE; a reset empties the allocator.
func TestA3_BumpDisjointAlignedInBounds(t *testing.T) {
	skipWithoutCgo(t)
	for _, c := range []Config{
		{Producers: 8, Capacity: 64 << 10, Items: 50},
		{Producers: 2, Capacity: 1 << 20, Items: 10},
		{Producers: 8, Capacity: 1024, Items: 200}, // a few allocations each: the end is contested
	} {
		t.Run(fmt.Sprintf("%dthreads/%dB", c.Producers, c.Capacity), func(t *testing.T) {
			c := config(t, c, 5)
			st, err := Bump(c)
			if err != nil {
				t.Fatal(err)
			}
			// Each thread allocates until its first NONE, once per round.
			if want := int64(c.Producers * c.Items); st.Full != want {
				t.Fatalf("%d NONE results, want one per thread and round: %d", st.Full, want)
			}
			t.Logf("%d allocations, %d bytes", st.Ops, st.Aux)
		})
	}
}

// [S5] [S6] [G1] [G2]: the EVQ fires every event once, never before its due
// time, in due order with ties in post order, whether posters fill it first
// or post while the owner pops (and posts to itself).
func TestS5_EVQDueOrderNeverEarly(t *testing.T) {
	skipWithoutCgo(t)
	for _, c := range []Config{
		{Producers: 8, Capacity: 64, Items: 4000},   // often full
		{Producers: 3, Capacity: 8, Items: 4000},    // full nearly always
		{Producers: 8, Capacity: 4096, Items: 4000}, // a deep heap
	} {
		t.Run(fmt.Sprintf("%dposters/cap%d", c.Producers, c.Capacity), func(t *testing.T) {
			c := config(t, c, 500)
			st, err := EVQ(c)
			if err != nil {
				t.Fatal(err)
			}
			if want := int64(c.Producers*c.Items) + st.Aux; st.Ops != want || st.Aux != int64(c.Items/4+1) {
				t.Fatalf("popped %d events (%d self-posted), want %d (%d)", st.Ops, st.Aux, want, c.Items/4+1)
			}
			t.Logf("%d events, %d refused as full", st.Ops, st.Full)
		})
	}
}

// [B4] [B2] [B3]: through the bridge ring's C producer and consumer, with
// random payload sizes and batch publishes, every task arrives once, in
// order, with gapless sequence numbers and intact bytes.
func TestB4_BridgeRingLossless(t *testing.T) {
	skipWithoutCgo(t)
	runBridge(t, Bridge, []Config{
		{Items: 100000, Capacity: 64, Block: 16 << 10},
		{Items: 100000, Capacity: 8, Block: 512},    // slots and staging both scarce: constant wrap and skip
		{Items: 50000, Capacity: 1024, Block: 4096}, // staging the bottleneck
	})
}

// A config the C side cannot run is an error, not a crash or a hang.
func TestBadConfigIsAnError(t *testing.T) {
	skipWithoutCgo(t)
	for name, f := range map[string]func() (Stats, error){
		"mpmc capacity 12":    func() (Stats, error) { return MPMC(Config{Capacity: 12, Items: 10}) },
		"slab 100 threads":    func() (Stats, error) { return Slab(Config{Producers: 100, Items: 10}) },
		"bump 10 bytes":       func() (Stats, error) { return Bump(Config{Capacity: 10}) },
		"evq capacity 100":    func() (Stats, error) { return EVQ(Config{Capacity: 100, Items: 10}) },
		"bridge staging 1000": func() (Stats, error) { return Bridge(Config{Block: 1000, Items: 10}) },
		"mpmc 40x40 threads":  func() (Stats, error) { return MPMC(Config{Producers: 40, Consumers: 40, Items: 10}) },
		"evq more posters than capacity": func() (Stats, error) {
			return EVQ(Config{Producers: 16, Capacity: 8, Items: 10})
		},
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
