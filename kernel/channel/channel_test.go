package channel

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// [C3] [C4] P2P delivers FIFO; the delivered header is marked as a channel
// message of this channel and subscriber, with the runtime-owned fields reset;
// the subscriber's home is woken once per emit.
func TestC4_P2PFIFOAndHeader(t *testing.T) {
	for _, g := range []Guarantee{Lossy, Lossless} {
		t.Run(g.String(), func(t *testing.T) {
			f := newFixture()
			c := f.open(t, Spec{Name: "p2p.fifo", Type: msgType, Guarantee: g, Slots: 16})
			s := sub(t, c, 3)
			for i := range uint64(10) {
				if st, n := f.emit(c, 1, i); st != task.OK || n != 1 {
					t.Fatalf("Emit(%d) = %v, %d; want OK, 1", i, st, n)
				}
			}
			if s.Len() != 10 || c.Depth() != 10 {
				t.Errorf("Len = %d, Depth = %d; want 10", s.Len(), c.Depth())
			}
			got := drainAll(s)
			if !slices.Equal(ids(got), span[uint64](0, 9)) {
				t.Errorf("drained %v, want 0..9 in order", ids(got))
			}
			// [C7] lossless numbers at drain, lossy at emit: both 1..n here.
			if !slices.Equal(seqs(got), span[uint32](1, 10)) {
				t.Errorf("Seq = %v, want 1..10", seqs(got))
			}
			for _, d := range got {
				if d.Flags&task.ChannelMsg == 0 || d.ChannelID() != c.ID() || d.Subscriber() != 0 ||
					d.YieldCount != 0 || d.Aux != 0 || d.Priority() != 1 || d.Type != msgType {
					t.Fatalf("delivered header %+v", d)
				}
			}
			if w := f.env.wakeCalls(); len(w) != 10 || slices.ContainsFunc(w, func(h int) bool { return h != 3 }) {
				t.Errorf("Wake calls %v, want ten of home 3", w)
			}
			if f.stat(c, StatEmits) != 10 || f.stat(c, StatFull) != 0 || f.stat(c, StatDrops) != 0 {
				t.Errorf("stats emits=%d full=%d drops=%d", f.stat(c, StatEmits), f.stat(c, StatFull), f.stat(c, StatDrops))
			}
		})
	}
}

// [C4] A full lossless P2P channel refuses with CHAN_FULL: nothing delivered,
// nothing dropped, no reference added (the caller keeps its payload); a drain
// makes room again.
func TestC4_P2PFullLossless(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "p2p.full", Type: msgType, Guarantee: Lossless, Slots: 4})
	s := sub(t, c, 0)
	for i := range uint64(4) {
		f.mustEmit(t, c, i)
	}
	m := msg(0, 99)
	m.Payload = 0xABC
	if st, n := c.Emit(f.em, &m); st != task.ChanFull || n != 0 {
		t.Fatalf("Emit on full = %v, %d; want CHAN_FULL, 0", st, n)
	}
	if len(f.env.drops()) != 0 || len(f.env.refCalls()) != 0 || s.Len() != 4 {
		t.Errorf("CHAN_FULL dropped %v, added refs %v, queue %d", f.env.drops(), f.env.refCalls(), s.Len())
	}
	if f.stat(c, StatFull) != 1 || f.stat(c, StatEmits) != 4 {
		t.Errorf("full=%d emits=%d, want 1 and 4", f.stat(c, StatFull), f.stat(c, StatEmits))
	}
	buf := make([]task.Task, 1)
	if s.Drain(buf) != 1 || buf[0].Meta0 != 0 {
		t.Fatal("drain of one failed")
	}
	f.mustEmit(t, c, 4)
	if got := ids(drainAll(s)); !slices.Equal(got, []uint64{1, 2, 3, 4}) {
		t.Errorf("drained %v, want 1..4", got)
	}
}

// [C6] A full lossy P2P channel accepts the emit but routes the copy to
// sys.dropped with CHAN_FULL; its emit-side sequence shows the gap.
func TestC6_P2PFullLossyDrops(t *testing.T) {
	f := newFixture()
	f.em.Worker = 2
	c := f.open(t, Spec{Name: "p2p.lossy", Type: msgType, Slots: 2})
	s := sub(t, c, 0)
	for i := range uint64(3) {
		m := msg(0, i)
		m.Payload = 40 + i
		if st, _ := c.Emit(f.em, &m); st != task.OK {
			t.Fatalf("lossy Emit(%d) = %v, want OK", i, st)
		}
	}
	d := f.env.drops()
	if len(d) != 1 || d[0].Code != task.ChanFull || d[0].From != 2 || d[0].Task.Meta0 != 2 ||
		d[0].Task.Payload != 42 || d[0].Task.Seq != 3 || d[0].Task.ChannelID() != c.ID() {
		t.Fatalf("dropped %+v, want message 2 (seq 3, payload 42) from worker 2 with CHAN_FULL", d)
	}
	if len(f.env.refCalls()) != 0 {
		t.Errorf("P2P added references: %v", f.env.refCalls())
	}
	if f.stat(c, StatEmits) != 3 || f.stat(c, StatDrops) != 1 || f.stat(c, StatFull) != 0 {
		t.Errorf("emits=%d drops=%d full=%d", f.stat(c, StatEmits), f.stat(c, StatDrops), f.stat(c, StatFull))
	}
	f.mustEmit(t, c, 3) // still full: dropped, seq 4
	drainAll(s)
	f.mustEmit(t, c, 5)
	if got := drainAll(s); len(got) != 1 || got[0].Seq != 5 {
		t.Errorf("after drops got %+v, want seq 5 (emit-side numbering shows the gap)", got)
	}
}

// [C3] A second subscriber of a P2P channel gets CHAN_ALREADY_BOUND; fan-out
// takes up to MaxSubscribers.
func TestC3_SubscribeLimits(t *testing.T) {
	f := newFixture()
	p := f.open(t, Spec{Name: "p2p.bound", Type: msgType})
	first := sub(t, p, 0)
	if s, err := p.Subscribe(1, 1); !errors.Is(err, task.ErrChanAlreadyBound) || s != nil {
		t.Errorf("second P2P Subscribe = %v, %v; want ErrChanAlreadyBound", s, err)
	}
	if len(p.Subs()) != 1 || p.Sub(0) != first || first.Channel() != p || first.Index() != 0 {
		t.Error("the failed Subscribe changed the subscriber set")
	}
	fan := f.open(t, Spec{Name: "fan.limit", Type: msgType, Mode: FanOut, Slots: 2})
	for i := range MaxSubscribers {
		if s := sub(t, fan, i); s.Index() != i || s.Home != i || s.Handler != int32(i) {
			t.Fatalf("subscriber %d: index %d home %d handler %d", i, s.Index(), s.Home, s.Handler)
		}
	}
	if _, err := fan.Subscribe(0, 0); !errors.Is(err, ErrBadSpec) {
		t.Errorf("Subscribe past MaxSubscribers = %v, want ErrBadSpec", err)
	}
	if fan.Sub(MaxSubscribers) != nil || fan.Sub(ErrorSub) != nil {
		t.Error("Sub of a missing index is not nil")
	}
}

// [C3] A closed channel refuses with CHAN_CLOSED; what was queued stays
// drainable. A task of another type gets CHAN_TYPE_MISMATCH; an untyped channel
// takes every type and keeps the status code in Aux.
func TestC3_ClosedAndTypeMismatch(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "p2p.close", Type: msgType, Guarantee: Lossless})
	s := sub(t, c, 0)
	f.mustEmit(t, c, 1)
	other := task.Task{Type: msgType + 1}
	if st, n := c.Emit(f.em, &other); st != task.ChanTypeMismatch || n != 0 {
		t.Errorf("Emit of another type = %v, %d; want CHAN_TYPE_MISMATCH", st, n)
	}
	c.Close()
	if !c.Closed() {
		t.Error("Closed() = false after Close")
	}
	if st, n := f.emit(c, 0, 2); st != task.ChanClosed || n != 0 {
		t.Errorf("Emit after Close = %v, %d; want CHAN_CLOSED", st, n)
	}
	if got := ids(drainAll(s)); !slices.Equal(got, []uint64{1}) {
		t.Errorf("drained %v after Close, want [1]", got)
	}
	if f.stat(c, StatEmits) != 1 || len(f.env.drops()) != 0 {
		t.Errorf("refused emits were counted or dropped")
	}

	sys := f.open(t, Spec{Name: "sys.dropped", Type: AnyType, Mode: FanOut})
	ss := sub(t, sys, 0)
	code := int16(task.ChanFull)
	report := task.Task{Type: 12345, Aux: uint16(code), YieldCount: 3}
	if st, _ := sys.Emit(f.em, &report); st != task.OK {
		t.Fatalf("untyped Emit = %v", st)
	}
	if got := drainAll(ss); len(got) != 1 || got[0].Aux != report.Aux || got[0].YieldCount != 3 || got[0].Type != 12345 {
		t.Errorf("untyped delivery %+v, want the type, the code in Aux and the yield count kept", got)
	}
}

// [C3] [C6] With nobody subscribed, a lossless channel applies backpressure
// (CHAN_FULL) and a lossy one drops to sys.dropped (counted).
func TestC3_NoSubscriber(t *testing.T) {
	f := newFixture()
	ll := f.open(t, Spec{Name: "nosub.lossless", Type: msgType, Guarantee: Lossless})
	if st, _ := f.emit(ll, 0, 1); st != task.ChanFull || f.stat(ll, StatFull) != 1 {
		t.Errorf("lossless Emit without subscriber = %v (full=%d), want CHAN_FULL", st, f.stat(ll, StatFull))
	}
	ly := f.open(t, Spec{Name: "nosub.lossy", Type: msgType, Mode: FanOut})
	if st, n := f.emit(ly, 0, 2); st != task.OK || n != 0 {
		t.Errorf("lossy Emit without subscriber = %v, %d; want OK, 0", st, n)
	}
	if d := f.env.drops(); len(d) != 1 || d[0].Task.Meta0 != 2 || d[0].Task.ChannelID() != ly.ID() {
		t.Errorf("dropped %+v, want message 2", d)
	}
	if f.stat(ly, StatEmits) != 1 || f.stat(ly, StatDrops) != 1 {
		t.Errorf("lossy emits=%d drops=%d, want 1 and 1", f.stat(ly, StatEmits), f.stat(ly, StatDrops))
	}
}

// [C5] [C6] Lossy fan-out gives every subscriber its own copy (own subscriber
// index, one shared emit-side Seq) and adds one payload reference per extra
// copy, once per emit; a full subscriber's copy goes to sys.dropped with
// CHAN_FULL while the others still get theirs.
func TestC6_LossyFanOutDropSlow(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "fan.lossy", Type: msgType, Mode: FanOut, Slots: 4})
	subs := []*Sub{sub(t, c, 10), sub(t, c, 11), sub(t, c, 12)}
	for i := range uint64(6) {
		m := msg(0, i)
		m.Payload = 100 + i
		st, n := c.Emit(f.em, &m)
		want := 3
		if i >= 4 {
			want = 2 // subscriber 1 is full
		}
		if st != task.OK || n != want {
			t.Fatalf("Emit(%d) = %v, %d; want OK, %d", i, st, n, want)
		}
		drainAll(subs[0])
		if i == 1 {
			drainAll(subs[2])
		}
	}
	refs := f.env.refCalls()
	if len(refs) != 6 || refs[0] != (refRec{100, 2}) || refs[5] != (refRec{105, 2}) {
		t.Errorf("AddRefs calls %v, want (payload, 2) once per emit", refs)
	}
	d := f.env.drops()
	if len(d) != 2 || d[0].Code != task.ChanFull || d[0].Task.Subscriber() != 1 || d[0].Task.Meta0 != 4 ||
		d[0].Task.Seq != 5 || d[0].Task.Payload != 104 || d[1].Task.Meta0 != 5 {
		t.Fatalf("dropped %+v, want subscriber 1's copies of 4 and 5", d)
	}
	got := drainAll(subs[2])
	if !slices.Equal(ids(got), span[uint64](2, 5)) || !slices.Equal(seqs(got), span[uint32](3, 6)) {
		t.Errorf("subscriber 2 got ids %v seqs %v, want 2..5 / 3..6", ids(got), seqs(got))
	}
	for _, d := range got {
		if d.Subscriber() != 2 || d.ChannelID() != c.ID() || d.Flags&task.ChannelMsg == 0 {
			t.Fatalf("copy header %+v", d)
		}
	}
	if f.stat(c, StatEmits) != 6 || f.stat(c, StatDrops) != 2 {
		t.Errorf("emits=%d drops=%d, want 6 and 2", f.stat(c, StatEmits), f.stat(c, StatDrops))
	}
	if w := f.env.wakeCalls(); len(w) != 16 || w[0] != 10 || w[1] != 11 || w[2] != 12 {
		t.Errorf("Wake calls %v, want one per delivered copy with each home", w)
	}
	// An inline task (no payload) adds no references.
	f.env.reset()
	f.emit(c, 0, 9)
	if len(f.env.refCalls()) != 0 {
		t.Errorf("inline emit added references: %v", f.env.refCalls())
	}
}

// [C8] At or above the reserve length (the top 10 % of the slots) only
// priority-0 tasks get in, on P2P and on fan-out, lossy and lossless.
func TestC8_PriorityReserve(t *testing.T) {
	const slots, reserve = 32, 29 // 32 - 32/10
	for _, tc := range []struct {
		mode Mode
		g    Guarantee
	}{{P2P, Lossless}, {P2P, Lossy}, {FanOut, Lossless}, {FanOut, Lossy}} {
		t.Run(tc.mode.String()+"-"+tc.g.String(), func(t *testing.T) {
			f := newFixture()
			c := f.open(t, Spec{Name: "prio.reserve", Type: msgType, Mode: tc.mode, Guarantee: tc.g, Slots: slots})
			s := sub(t, c, 0)
			for i := range uint64(reserve) {
				f.mustEmit(t, c, i)
			}
			if c.Room() != 0 {
				t.Errorf("Room at the reserve = %d, want 0", c.Room())
			}
			st, n := f.emit(c, 3, 100)
			if n != 0 || (tc.g == Lossless) != (st == task.ChanFull) {
				t.Errorf("priority-3 emit at the reserve = %v, %d", st, n)
			}
			if tc.g == Lossy && (len(f.env.drops()) != 1 || f.env.drops()[0].Code != task.ChanFull) {
				t.Errorf("lossy refusal not dropped: %+v", f.env.drops())
			}
			for i := uint64(reserve); i < slots; i++ {
				if st, n := f.emit(c, 0, i); st != task.OK || n != 1 {
					t.Fatalf("priority-0 emit %d in the reserve = %v, %d", i, st, n)
				}
			}
			if got := ids(drainAll(s)); !slices.Equal(got, span[uint64](0, slots-1)) {
				t.Errorf("drained %v", got)
			}
		})
	}
}

// [C3] [F1] DeliverError hands a failed delivery to the channel's error
// handler with its code in Aux and subscriber index ErrorSub; false without a
// handler or when its queue is full.
func TestF1_ErrorHandler(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "err.handler", Type: msgType, Guarantee: Lossless, Slots: 2})
	failed := msg(1, 5)
	if c.DeliverError(f.em, &failed, task.Fail) {
		t.Fatal("DeliverError without a handler = true")
	}
	h, err := c.SetErrorHandler(4, 44)
	if err != nil || h.Index() != ErrorSub || c.Sub(ErrorSub) != h || h.Home != 4 || h.Handler != 44 {
		t.Fatalf("SetErrorHandler = %v, %v", h, err)
	}
	if _, err := c.SetErrorHandler(5, 55); !errors.Is(err, task.ErrChanAlreadyBound) {
		t.Errorf("second SetErrorHandler = %v, want ErrChanAlreadyBound", err)
	}
	if len(c.Subs()) != 0 {
		t.Error("the error handler counts as a subscriber")
	}
	codes := []task.Status{task.FailCode(-42), task.ChanTypeMismatch}
	for _, code := range codes {
		if !c.DeliverError(f.em, &failed, code) {
			t.Fatalf("DeliverError(%v) = false", code)
		}
	}
	if c.DeliverError(f.em, &failed, task.Fail) {
		t.Error("DeliverError to a full handler queue = true")
	}
	if w := f.env.wakeCalls(); !slices.Equal(w, []int{4, 4}) {
		t.Errorf("Wake calls %v, want the handler's home twice", w)
	}
	got := drainAll(h)
	if len(got) != 2 {
		t.Fatalf("handler drained %d, want 2", len(got))
	}
	for i, d := range got {
		if task.Status(int16(d.Aux)) != codes[i] || d.Subscriber() != ErrorSub || d.ChannelID() != c.ID() ||
			d.Meta0 != 5 || d.Seq != failed.Seq {
			t.Errorf("error delivery %d = %+v, want code %v in Aux, seq kept", i, d, codes[i])
		}
	}
}

// Depth, String and the accessors describe the channel.
func TestChannelDescribe(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "desc.chan", Type: msgType, Mode: FanOut, Guarantee: Lossless, Slots: 5})
	sub(t, c, 0)
	sub(t, c, 1)
	f.mustEmit(t, c, 1)
	if c.Depth() != 2 {
		t.Errorf("Depth = %d, want 2 (one copy per subscriber)", c.Depth())
	}
	if s := c.String(); !strings.Contains(s, "desc.chan") || !strings.Contains(s, "fanout") ||
		!strings.Contains(s, "lossless") || !strings.Contains(s, "slots=8") {
		t.Errorf("String() = %q", s)
	}
}
