package channel

import (
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// [C7] Lossless fan-out is all or nothing: while one subscriber is full the
// emit fails with CHAN_FULL and nobody gets the message (no reference added);
// every copy of a message carries the same channel Seq.
func TestC7_LosslessFanOutAllOrNothing(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "fan.lossless", Type: msgType, Mode: FanOut, Guarantee: Lossless, Slots: 4})
	subs := []*Sub{sub(t, c, 0), sub(t, c, 1), sub(t, c, 2)}
	var got [3][]task.Task
	for i := range uint64(4) {
		m := msg(0, i)
		m.Payload = 50 + i
		if st, n := c.Emit(f.em, &m); st != task.OK || n != 3 {
			t.Fatalf("Emit(%d) = %v, %d; want OK, 3", i, st, n)
		}
		got[0] = append(got[0], drainAll(subs[0])...)
	}
	m := msg(0, 4)
	m.Payload = 54
	if st, n := c.Emit(f.em, &m); st != task.ChanFull || n != 0 {
		t.Fatalf("Emit with subscriber 1 full = %v, %d; want CHAN_FULL, 0", st, n)
	}
	if subs[0].Len() != 0 || subs[2].Len() != 4 || len(f.env.refCalls()) != 4 || len(f.env.drops()) != 0 {
		t.Errorf("CHAN_FULL delivered part of the message: lens %d/%d, refs %v, drops %v",
			subs[0].Len(), subs[2].Len(), f.env.refCalls(), f.env.drops())
	}
	if f.stat(c, StatFull) != 1 || f.stat(c, StatEmits) != 4 {
		t.Errorf("full=%d emits=%d, want 1 and 4", f.stat(c, StatFull), f.stat(c, StatEmits))
	}
	got[1], got[2] = drainAll(subs[1]), drainAll(subs[2])
	f.mustEmit(t, c, 4)
	for i, s := range subs {
		got[i] = append(got[i], drainAll(s)...)
		if !slices.Equal(ids(got[i]), span[uint64](0, 4)) || !slices.Equal(seqs(got[i]), span[uint32](1, 5)) {
			t.Errorf("subscriber %d: ids %v seqs %v, want 0..4 / 1..5", i, ids(got[i]), seqs(got[i]))
		}
	}
}

// [C7] A subscriber added later starts at the current sequence: its first
// delivery is the next message, with the channel's next Seq.
func TestC7_LateSubscriberStartsAtCurrentSeq(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "fan.late", Type: msgType, Mode: FanOut, Guarantee: Lossless, Replay: 8})
	a := sub(t, c, 0)
	for i := range uint64(3) {
		f.mustEmit(t, c, i)
	}
	b := sub(t, c, 1)
	if b.Acked() != 3 || b.Index() != 1 {
		t.Errorf("late subscriber: Acked = %d, Index = %d; want 3, 1", b.Acked(), b.Index())
	}
	f.mustEmit(t, c, 3)
	if got := drainAll(b); len(got) != 1 || got[0].Seq != 4 || got[0].Meta0 != 3 || got[0].Subscriber() != 1 {
		t.Errorf("late subscriber got %+v, want only message 3 with seq 4", got)
	}
	if got := seqs(drainAll(a)); !slices.Equal(got, span[uint32](1, 4)) {
		t.Errorf("first subscriber seqs %v, want 1..4", got)
	}
}

// replayed returns the Seqs Replay(after) reports.
func replayed(c *Channel, after uint32) []uint32 {
	var out []uint32
	n := c.Replay(after, func(t *task.Task) { out = append(out, t.Seq) })
	if n != len(out) {
		panic("Replay count differs from its calls")
	}
	return out
}

// [C7] The replay buffer keeps exactly the window not yet acknowledged by
// every subscriber (evicted on the next emit) plus the message being recorded.
func TestC7_ReplayKeepsUnackedWindow(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "replay.window", Type: msgType, Mode: FanOut, Guarantee: Lossless, Slots: 16, Replay: 4})
	a, b := sub(t, c, 0), sub(t, c, 1)
	for i := range uint64(3) {
		f.mustEmit(t, c, i)
	}
	if c.ReplayLen() != 3 || !slices.Equal(replayed(c, 0), []uint32{1, 2, 3}) || !slices.Equal(replayed(c, 2), []uint32{3}) {
		t.Fatalf("ReplayLen %d, Replay(0) %v, Replay(2) %v", c.ReplayLen(), replayed(c, 0), replayed(c, 2))
	}
	c.Replay(0, func(t2 *task.Task) {
		if t2.Meta0 != uint64(t2.Seq-1) {
			t.Errorf("replayed seq %d carries message %d", t2.Seq, t2.Meta0)
		}
	})
	for _, step := range []struct {
		ackA, ackB uint32
		want       []uint32
	}{
		{2, 1, []uint32{2, 3, 4}}, // min ack 1
		{4, 3, []uint32{4, 5}},    // min ack 3
		{5, 5, []uint32{6}},       // all acked: only the new message stays
	} {
		a.Ack(step.ackA)
		b.Ack(step.ackB)
		f.mustEmit(t, c, 0)
		if got := replayed(c, 0); !slices.Equal(got, step.want) || c.ReplayLen() != len(step.want) {
			t.Errorf("acks %d/%d: replay %v (len %d), want %v", step.ackA, step.ackB, got, c.ReplayLen(), step.want)
		}
	}
	a.Ack(3) // acks never go back
	if a.Acked() != 5 {
		t.Errorf("Ack(3) after Ack(5): Acked = %d", a.Acked())
	}
	if f.stat(c, StatReplayOvf) != 0 || a.Degraded() || b.Degraded() {
		t.Error("the window never overflowed, yet a subscriber was degraded")
	}
	plain := f.open(t, Spec{Name: "replay.none", Type: msgType, Mode: FanOut, Guarantee: Lossless})
	if plain.ReplayLen() != 0 || len(replayed(plain, 0)) != 0 {
		t.Error("a channel without a replay buffer replays")
	}
}

// [C7] A subscriber that falls further behind than the replay buffer is
// degraded (CHAN_REPLAY_OVERFLOW): emits still succeed, its copies are dropped
// with CHAN_REPLAY_OVERFLOW once its queue is full, and it is restored once it
// catches up to within the buffer. The lost message stays in the replay buffer.
func TestC7_ReplayOverflowDegradesSlowest(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "replay.ovf", Type: msgType, Mode: FanOut, Guarantee: Lossless, Slots: 8, Replay: 4})
	fast, slow := sub(t, c, 0), sub(t, c, 1)
	emitAck := func(id uint64, wantN int) {
		t.Helper()
		if st, n := f.emit(c, 0, id); st != task.OK || n != wantN {
			t.Fatalf("Emit(%d) = %v, %d; want OK, %d", id, st, n, wantN)
		}
		for _, d := range drainAll(fast) {
			fast.Ack(d.Seq)
		}
	}
	for i := range uint64(4) {
		emitAck(i, 2)
	}
	if slow.Degraded() || c.ReplayLen() != 4 {
		t.Fatalf("after 4 emits: degraded %v, replay len %d", slow.Degraded(), c.ReplayLen())
	}
	emitAck(4, 2) // seq 5: the slow subscriber is 5 behind a 4-slot buffer
	if !slow.Degraded() || fast.Degraded() || f.stat(c, StatReplayOvf) != 1 || c.ReplayLen() != 1 {
		t.Fatalf("overflow: slow degraded %v, fast %v, ovf %d, replay %d",
			slow.Degraded(), fast.Degraded(), f.stat(c, StatReplayOvf), c.ReplayLen())
	}
	for i := uint64(5); i < 8; i++ {
		emitAck(i, 2) // the degraded subscriber's queue still has room
	}
	emitAck(8, 1) // seq 9: its queue is full: its copy is dropped, the emit is OK
	d := f.env.drops()
	if len(d) != 1 || d[0].Code != task.ChanReplayOvf || d[0].Task.Subscriber() != 1 || d[0].Task.Seq != 9 {
		t.Fatalf("dropped %+v, want subscriber 1's seq 9 with CHAN_REPLAY_OVERFLOW", d)
	}
	if f.stat(c, StatDrops) != 1 || c.Room() != c.reserve {
		t.Errorf("drops %d, Room %d (a degraded subscriber must not hold back the room)", f.stat(c, StatDrops), c.Room())
	}
	got := drainAll(slow)
	for _, m := range got {
		slow.Ack(m.Seq)
	}
	if !slices.Equal(seqs(got), span[uint32](1, 8)) {
		t.Errorf("slow subscriber got %v, want 1..8", seqs(got))
	}
	if !slices.Equal(replayed(c, slow.Acked()), []uint32{9}) {
		t.Errorf("Replay(%d) = %v, want the lost seq 9", slow.Acked(), replayed(c, slow.Acked()))
	}
	emitAck(9, 2) // seq 10: caught up (10-8 <= 4): restored
	if slow.Degraded() || f.stat(c, StatReplayOvf) != 1 {
		t.Errorf("after catching up: degraded %v, ovf %d", slow.Degraded(), f.stat(c, StatReplayOvf))
	}
	if got := drainAll(slow); len(got) != 1 || got[0].Seq != 10 {
		t.Errorf("restored subscriber got %+v, want seq 10 (the gap at 9 is visible)", got)
	}
}

// [C7] A lossless P2P channel with a replay buffer takes the locked path (Seq
// at emit); when its only subscriber overflows the buffer it is degraded and
// the buffer keeps just the newest message.
func TestC7_ReplayP2PSoleSubscriber(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "replay.p2p", Type: msgType, Guarantee: Lossless, Slots: 8, Replay: 2})
	s := sub(t, c, 0)
	for i := range uint64(3) {
		f.mustEmit(t, c, i)
	}
	if !s.Degraded() || f.stat(c, StatReplayOvf) != 1 || !slices.Equal(replayed(c, 0), []uint32{3}) {
		t.Errorf("degraded %v, ovf %d, replay %v", s.Degraded(), f.stat(c, StatReplayOvf), replayed(c, 0))
	}
	got := drainAll(s)
	if !slices.Equal(seqs(got), span[uint32](1, 3)) {
		t.Errorf("seqs %v, want 1..3", seqs(got))
	}
}

// emitSeries emits per messages tagged (emitter, i), retrying on CHAN_FULL.
func emitSeries(c *Channel, em *Emitter, emitter, per int) {
	for i := range per {
		m := msg(1, uint64(emitter)<<32|uint64(i))
		for {
			st, _ := c.Emit(em, &m)
			if st == task.OK {
				break
			}
			runtime.Gosched()
		}
	}
}

// collect drains s until it has total deliveries, acknowledging each batch.
func collect(s *Sub, total int) []task.Task {
	out := make([]task.Task, 0, total)
	buf := make([]task.Task, 8)
	for len(out) < total {
		n := s.Drain(buf)
		if n == 0 {
			runtime.Gosched()
			continue
		}
		out = append(out, buf[:n]...)
		s.Ack(buf[n-1].Seq)
	}
	return out
}

// checkSeries checks that got holds each emitter's per messages once, in order.
func checkSeries(t *testing.T, got []task.Task, emitters, per int) {
	t.Helper()
	next := make([]uint64, emitters)
	for _, m := range got {
		e, i := m.Meta0>>32, m.Meta0&(1<<32-1)
		if e >= uint64(emitters) || i != next[e] {
			t.Fatalf("emitter %d: got message %d, want %d", e, i, next[e])
		}
		next[e]++
	}
	for e, n := range next {
		if n != uint64(per) {
			t.Errorf("emitter %d: %d messages, want %d", e, n, per)
		}
	}
}

// [C7] Concurrent emitters on a lossless fan-out channel: every subscriber
// sees the same order, numbered 1..n without gaps, each emitter's messages in
// its order, with and without a replay buffer (run with -race).
func TestC7_ConcurrentEmittersSameOrder(t *testing.T) {
	const emitters, per, nsubs = 4, 300, 3
	for _, replay := range []int{0, 64} {
		f := newFixture()
		c := f.open(t, Spec{Name: "fan.conc", Type: msgType, Mode: FanOut, Guarantee: Lossless, Slots: 16, Replay: replay})
		subs := make([]*Sub, nsubs)
		for i := range subs {
			subs[i] = sub(t, c, i)
		}
		var wg sync.WaitGroup
		got := make([][]task.Task, nsubs)
		for i, s := range subs {
			wg.Go(func() { got[i] = collect(s, emitters*per) })
		}
		for e := range emitters {
			wg.Go(func() { emitSeries(c, f.em, e, per) })
		}
		wg.Wait()
		for i := range subs {
			if !slices.Equal(seqs(got[i]), span[uint32](1, emitters*per)) {
				t.Fatalf("replay %d: subscriber %d: seqs have gaps or repeats", replay, i)
			}
			if !slices.Equal(ids(got[i]), ids(got[0])) {
				t.Fatalf("replay %d: subscriber %d saw another order than subscriber 0", replay, i)
			}
		}
		checkSeries(t, got[0], emitters, per)
		if len(f.env.drops()) != 0 || f.stat(c, StatReplayOvf) != 0 || f.stat(c, StatEmits) != emitters*per {
			t.Errorf("replay %d: drops %d, ovf %d, emits %d", replay, len(f.env.drops()), f.stat(c, StatReplayOvf), f.stat(c, StatEmits))
		}
	}
}
