package channel

import (
	"runtime"
	"sync"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// ready reports whether sig has a token (or is closed), taking it, without
// blocking.
func ready(sig <-chan struct{}) bool {
	select {
	case <-sig:
		return true
	default:
		return false
	}
}

// Room is what every subscriber can still take below the priority reserve:
// 0 for a lossless channel with no subscriber (its emits fail with CHAN_FULL),
// the reserve for a lossy one, then the minimum over the subscribers.
func TestRoomTracksSlowestSubscriber(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "room.min", Type: msgType, Mode: FanOut, Guarantee: Lossless, Slots: 32})
	if c.Room() != 0 {
		t.Errorf("Room of a lossless channel without subscribers = %d, want 0", c.Room())
	}
	if l := f.open(t, Spec{Name: "room.lossy", Type: msgType, Mode: FanOut, Guarantee: Lossy, Slots: 32}); l.Room() != 29 {
		t.Errorf("Room of a lossy channel without subscribers = %d, want the reserve 29", l.Room())
	}
	a, b := sub(t, c, 0), sub(t, c, 1)
	for i := range uint64(5) {
		f.mustEmit(t, c, i)
	}
	if c.Room() != 24 {
		t.Errorf("Room = %d, want 24", c.Room())
	}
	drainAll(a)
	if c.Room() != 24 {
		t.Errorf("Room after draining one subscriber = %d, want 24 (the other is behind)", c.Room())
	}
	drainAll(b)
	if c.Room() != 29 {
		t.Errorf("Room after draining both = %d, want 29", c.Room())
	}
}

// AddWaiter sets worker bits (modulo 63); TakeWaiters returns and clears them,
// without the bit of the goroutines that are not workers.
func TestWaiterMask(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "room.mask", Type: msgType})
	if c.TakeWaiters() != 0 {
		t.Error("TakeWaiters of a fresh channel is not 0")
	}
	for _, w := range []int{0, 5, 62, 68} { // 68 shares bit 5
		c.AddWaiter(w)
	}
	c.AddWaiter(5)
	if m := c.TakeWaiters(); m != 1|1<<5|1<<62 {
		t.Errorf("TakeWaiters = %#x, want bits 0, 5 and 62", m)
	}
	if m := c.TakeWaiters(); m != 0 {
		t.Errorf("second TakeWaiters = %#x, want 0", m)
	}
}

// RoomSignal registers a waiter that is not a worker; the next TakeWaiters
// (after a drain) hands one token to each registered waiter, and so does Close.
func TestRoomSignalTokensFromTakeWaitersAndClose(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "room.signal", Type: msgType})
	sig := c.RoomSignal()
	if again := c.RoomSignal(); again != sig {
		t.Error("two waiters got different signals")
	}
	if ready(sig) {
		t.Fatal("RoomSignal has a token before any drain")
	}
	c.AddWaiter(3)
	if m := c.TakeWaiters(); m != 1<<3 {
		t.Errorf("TakeWaiters = %#x, want only worker 3 (the outside bit is not a worker)", m)
	}
	first, second := ready(sig), ready(sig) // one token each
	if !first || !second {
		t.Error("TakeWaiters did not wake both registered waiters")
	}
	if ready(sig) {
		t.Error("TakeWaiters handed out more tokens than waiters")
	}
	if c.TakeWaiters() != 0 || ready(sig) {
		t.Error("a second TakeWaiters without new waiters woke someone")
	}
	next := c.RoomSignal()
	c.Close()
	if !ready(next) {
		t.Error("Close did not wake the waiter")
	}
}

// Goroutines that are not workers wait for room with the documented
// protocol (RoomSignal, re-check, wait) and are all released by the home
// worker's drain and TakeWaiters; no wake-up is lost whichever runs first.
func TestRoomSignalReleasesBlockedEmitters(t *testing.T) {
	const waiters = 3
	f := newFixture()
	c := f.open(t, Spec{Name: "room.block", Type: msgType, Guarantee: Lossless, Slots: 4})
	s := sub(t, c, 0)
	for i := range uint64(4) {
		f.mustEmit(t, c, i)
	}
	done := make(chan task.Status)
	for w := range waiters {
		go func() {
			for c.Room() <= 0 {
				sig := c.RoomSignal()
				if c.Room() > 0 {
					break // re-check after registering: the drain already happened
				}
				<-sig
			}
			st, _ := f.emit(c, 1, uint64(10+w))
			done <- st
		}()
	}
	for c.extWait.Load() < waiters {
		runtime.Gosched() // until every waiter has registered (none can wake before the drain)
	}
	drainAll(s) // the home worker drains, then takes the waiters
	c.TakeWaiters()
	for range waiters {
		if st := <-done; st != task.OK {
			t.Errorf("released emitter's Emit = %v, want OK", st)
		}
	}
	if s.Len() != waiters {
		t.Errorf("queue holds %d after the released emits, want %d", s.Len(), waiters)
	}
}

// RoomSignal stays sound while drains take the waiters concurrently: it
// always returns a channel (run with -race).
func TestRoomSignalConcurrentWithTakeWaiters(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "room.race", Type: msgType})
	const rounds = 20000
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range rounds {
				if c.RoomSignal() == nil {
					t.Error("RoomSignal returned nil")
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range rounds {
			c.TakeWaiters()
		}
	})
	wg.Wait()
}

// [C3] A producer that found a lossless channel without subscribers (emit:
// CHAN_FULL) registers with RoomSignal, re-checks (still CHAN_FULL) and waits.
// The subscriber that then arrives is the only thing that can give it room —
// its queue is empty, so no drain (and no TakeWaiters) ever follows — so
// Subscribe must wake the waiters. (Kernel.ChanEmitWait started before the
// consumer subscribes waits on exactly this signal.)
func TestC3_SubscribeWakesRoomWaiters(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "room.subscribe", Type: msgType, Guarantee: Lossless})
	if st, _ := f.emit(c, 0, 1); st != task.ChanFull {
		t.Fatalf("Emit without subscriber = %v, want CHAN_FULL", st)
	}
	sig := c.RoomSignal()
	if st, _ := f.emit(c, 0, 1); st != task.ChanFull {
		t.Fatalf("re-check Emit = %v, want CHAN_FULL", st)
	}
	sub(t, c, 0)
	if !ready(sig) {
		t.Error("Subscribe did not wake the producer waiting for room: it waits until ctx or halt")
	}
}
