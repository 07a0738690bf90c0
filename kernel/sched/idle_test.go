package sched

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// [S6] Mark and Unmark count parked workers.
func TestS6_MarkUnmarkParked(t *testing.T) {
	i := NewIdle(3)
	i.Mark(0)
	i.Mark(2)
	if i.Parked() != 2 {
		t.Errorf("Parked = %d, want 2", i.Parked())
	}
	i.Unmark(0)
	i.Unmark(2)
	if i.Parked() != 0 {
		t.Errorf("Parked = %d, want 0", i.Parked())
	}
}

// [S6] Wake signals only a parked worker; w < 0 is ignored; wakes coalesce
// into one pending token.
func TestS6_WakeOnlyParked(t *testing.T) {
	i := NewIdle(2)
	i.Wake(0)
	i.Wake(-1)
	if pending(i, 0) {
		t.Error("Wake of a running worker left a token")
	}
	i.Mark(0)
	i.Wake(0)
	i.Wake(0)
	if !pending(i, 0) {
		t.Error("Wake of a parked worker left no token")
	}
	if pending(i, 0) || pending(i, 1) {
		t.Error("two wakes left two tokens, or woke another worker")
	}
}

// [S6] WakeAny wakes one parked worker and nobody when none is parked.
func TestS6_WakeAnyPicksParked(t *testing.T) {
	i := NewIdle(4)
	i.WakeAny()
	for w := range 4 {
		if pending(i, w) {
			t.Fatalf("WakeAny with nobody parked woke %d", w)
		}
	}
	i.Mark(2)
	i.WakeAny()
	for w := range 4 {
		if woken := pending(i, w); woken != (w == 2) {
			t.Errorf("WakeAny: worker %d woken = %v, want only the parked worker 2", w, woken)
		}
	}
	i.Mark(3)
	i.WakeAny()
	i.WakeAny()
	if !pending(i, 2) && !pending(i, 3) {
		t.Error("WakeAny with two parked woke neither")
	}
}

// [S6] A wake that lands between Mark and the wait is not lost: the channel
// is buffered, so the wait returns at once.
func TestS6_WakeBetweenMarkAndWaitNotLost(t *testing.T) {
	i := NewIdle(1)
	i.Mark(0)
	i.Wake(0) // the producer runs after Mark, before the worker waits
	select {
	case <-i.C(0):
	default:
		t.Fatal("the wake between Mark and the wait was lost")
	}
	i.Unmark(0)
}

// [S6] The park protocol under concurrency: a worker marks, re-checks for
// work, then waits; a producer publishes work, then wakes. Every item is
// consumed with no lost wake-up (run with -race). The deadline only turns a
// lost wake-up into a failure instead of a hang.
func TestS6_ParkProtocolNoLostWakeUps(t *testing.T) {
	const items = 2000
	i := NewIdle(1)
	var work atomic.Int64
	var wg sync.WaitGroup
	lost := make(chan int64, 1)
	wg.Go(func() {
		for done := int64(0); done < items; {
			if work.Load() > done {
				done++
				continue
			}
			i.Mark(0)
			if work.Load() > done { // re-check after Mark
				i.Unmark(0)
				continue
			}
			select {
			case <-i.C(0):
			case <-time.After(10 * time.Second):
				lost <- done
				i.Unmark(0)
				return
			}
			i.Unmark(0)
		}
	})
	for range items {
		work.Add(1)
		i.Wake(0)
	}
	wg.Wait()
	select {
	case d := <-lost:
		t.Fatalf("wake-up lost after %d items", d)
	default:
	}
}
