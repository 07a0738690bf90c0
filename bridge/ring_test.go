package bridge

import (
	"errors"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel/task"
)

// TestB2_FIFOBatches: tasks cross in FIFO order with consecutive sequence
// numbers, whatever the batch sizes on either side, across many laps of the
// slot array and across the uint64 wrap-around of every index; one publication
// per batch.
func TestB2_FIFOBatches(t *testing.T) { forModes(t, testFIFOBatches) }

// testFIFOBatches is TestB2_FIFOBatches in one slot format (ll: LL rings).
func testFIFOBatches(t *testing.T, ll bool) {
	for _, start := range []uint64{0, nearWrap} {
		a, b := newMemAt(t, Config{Capacity: 8, Staging: 1024, LL: ll}, start)
		tx, rx := a.tx, b.rx
		dst := make([]Msg, 5)
		sent, got, publishes := 0, 0, uint64(0)
		for round := range 200 {
			for range round % 7 { // batches of 0..6 tasks
				tk := inline(sent)
				if err := tx.Stage(&tk, nil); err != nil {
					break // full: drain first
				}
				sent++
			}
			if tx.Publish() > 0 {
				publishes++
			}
			for {
				n, err := rx.Peek(dst[:1+round%len(dst)])
				if err != nil {
					t.Fatalf("start %d: Peek: %v", start, err)
				}
				if n == 0 {
					break
				}
				for _, m := range dst[:n] {
					if m.Task.Meta0 != uint64(got) || m.Task.Meta1 != ^uint64(got) || m.Payload != nil {
						t.Fatalf("start %d: got task %d (%+v), want %d", start, m.Task.Meta0, m.Task, got)
					}
					got++
				}
				rx.Release()
			}
		}
		if got != sent || sent < 400 {
			t.Fatalf("start %d: sent %d, received %d", start, sent, got)
		}
		if s := tx.Stats(); s.Tasks != uint64(sent) || s.Transfers != publishes {
			t.Fatalf("start %d: sender stats %+v, want %d tasks in %d transfers", start, s, sent, publishes)
		}
		if s := rx.Stats(); s.Tasks != uint64(got) {
			t.Fatalf("start %d: receiver stats %+v", start, s)
		}
	}
}

// TestB4_FullEmptyBackpressure: staged tasks are invisible until published; a
// full ring refuses with ErrFull (CHAN_FULL) and loses nothing; room comes back
// only when the receiver releases.
func TestB4_FullEmptyBackpressure(t *testing.T) { forModes(t, testFullEmptyBackpressure) }

// testFullEmptyBackpressure is TestB4_FullEmptyBackpressure in one slot format (ll: LL rings).
func testFullEmptyBackpressure(t *testing.T, ll bool) {
	a, b := newMem(t, Config{Capacity: 4, Staging: 1024, LL: ll})
	tx, rx := a.tx, b.rx
	dst := make([]Msg, 8)
	if n, err := rx.Peek(dst); n != 0 || err != nil {
		t.Fatalf("empty ring: Peek = %d, %v", n, err)
	}
	for i := range 4 {
		tk := inline(i)
		if err := tx.Stage(&tk, nil); err != nil {
			t.Fatalf("Stage %d: %v", i, err)
		}
	}
	if n, _ := rx.Peek(dst); n != 0 {
		t.Fatalf("staged tasks visible before Publish: %d", n)
	}
	tk := inline(4)
	if err := tx.Stage(&tk, nil); !errors.Is(err, ErrFull) || !errors.Is(err, task.ErrChanFull) {
		t.Fatalf("Stage on a full ring = %v, want ErrFull (CHAN_FULL)", err)
	}
	if tx.Publish() != 4 || tx.Staged() != 0 {
		t.Fatal("Publish did not publish the 4 staged tasks")
	}
	if n, _ := rx.Peek(dst); n != 4 {
		t.Fatalf("Peek = %d, want 4", n)
	}
	if err := tx.Stage(&tk, nil); !errors.Is(err, ErrFull) {
		t.Fatalf("Stage before Release = %v, want ErrFull", err)
	}
	if rx.Release() != 4 {
		t.Fatal("Release did not release 4")
	}
	if err := tx.Stage(&tk, nil); err != nil {
		t.Fatalf("Stage after Release: %v", err)
	}
	tx.Publish()
	if n, _ := rx.Peek(dst); n != 1 || dst[0].Task.Meta0 != 4 {
		t.Fatalf("after refill: Peek = %d, task %d; want task 4", n, dst[0].Task.Meta0)
	}
}

// TestB4_CloseDrainsThenClosed: a disconnect shows CHAN_CLOSED on both sides;
// the receiver first drains what was published before it.
func TestB4_CloseDrainsThenClosed(t *testing.T) { forModes(t, testCloseDrainsThenClosed) }

// testCloseDrainsThenClosed is TestB4_CloseDrainsThenClosed in one slot format (ll: LL rings).
func testCloseDrainsThenClosed(t *testing.T, ll bool) {
	a, b := newMem(t, Config{Capacity: 8, Staging: 1024, LL: ll})
	for i := range 3 {
		tk := inline(i)
		if err := a.tx.Stage(&tk, nil); err != nil {
			t.Fatal(err)
		}
	}
	a.tx.Publish()
	a.Disconnect()
	tk := inline(9)
	for name, s := range map[string]Sender{"A": a.tx, "B": b.tx} {
		if err := s.Stage(&tk, nil); !errors.Is(err, ErrClosed) || !errors.Is(err, task.ErrChanClosed) {
			t.Fatalf("%s Stage after disconnect = %v, want ErrClosed (CHAN_CLOSED)", name, err)
		}
		if !s.Wait(time.Hour) {
			t.Fatalf("%s Sender.Wait on a closed ring = false", name)
		}
	}
	dst := make([]Msg, 2)
	var got []uint64
	for {
		n, err := b.rx.Peek(dst)
		for _, m := range dst[:n] {
			got = append(got, m.Task.Meta0)
		}
		b.rx.Release()
		if errors.Is(err, ErrClosed) {
			break
		}
		if err != nil || (n == 0 && len(got) > 3) {
			t.Fatalf("Peek = %d, %v", n, err)
		}
	}
	if len(got) != 3 || got[0] != 0 || got[2] != 2 {
		t.Fatalf("drained %v, want [0 1 2]", got)
	}
	if _, err := a.rx.Peek(dst); !errors.Is(err, ErrClosed) {
		t.Fatalf("A Peek after disconnect = %v, want ErrClosed", err)
	}
	if !b.rx.Wait(time.Hour) {
		t.Fatal("Receiver.Wait on a closed ring = false")
	}
}

// TestB4_SeqGapDetected: a lost task (a slot whose seq skips one) is reported
// as a *GapError naming the expected and found numbers, after the good prefix,
// and is never consumed: lossless stays lossless.
func TestB4_SeqGapDetected(t *testing.T) { forModes(t, testSeqGapDetected) }

// testSeqGapDetected is TestB4_SeqGapDetected in one slot format (ll: LL rings).
func testSeqGapDetected(t *testing.T, ll bool) {
	a, b := newMem(t, Config{Capacity: 8, Staging: 1024, LL: ll})
	for i := range 2 {
		tk := inline(i)
		a.tx.Stage(&tk, nil)
	}
	a.tx.seq++ // the producer loses task seq 2
	tk := inline(2)
	a.tx.Stage(&tk, nil)
	a.tx.Publish()
	dst := make([]Msg, 8)
	if n, err := b.rx.Peek(dst); n != 2 || err != nil {
		t.Fatalf("Peek = %d, %v; want the 2 tasks before the gap", n, err)
	}
	b.rx.Release()
	for range 2 { // the gap stays put
		n, err := b.rx.Peek(dst)
		var gap *GapError
		if n != 0 || !errors.As(err, &gap) || !errors.Is(err, ErrSeqGap) {
			t.Fatalf("Peek at the gap = %d, %v; want a *GapError", n, err)
		}
		if gap.Ring != RingAB || gap.Want != 2 || gap.Got != 3 {
			t.Fatalf("gap = %+v, want ring 0, want 2, got 3", gap)
		}
	}
	if s := b.rx.Stats(); s.Tasks != 2 {
		t.Fatalf("receiver consumed %d tasks, want 2", s.Tasks)
	}
}

// TestB2_WaitWakes: a receiver asleep on an empty ring is woken by the
// publication (its bell rings), a sender asleep on a full ring by the release;
// Wait on a quiet ring returns false after max.
func TestB2_WaitWakes(t *testing.T) { forModes(t, testWaitWakes) }

// testWaitWakes is TestB2_WaitWakes in one slot format (ll: LL rings).
func testWaitWakes(t *testing.T, ll bool) {
	a, b := newMem(t, Config{Capacity: 2, Staging: 1024, LL: ll})
	if b.rx.Wait(time.Millisecond) {
		t.Fatal("Wait on an empty open ring = true")
	}
	h := b.rx.v.hdr
	done := make(chan bool)
	go func() { done <- b.rx.Wait(time.Minute) }()
	waitUntil(t, "the receiver to sleep", func() bool { return h.consWaiting.Load() == 1 })
	bell := h.consBell.Load()
	tk := inline(0)
	a.tx.Stage(&tk, nil)
	a.tx.Publish()
	if !<-done {
		t.Fatal("receiver Wait = false after a publication")
	}
	if h.consBell.Load() == bell {
		t.Fatal("publication to a sleeping receiver did not ring its bell")
	}

	a.tx.Stage(&tk, nil) // fill the ring (capacity 2)
	a.tx.Publish()
	if err := a.tx.Stage(&tk, nil); !errors.Is(err, ErrFull) {
		t.Fatalf("Stage = %v, want ErrFull", err)
	}
	go func() { done <- a.tx.Wait(time.Minute) }()
	waitUntil(t, "the sender to sleep", func() bool { return h.prodWaiting.Load() == 1 })
	dst := make([]Msg, 1)
	b.rx.Peek(dst)
	b.rx.Release()
	if !<-done {
		t.Fatal("sender Wait = false after a release")
	}
	if err := a.tx.Stage(&tk, nil); err != nil {
		t.Fatalf("Stage after the release: %v", err)
	}
}
