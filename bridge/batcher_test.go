package bridge

import (
	"errors"
	"testing"
	"time"
)

// fakeClock is a manual clock for the Batcher's poll interval.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// newBatchers returns a Batcher on each end of a mem pair.
func newBatchers(t *testing.T, c Config, bc BatchConfig) (a, b *Batcher, at, bt *ringTransport) {
	t.Helper()
	at, bt = newMem(t, c)
	var err error
	if a, err = NewBatcher(at, bc); err != nil {
		t.Fatal(err)
	}
	if b, err = NewBatcher(bt, bc); err != nil {
		t.Fatal(err)
	}
	return a, b, at, bt
}

// received drains b with Poll and returns the Meta0 of every task.
func received(t *testing.T, b *Batcher) []uint64 {
	t.Helper()
	var got []uint64
	for {
		n, err := b.Poll(func(ms []Msg) {
			for _, m := range ms {
				got = append(got, m.Task.Meta0)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return got
		}
	}
}

// TestB2_BatchPublishedWhenFull: tasks stay invisible until the batch holds
// Size tasks, then cross in one transfer.
func TestB2_BatchPublishedWhenFull(t *testing.T) {
	a, b, at, _ := newBatchers(t, Config{Capacity: 64}, BatchConfig{Size: 4})
	for i := range 3 {
		tk := inline(i)
		if err := a.Add(&tk, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := received(t, b); len(got) != 0 {
		t.Fatalf("received %v before the batch was full", got)
	}
	tk := inline(3)
	a.Add(&tk, nil)
	if got := received(t, b); len(got) != 4 || got[3] != 3 {
		t.Fatalf("received %v, want [0 1 2 3]", got)
	}
	if s := at.tx.Stats(); s.Tasks != 4 || s.Transfers != 1 {
		t.Fatalf("stats %+v, want 4 tasks in 1 transfer", s)
	}
}

// TestB2_PartialBatchPublishedAfterInterval: a partial batch is published by
// the first Tick one poll interval after the sender went idle with it (its
// first Tick), not before; Add never reads the clock.
func TestB2_PartialBatchPublishedAfterInterval(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	reads := 0
	now := func() time.Time { reads++; return clk.now() }
	a, b, _, _ := newBatchers(t, Config{}, BatchConfig{Now: now}) // defaults: 64 tasks, 10 µs
	if _, ok := a.Deadline(); ok {
		t.Fatal("Deadline with nothing staged")
	}
	for i := range 5 {
		tk := inline(i)
		a.Add(&tk, nil)
		clk.advance(time.Microsecond)
	}
	if reads != 0 {
		t.Fatalf("Add read the clock %d times", reads)
	}
	if d, ok := a.Deadline(); !ok || !d.IsZero() {
		t.Fatalf("Deadline before any Tick = %v, %v; want due now", d, ok)
	}
	if a.Tick() != 0 { // idle from now on
		t.Fatal("the first Tick published at once")
	}
	idle := clk.now()
	if d, ok := a.Deadline(); !ok || !d.Equal(idle.Add(DefaultInterval)) {
		t.Fatalf("Deadline = %v, %v; want first Tick + 10µs", d, ok)
	}
	clk.advance(DefaultInterval - time.Nanosecond)
	if a.Tick() != 0 || len(received(t, b)) != 0 {
		t.Fatal("published before the interval expired")
	}
	clk.advance(time.Nanosecond)
	if n := a.Tick(); n != 5 {
		t.Fatalf("Tick at the deadline published %d, want 5", n)
	}
	if got := received(t, b); len(got) != 5 {
		t.Fatalf("received %v", got)
	}
	if _, ok := a.Deadline(); ok || reads != 3 {
		t.Fatalf("after the flush: a batch still open, or %d clock reads for 3 Ticks", reads)
	}
	tk := inline(5) // a new batch starts its own interval
	a.Add(&tk, nil)
	if a.Tick() != 0 {
		t.Fatal("a new batch inherited the old interval")
	}
}

// TestB2_FewerTransfersThanTasks (GMK.md acceptance 19): transfers per task is
// 1/Size in both directions — publications on the sending side, releases on
// the receiving side.
func TestB2_FewerTransfersThanTasks(t *testing.T) {
	for _, size := range []int{1, 8, 64} {
		a, b, _, _ := newBatchers(t, Config{Capacity: 1024}, BatchConfig{Size: size})
		const n = 1024
		for i := range n {
			tk := inline(i)
			if err := a.Add(&tk, nil); err != nil {
				t.Fatal(err)
			}
		}
		a.Flush()
		if got := received(t, b); len(got) != n {
			t.Fatalf("size %d: received %d", size, len(got))
		}
		sent, _ := a.Stats()
		_, recv := b.Stats()
		want := 1 / float64(size)
		if sent.Tasks != n || sent.TransfersPerTask() != want || recv.TransfersPerTask() != want {
			t.Fatalf("size %d: sent %+v received %+v; want %v transfers per task", size, sent, recv, want)
		}
	}
}

// TestB4_FullRingPublishesPartialBatch: when the ring fills before the batch
// does, Add publishes what is staged (so the receiver can make room) and
// reports ErrFull for the task it could not stage; nothing is lost.
func TestB4_FullRingPublishesPartialBatch(t *testing.T) {
	a, b, _, _ := newBatchers(t, Config{Capacity: 4}, BatchConfig{Size: 64})
	for i := range 4 {
		tk := inline(i)
		if err := a.Add(&tk, nil); err != nil {
			t.Fatal(err)
		}
	}
	tk := inline(4)
	if err := a.Add(&tk, nil); !errors.Is(err, ErrFull) {
		t.Fatalf("Add on a full ring = %v, want ErrFull", err)
	}
	if got := received(t, b); len(got) != 4 {
		t.Fatalf("received %v, want the 4 staged tasks", got)
	}
	if err := a.Add(&tk, nil); err != nil {
		t.Fatalf("Add after the receiver drained: %v", err)
	}
	a.Flush()
	if got := received(t, b); len(got) != 1 || got[0] != 4 {
		t.Fatalf("received %v, want [4]", got)
	}
}

// TestB2_PollHandsAtMostSize: Poll hands at most Size tasks per call and
// reports ErrClosed once the peer disconnected and everything was drained.
func TestB2_PollHandsAtMostSize(t *testing.T) {
	a, b, at, _ := newBatchers(t, Config{}, BatchConfig{Size: 3})
	for i := range 7 {
		tk := inline(i)
		a.Add(&tk, nil)
	}
	a.Flush()
	at.Disconnect()
	var sizes []int
	for {
		n, err := b.Poll(func(ms []Msg) { sizes = append(sizes, len(ms)) })
		if errors.Is(err, ErrClosed) {
			break
		}
		if err != nil || n == 0 {
			t.Fatalf("Poll = %d, %v", n, err)
		}
	}
	if len(sizes) != 3 || sizes[0] != 3 || sizes[1] != 3 || sizes[2] != 1 {
		t.Fatalf("batch sizes %v, want [3 3 1]", sizes)
	}
	if _, err := NewBatcher(at, BatchConfig{Size: -1}); err == nil {
		t.Fatal("NewBatcher accepted Size -1")
	}
}
