package channel

import (
	"slices"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// TestRoute: only the subscriber of a lossless, typed P2P channel without a
// replay buffer is a route, wherever it is homed; a channel that could have
// one but has no subscriber yet is not final.
func TestRoute(t *testing.T) {
	f := newFixture()
	cases := []struct {
		spec  Spec
		home  int
		route bool
	}{
		{Spec{Name: "r.ok", Type: msgType, Guarantee: Lossless}, 1, true},
		{Spec{Name: "r.other", Type: msgType, Guarantee: Lossless}, 0, true},
		{Spec{Name: "r.lossy", Type: msgType, Guarantee: Lossy}, 1, false},
		{Spec{Name: "r.fan", Type: msgType, Mode: FanOut, Guarantee: Lossless}, 1, false},
		{Spec{Name: "r.replay", Type: msgType, Guarantee: Lossless, Replay: 8}, 1, false},
		{Spec{Name: "r.any", Type: AnyType, Guarantee: Lossless}, 1, false},
	}
	for _, tc := range cases {
		c := f.open(t, tc.spec)
		s, final := c.Route()
		if s != nil || final == (tc.spec.Mode == P2P && tc.spec.Guarantee == Lossless && tc.spec.Replay == 0 && tc.spec.Type != AnyType) {
			t.Errorf("%s without subscriber: route %v, final %v", tc.spec.Name, s, final)
		}
		want := sub(t, c, tc.home)
		s, final = c.Route()
		if (s == want) != tc.route || (s != nil && s != want) || !final {
			t.Errorf("%s: route %v (subscriber %v), final %v; want route %v", tc.spec.Name, s, want, final, tc.route)
		}
	}
}

// [C4] On the subscription's home worker, EmitRoute hands a delivery to the
// handoff slot only when nothing of the subscription waits ahead of it,
// numbered in FIFO order with the deliveries of Emit; every refusal leaves
// the channel, the queue and the slot as they were, so that Emit can take
// the task instead.
func TestC4_EmitRouteHandsOffOnlyWhenNothingWaits(t *testing.T) {
	f := newFixture()
	l := f.asWorker(1, 8)
	c := f.open(t, Spec{Name: "h.fast", Type: msgType, Guarantee: Lossless, Slots: 8})
	s := sub(t, c, 1)
	refused := func(why string, m task.Task) {
		t.Helper()
		type state struct {
			pending      bool
			queued, lq   int
			next, credit int
		}
		now := func() state { return state{l.HandoffPending(), s.Len(), l.LQ.Len(), int(s.next), int(s.credit)} }
		before := now()
		if _, ok := c.EmitRoute(f.em, &m, s); ok {
			t.Fatalf("%s: EmitRoute took the task", why)
		}
		if after := now(); after != before {
			t.Fatalf("%s: a refusal changed the state: %+v → %+v", why, before, after)
		}
	}
	s.credit = 8
	refused("dispatch not started (no hops)", msg(1, 0))
	l.StartHandoffs(4)
	refused("wrong type", task.Task{Type: msgType + 1})
	s.SetPaused(true)
	refused("paused", msg(1, 0))
	s.SetPaused(false)
	s.credit = 0
	refused("no credit", msg(1, 0))
	s.credit = 8

	m := msg(1, 10)
	if st, ok := c.EmitRoute(f.em, &m, s); !ok || st != task.OK {
		t.Fatalf("EmitRoute with nothing waiting = %v, %v", st, ok)
	}
	refused("slot full", msg(1, 11))
	d := l.TakeHandoff()
	if d == nil || d.Meta0 != 10 || d.Seq != 1 || d.ChannelID() != c.ID() || d.Flags&task.ChannelMsg == 0 || d.Aux != 0 || d.YieldCount != 0 {
		t.Fatalf("handed-off delivery %+v", d)
	}
	if s.credit != 7 || f.stat(c, StatEmits) != 1 {
		t.Errorf("credit %d, emits %d; want 7 and 1", s.credit, f.stat(c, StatEmits))
	}
	refused("delivery 1 not begun", msg(1, 11))
	s.Begin(d.Seq)

	// A delivery queued on the subscription keeps the next one off the slot.
	other := *f.em
	other.Worker, other.Local = 0, nil
	m = msg(1, 11)
	if st, _ := c.Emit(&other, &m); st != task.OK {
		t.Fatalf("Emit from worker 0: %v", st)
	}
	refused("queue not empty", msg(1, 12))
	got := drainAll(s)
	if len(got) != 1 || got[0].Seq != 2 {
		t.Fatalf("queued delivery %+v, want seq 2", got)
	}
	s.Begin(2)
	m = msg(1, 12)
	if _, ok := c.EmitRoute(f.em, &m, s); !ok || l.TakeHandoff().Seq != 3 {
		t.Error("the next handoff is not numbered 3")
	}
	s.Begin(3)
	c.Close()
	refused("closed", msg(1, 13))
}

// [C4] From another worker, EmitRoute puts the delivery in the emitter's
// outbox (emitOut), and reports CHAN_FULL as Emit does when the subscriber's
// queue and the outbox hold the channel's capacity.
func TestC4_EmitRouteFromAnotherWorkerUsesOutbox(t *testing.T) {
	f := newFixture()
	o := f.withOutbox(0, 8)
	c := f.open(t, Spec{Name: "h.out", Type: msgType, Guarantee: Lossless, Slots: 4})
	s := sub(t, c, 1)
	for i := range uint64(4) {
		m := msg(1, i)
		if st, ok := c.EmitRoute(f.em, &m, s); !ok || st != task.OK {
			t.Fatalf("EmitRoute(%d) = %v, %v", i, st, ok)
		}
	}
	m := msg(1, 4)
	if st, ok := c.EmitRoute(f.em, &m, s); !ok || st != task.ChanFull {
		t.Fatalf("EmitRoute on a full channel = %v, %v; want CHAN_FULL", st, ok)
	}
	o.Flush(f.em)
	got := drainAll(s)
	if !slices.Equal(ids(got), span[uint64](0, 3)) || !slices.Equal(seqs(got), span[uint32](1, 4)) {
		t.Errorf("ids %v seqs %v, want 0..3 / 1..4", ids(got), seqs(got))
	}
	if f.stat(c, StatEmits) != 4 || f.stat(c, StatFull) != 1 {
		t.Errorf("emits %d, full %d; want 4 and 1", f.stat(c, StatEmits), f.stat(c, StatFull))
	}
}

// [C4] RouteLocal hands off as EmitRoute does on the home worker, numbered
// in the same FIFO order, but adds no counter: its caller owes the
// channel's emit and the tenant's enqueue (the kernel adds them per
// dispatch); EmitRoute adds both itself.
func TestC4_RouteLocalCountsNothing(t *testing.T) {
	f := newFixture()
	l := f.asWorker(1, 8)
	c := f.open(t, Spec{Name: "h.quiet", Type: msgType, Guarantee: Lossless, Slots: 8})
	s := sub(t, c, 1)
	s.credit = 8
	l.StartHandoffs(4)
	m := msg(1, 1)
	if !c.RouteLocal(f.em, &m, s) {
		t.Fatal("RouteLocal with nothing waiting refused")
	}
	if d := l.TakeHandoff(); d == nil || d.Seq != 1 || d.Meta0 != 1 {
		t.Fatalf("handed-off delivery %+v", d)
	}
	if e, q := f.stat(c, StatEmits), l.Shard.Local(0); e != 0 || q != 0 {
		t.Fatalf("RouteLocal counted %d emits, %d enqueues; want none", e, q)
	}
	if c.RouteLocal(f.em, &m, s) {
		t.Fatal("RouteLocal took a task while delivery 1 had not begun")
	}
	s.Begin(1)
	m = msg(1, 2)
	if _, ok := c.EmitRoute(f.em, &m, s); !ok || l.TakeHandoff().Seq != 2 {
		t.Fatal("EmitRoute after RouteLocal: not handed off as delivery 2")
	}
	if e, q := f.stat(c, StatEmits), l.Shard.Local(0); e != 1 || q != 1 {
		t.Fatalf("EmitRoute counted %d emits, %d enqueues; want 1 and 1", e, q)
	}
}
