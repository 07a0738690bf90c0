package channel

import (
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// TestHandoffRoute: only the subscriber of a lossless, typed P2P channel
// without a replay buffer is a route, and only for its home worker; a channel
// that could have one but has no subscriber yet is not final.
func TestHandoffRoute(t *testing.T) {
	f := newFixture()
	cases := []struct {
		spec  Spec
		home  int
		route bool
	}{
		{Spec{Name: "r.ok", Type: msgType, Guarantee: Lossless}, 1, true},
		{Spec{Name: "r.other", Type: msgType, Guarantee: Lossless}, 0, false},
		{Spec{Name: "r.lossy", Type: msgType, Guarantee: Lossy}, 1, false},
		{Spec{Name: "r.fan", Type: msgType, Mode: FanOut, Guarantee: Lossless}, 1, false},
		{Spec{Name: "r.replay", Type: msgType, Guarantee: Lossless, Replay: 8}, 1, false},
		{Spec{Name: "r.any", Type: AnyType, Guarantee: Lossless}, 1, false},
	}
	for _, tc := range cases {
		c := f.open(t, tc.spec)
		s, final := c.HandoffRoute(1)
		if s != nil || final == (tc.spec.Mode == P2P && tc.spec.Guarantee == Lossless && tc.spec.Replay == 0 && tc.spec.Type != AnyType) {
			t.Errorf("%s without subscriber: route %v, final %v", tc.spec.Name, s, final)
		}
		want := sub(t, c, tc.home)
		s, final = c.HandoffRoute(1)
		if (s == want) != tc.route || (s != nil && s != want) || !final {
			t.Errorf("%s: route %v (subscriber %v), final %v; want route %v", tc.spec.Name, s, want, final, tc.route)
		}
	}
}

// [C4] EmitHandoff hands a delivery to the worker's handoff slot only when
// nothing of the subscription waits ahead of it, numbered in FIFO order with
// the deliveries of Emit; every refusal leaves the channel, the queue and the
// slot as they were, so that Emit can take the task instead.
func TestC4_EmitHandoffOnlyWhenNothingWaits(t *testing.T) {
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
		if c.EmitHandoff(f.em, &m, s) {
			t.Fatalf("%s: EmitHandoff took the task", why)
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
	if !c.EmitHandoff(f.em, &m, s) {
		t.Fatal("EmitHandoff refused with nothing waiting")
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
	if !c.EmitHandoff(f.em, &m, s) || l.TakeHandoff().Seq != 3 {
		t.Error("the next handoff is not numbered 3")
	}
	s.Begin(3)
	c.Close()
	refused("closed", msg(1, 13))
}
