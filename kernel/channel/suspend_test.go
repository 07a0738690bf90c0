package channel

import (
	"slices"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// TestX5_SuspendRefusesKeepsQueueAndResumes: a suspended channel refuses
// Emit and EmitBatch with CHAN_CLOSED, but — unlike Close — what was queued
// stays queued (nothing dropped), and Resume reopens it ([X5]).
func TestX5_SuspendRefusesKeepsQueueAndResumes(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "x5.susp", Type: msgType, Guarantee: Lossless, Slots: 8})
	s := sub(t, c, 0)
	for id := range uint64(3) {
		f.mustEmit(t, c, id)
	}
	c.Suspend()
	if !c.Suspended() || c.Closed() {
		t.Fatalf("Suspended %v Closed %v, want true false", c.Suspended(), c.Closed())
	}
	if st, d := f.emit(c, 0, 9); st != task.ChanClosed || d != 0 {
		t.Fatalf("Emit while suspended = %v, %d; want CHAN_CLOSED, 0", st, d)
	}
	batch := []task.Task{msg(0, 10), msg(0, 11)}
	if st, n, _ := c.EmitBatch(f.em, batch); st != task.ChanClosed || n != 0 {
		t.Fatalf("EmitBatch while suspended = %v, %d; want CHAN_CLOSED, 0", st, n)
	}
	if got := ids(drainAll(s)); !slices.Equal(got, []uint64{0, 1, 2}) {
		t.Fatalf("queued before Suspend, drained after: %v, want [0 1 2]", got)
	}
	c.Resume()
	f.mustEmit(t, c, 3)
	if got := drainAll(s); len(got) != 1 || got[0].Meta0 != 3 || got[0].Seq != 4 {
		t.Fatalf("after Resume: %+v, want Meta0 3 with Seq 4", got)
	}
	if d := f.env.drops(); len(d) != 0 {
		t.Fatalf("dropped %v, want none", d)
	}
}

// TestX5_SuspendWakesRoomWaiters: a producer waiting for room is handed a
// token by Suspend (so that it retries and sees CHAN_CLOSED) and by Resume.
func TestX5_SuspendWakesRoomWaiters(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "x5.wake", Type: msgType, Guarantee: Lossless, Slots: 2})
	for _, op := range []struct {
		name string
		fn   func()
	}{{"Suspend", c.Suspend}, {"Resume", c.Resume}} {
		sig := c.RoomSignal()
		op.fn()
		select {
		case <-sig:
		default:
			t.Fatalf("%s did not wake the waiting producer", op.name)
		}
	}
}
