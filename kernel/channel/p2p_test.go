package channel

import (
	"slices"
	"sync"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// [C4] When the emitter is the subscriber's home worker, nothing is queued in
// the subscription and its LQ is below the watermark, a P2P delivery goes
// straight to that LQ through the enqueue core, without a wake; after that,
// deliveries go through the subscription ring. FIFO and the lossless
// drain-time numbering continue across both.
func TestC4_P2PLocalFastPath(t *testing.T) {
	for _, g := range []Guarantee{Lossless, Lossy} {
		t.Run(g.String(), func(t *testing.T) {
			f := newFixture()
			l := f.asWorker(1, 4) // LQ watermark 3
			c := f.open(t, Spec{Name: "p2p.local", Type: msgType, Guarantee: g, Slots: 8})
			s := sub(t, c, 1)
			for i := range uint64(5) {
				if st, n := f.emit(c, 1, i); st != task.OK || n != 1 {
					t.Fatalf("Emit(%d) = %v, %d", i, st, n)
				}
			}
			local := make([]task.Task, l.LQ.Cap())
			local = local[:l.LQ.PopBatch(local)]
			ring := drainAll(s)
			if len(local) != 3 || len(ring) != 2 {
				t.Fatalf("local %d, ring %d; want 3 and 2", len(local), len(ring))
			}
			all := append(local, ring...)
			if !slices.Equal(ids(all), span[uint64](0, 4)) || !slices.Equal(seqs(all), span[uint32](1, 5)) {
				t.Errorf("ids %v seqs %v, want 0..4 / 1..5", ids(all), seqs(all))
			}
			for _, d := range local {
				if d.Flags&task.ChannelMsg == 0 || d.ChannelID() != c.ID() || d.Aux != 0 || d.YieldCount != 0 {
					t.Errorf("local delivery header %+v", d)
				}
			}
			if w := f.env.wakeCalls(); !slices.Equal(w, []int{1, 1}) || f.stat(c, StatEmits) != 5 {
				t.Errorf("Wake calls %v (want only the two ring pushes), emits %d", w, f.stat(c, StatEmits))
			}
			// Another worker never uses the home worker's local queue.
			drainAll(s)
			other := f.asWorker(0, 4)
			f.mustEmit(t, c, 5)
			if other.LQ.Len() != 0 || s.Len() != 1 {
				t.Errorf("a foreign emitter used the local queue")
			}
		})
	}
}

// [C4] Concurrent P2P emitters: the single drainer gets every message exactly
// once, each emitter's messages in its order, numbered 1..n at drain (lossless).
func TestC4_P2PConcurrentEmitters(t *testing.T) {
	const emitters, per = 4, 500
	f := newFixture()
	c := f.open(t, Spec{Name: "p2p.conc", Type: msgType, Guarantee: Lossless, Slots: 16})
	s := sub(t, c, 0)
	var wg sync.WaitGroup
	for e := range emitters {
		wg.Go(func() { emitSeries(c, f.em, e, per) })
	}
	got := collect(s, emitters*per)
	wg.Wait()
	checkSeries(t, got, emitters, per)
	if !slices.Equal(seqs(got), span[uint32](1, emitters*per)) {
		t.Error("drain-time sequence has gaps or repeats")
	}
}

// batch returns n priority-0 tasks with ids from, from+1, …
func batch(from uint64, n int) []task.Task {
	ts := make([]task.Task, n)
	for i := range ts {
		ts[i] = msg(0, from+uint64(i))
	}
	return ts
}

// [C4] EmitBatch on a P2P channel publishes a priority-0 batch at once (one
// wake); a lossless channel takes the prefix that fits and reports CHAN_FULL,
// a lossy one drops the rest to sys.dropped. Order and numbering are Emit's.
func TestC4_EmitBatchP2P(t *testing.T) {
	f := newFixture()
	ll := f.open(t, Spec{Name: "batch.lossless", Type: msgType, Guarantee: Lossless, Slots: 8})
	s := sub(t, ll, 2)
	if st, n, d := ll.EmitBatch(f.em, batch(0, 5)); st != task.OK || n != 5 || d != 5 {
		t.Fatalf("EmitBatch = %v, %d, %d; want OK, 5, 5", st, n, d)
	}
	if st, n, d := ll.EmitBatch(f.em, batch(5, 5)); st != task.ChanFull || n != 3 || d != 3 {
		t.Fatalf("EmitBatch past capacity = %v, %d, %d; want CHAN_FULL, 3, 3", st, n, d)
	}
	got := drainAll(s)
	if !slices.Equal(ids(got), span[uint64](0, 7)) || !slices.Equal(seqs(got), span[uint32](1, 8)) {
		t.Errorf("ids %v seqs %v, want 0..7 / 1..8", ids(got), seqs(got))
	}
	if got[0].Flags&task.ChannelMsg == 0 || got[0].ChannelID() != ll.ID() || got[0].Aux != 0 {
		t.Errorf("batch header %+v", got[0])
	}
	if f.stat(ll, StatEmits) != 8 || f.stat(ll, StatFull) != 1 || !slices.Equal(f.env.wakeCalls(), []int{2, 2}) {
		t.Errorf("emits %d full %d wakes %v", f.stat(ll, StatEmits), f.stat(ll, StatFull), f.env.wakeCalls())
	}

	ly := f.open(t, Spec{Name: "batch.lossy", Type: msgType, Slots: 4})
	sy := sub(t, ly, 0)
	if st, n, d := ly.EmitBatch(f.em, batch(0, 6)); st != task.OK || n != 6 || d != 4 {
		t.Fatalf("lossy EmitBatch = %v, %d, %d; want OK, 6, 4", st, n, d)
	}
	if dr := f.env.drops(); len(dr) != 2 || dr[0].Task.Meta0 != 4 || dr[1].Task.Meta0 != 5 || dr[0].Code != task.ChanFull {
		t.Errorf("dropped %+v, want messages 4 and 5", dr)
	}
	if got := ids(drainAll(sy)); !slices.Equal(got, span[uint64](0, 3)) {
		t.Errorf("lossy drained %v, want 0..3", got)
	}
}

// [C4] [C5] EmitBatch falls back to one Emit per task for a batch with a
// priority other than 0 and for fan-out, and it stops at the first refusal.
func TestC4_EmitBatchFallback(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "batch.mixed", Type: msgType, Guarantee: Lossless, Slots: 16})
	s := sub(t, c, 0)
	ts := batch(0, 4)
	ts[2].SetPriority(3)
	ts[3].Type = msgType + 1
	if st, n, d := c.EmitBatch(f.em, ts); st != task.ChanTypeMismatch || n != 3 || d != 3 {
		t.Errorf("mixed EmitBatch = %v, %d, %d; want CHAN_TYPE_MISMATCH after 3", st, n, d)
	}
	if got := drainAll(s); !slices.Equal(ids(got), []uint64{0, 1, 2}) || got[2].Priority() != 3 {
		t.Errorf("drained %+v", got)
	}
	fan := f.open(t, Spec{Name: "batch.fan", Type: msgType, Mode: FanOut, Guarantee: Lossless, Slots: 16})
	a, b := sub(t, fan, 0), sub(t, fan, 1)
	if st, n, d := fan.EmitBatch(f.em, batch(0, 3)); st != task.OK || n != 3 || d != 6 {
		t.Errorf("fan-out EmitBatch = %v, %d, %d; want OK, 3 tasks, 6 copies", st, n, d)
	}
	if seqs(drainAll(a))[2] != 3 || b.Len() != 3 {
		t.Error("fan-out batch copies")
	}
	c.Close()
	if st, n, _ := c.EmitBatch(f.em, batch(0, 2)); st != task.ChanClosed || n != 0 {
		t.Errorf("EmitBatch on a closed channel = %v, %d", st, n)
	}
}

// [C5] [C7] EmitBatch on a lossless fan-out channel (from outside the
// workers) takes as many messages as every subscriber has room for, gives
// each subscriber the same messages with the same channel sequence, adds one
// payload reference per extra copy, and reports CHAN_FULL for the rest.
func TestC7_EmitBatchLosslessFanOut(t *testing.T) {
	f := newFixture()
	fan := f.open(t, Spec{Name: "batch.lfan", Type: msgType, Mode: FanOut, Guarantee: Lossless, Slots: 8})
	subs := []*Sub{sub(t, fan, 0), sub(t, fan, 1), sub(t, fan, 0)}
	for range 3 { // the third subscriber is 3 messages fuller: it bounds the batch
		m := msg(0, 100)
		if st, _ := fan.Emit(f.em, &m); st != task.OK {
			t.Fatal(st)
		}
	}
	drainAll(subs[0])
	drainAll(subs[1])
	ts := batch(0, 7)
	ts[1].Payload = 42
	if st, n, d := fan.EmitBatch(f.em, ts); st != task.ChanFull || n != 5 || d != 15 {
		t.Fatalf("EmitBatch = %v, %d, %d; want CHAN_FULL, 5 messages, 15 copies", st, n, d)
	}
	for i, s := range subs[:2] {
		got := drainAll(s)
		if !slices.Equal(ids(got), span[uint64](0, 4)) || !slices.Equal(seqs(got), span[uint32](4, 8)) {
			t.Errorf("subscriber %d: ids %v seqs %v, want 0..4 / 4..8", i, ids(got), seqs(got))
		}
		if got[0].Subscriber() != i || got[0].Flags&task.ChannelMsg == 0 {
			t.Errorf("subscriber %d header %+v", i, got[0])
		}
	}
	if got := drainAll(subs[2]); len(got) != 8 || got[7].Seq != 8 {
		t.Errorf("third subscriber got %d, last seq %d", len(got), got[len(got)-1].Seq)
	}
	if refs := f.env.refCalls(); len(refs) != 1 || refs[0].Payload != 42 || refs[0].N != 2 {
		t.Errorf("AddRefs %+v, want payload 42 +2 once", refs)
	}
}
