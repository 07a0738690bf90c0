package channel

import (
	"slices"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// [C4] [C7] A worker's lossless P2P deliveries to a subscription homed on
// another worker wait in its outbox and reach the queue, in emit order and
// with one wake, when it flushes — except one for an empty queue (its
// consumer may be idle), which goes at once with what waits before it.
// Room is checked at the emit against the queue plus the outbox, so
// CHAN_FULL comes exactly where a direct push would have failed; a flush
// that meets a queue filled meanwhile by another producer keeps the rest,
// in order, for the next flush.
func TestC4_OutboxBatchesCrossWorkerDeliveries(t *testing.T) {
	f := newFixture()
	o := f.withOutbox(0, 4)
	outside := &Emitter{Worker: -1, Stats: f.stats, Env: f.env}
	c := f.open(t, Spec{Name: "p2p.out", Type: msgType, Guarantee: Lossless, Slots: 8})
	s := sub(t, c, 1)
	emit := func(id uint64) task.Status {
		st, _ := f.emit(c, 0, id)
		return st
	}
	for i := range uint64(5) {
		if st := emit(i); st != task.OK {
			t.Fatalf("emit %d: %v", i, st)
		}
	}
	if s.Len() != 1 || o.Len() != 4 || !slices.Equal(f.env.wakeCalls(), []int{1}) {
		t.Fatalf("before the flush: queue %d, outbox %d, wakes %v; want 1 (the first, to an empty queue), 4, [1]", s.Len(), o.Len(), f.env.wakeCalls())
	}
	for _, id := range []uint64{100, 101} { // another producer, straight to the queue
		m := msg(0, id)
		if st, _ := c.Emit(outside, &m); st != task.OK {
			t.Fatal(st)
		}
	}
	f.env.reset()
	if st := emit(5); st != task.OK { // 3 queued + 5 waiting = 8 slots
		t.Fatalf("emit 5: %v", st)
	}
	if st := emit(6); st != task.ChanFull || f.stat(c, StatFull) != 1 {
		t.Fatalf("emit 6 on a full channel: %v (full count %d)", st, f.stat(c, StatFull))
	}
	o.Flush(f.em)
	if o.Len() != 0 || !slices.Equal(f.env.wakeCalls(), []int{1}) {
		t.Fatalf("after the flush: outbox %d, wakes %v; want 0, [1]", o.Len(), f.env.wakeCalls())
	}
	got := drainAll(s)
	if want := []uint64{0, 100, 101, 1, 2, 3, 4, 5}; !slices.Equal(ids(got), want) || !slices.Equal(seqs(got), span[uint32](1, 8)) {
		t.Fatalf("ids %v seqs %v; want %v / 1..8", ids(got), seqs(got), want)
	}
	for _, d := range append(got[:1:1], got[3:]...) {
		if d.Flags&task.ChannelMsg == 0 || d.ChannelID() != c.ID() || d.Aux != 0 || d.YieldCount != 0 {
			t.Fatalf("delivery header %+v", d)
		}
	}

	// A flush that does not fit keeps the rest, and the rest counts as queued.
	for i := range uint64(3) {
		if st := emit(10 + i); st != task.OK {
			t.Fatal(st)
		}
	}
	for i := range uint64(7) { // the other producer fills the queue (10 went at once)
		m := msg(0, 200+i)
		if st, _ := c.Emit(outside, &m); st != task.OK {
			t.Fatal(i, st)
		}
	}
	o.Flush(f.em)
	if o.Len() != 2 || s.Len() != 8 {
		t.Fatalf("partial flush: outbox %d, queue %d; want 2, 8", o.Len(), s.Len())
	}
	if st := emit(13); st != task.ChanFull {
		t.Fatalf("emit with the rest still waiting: %v, want CHAN_FULL", st)
	}
	got = drainAll(s)
	o.Flush(f.em)
	got = append(got, drainAll(s)...)
	if want := []uint64{10, 200, 201, 202, 203, 204, 205, 206, 11, 12}; !slices.Equal(ids(got), want) {
		t.Fatalf("ids %v; want %v", ids(got), want)
	}
}

// [C4] The outbox holds one subscription's deliveries at a time: an emit to
// another one flushes it first, so each subscription still sees one
// emitter's deliveries in emit order.
func TestC4_OutboxSwitchesSubscription(t *testing.T) {
	f := newFixture()
	o := f.withOutbox(0, 4)
	a := f.open(t, Spec{Name: "p2p.a", Type: msgType, Guarantee: Lossless, Slots: 8})
	b := f.open(t, Spec{Name: "p2p.b", Type: msgType, Guarantee: Lossless, Slots: 8})
	sa, sb := sub(t, a, 1), sub(t, b, 1)
	for i := range uint64(6) {
		c := a
		if i%2 == 1 {
			c = b
		}
		m := msg(0, i)
		if st, _ := c.Emit(f.em, &m); st != task.OK {
			t.Fatal(i, st)
		}
	}
	o.Flush(f.em)
	if ga, gb := ids(drainAll(sa)), ids(drainAll(sb)); !slices.Equal(ga, []uint64{0, 2, 4}) || !slices.Equal(gb, []uint64{1, 3, 5}) {
		t.Fatalf("a got %v, b got %v", ga, gb)
	}
}
