package chans

import (
	"errors"
	"testing"
	"time"

	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/kernel"
)

// TestX3_LosslessInOrder: a plain actor subscribed to a lossless channel
// receives every one of 10,000 tasks, in order, numbered without gaps,
// while a small credit window makes the relay wait for its Acks.
func TestX3_LosslessInOrder(t *testing.T) {
	f := start(t, Config{Batch: 32})
	const n = 10_000
	sub, out := spawnCollector(f.sys, false, n)
	id := subscribe(t, f, "demo.out", sub, &wire.Subscribe{Window: 64})
	emitOut(t, f.k, "demo.out", n)
	for i, r := range recv(t, out, n) {
		if r.t.Meta0 != uint64(i+1) || r.seq != uint64(i+1) || r.dropped != 0 || r.t.Seq != uint32(i+1) {
			t.Fatalf("delivery %d: Meta0 %d seq %d kernel seq %d dropped %d", i, r.t.Meta0, r.seq, r.t.Seq, r.dropped)
		}
	}
	waitFor(t, "the last Ack", func() bool { return f.cs.Stats().Acked == n })
	st := f.cs.Stats()
	if st.Taken != n || st.Sent != n || st.Dropped+st.Overflow+st.Orphaned != 0 || st.Subscriptions != 1 {
		t.Fatalf("stats %+v (subscription %d)", st, id)
	}
}

// TestX3_LossyDropSlow: on a lossy fan-out channel a subscriber that stops
// acknowledging loses tasks (drop-slow) once its credit and queue are used
// up; the drops are counted in the stats, the kernel metric and the
// Deliveries it gets, and what it does get is in order. A fast subscriber
// of the same channel gets everything.
func TestX3_LossyDropSlow(t *testing.T) {
	f := start(t, Config{LossyQueue: 16})
	const n = 1000 // below the kernel queue's 1024 slots: the kernel itself drops nothing
	slow, slowOut := spawnCollector(f.sys, true, n)
	fast, fastOut := spawnCollector(f.sys, false, n)
	subscribe(t, f, "demo.fan", slow, &wire.Subscribe{Window: 8})
	subscribe(t, f, "demo.fan", fast, &wire.Subscribe{AutoAck: true})
	emitOut(t, f.k, "demo.fan", n)
	for i, r := range recv(t, fastOut, n) {
		if r.t.Meta0 != uint64(i+1) {
			t.Fatalf("fast subscriber: delivery %d has Meta0 %d", i, r.t.Meta0)
		}
	}
	waitFor(t, "the relay to take every delivery", func() bool { return f.cs.Stats().Taken == 2*n })
	st := f.cs.Stats()
	if st.Dropped == 0 || st.Overflow != 0 || st.Pending > 16 {
		t.Fatalf("a subscriber that does not acknowledge: %+v", st)
	}
	id, err := f.k.Metric(MetricDropped)
	if err != nil || f.k.MetricValue(id) != st.Dropped {
		t.Fatalf("metric %s = %d, stats say %d (%v)", MetricDropped, f.k.MetricValue(id), st.Dropped, err)
	}
	f.sys.Root.Send(slow, release{}) // it acknowledges again: the queued rest arrives
	got := recv(t, slowOut, int(uint64(n)-st.Dropped))
	last := uint64(0)
	for i, r := range got {
		if r.t.Meta0 <= last || r.seq != uint64(i+1) {
			t.Fatalf("slow subscriber: delivery %d has Meta0 %d after %d, seq %d", i, r.t.Meta0, last, r.seq)
		}
		last = r.t.Meta0
	}
	if d := got[len(got)-1].dropped; d != st.Dropped {
		t.Fatalf("the last Delivery reports %d dropped, stats %d", d, st.Dropped)
	}
}

// TestX3_LosslessOverflowCounted: a lossless subscriber that falls
// Config.MaxPending behind loses the overflow, counted — never silently.
func TestX3_LosslessOverflowCounted(t *testing.T) {
	f := start(t, Config{MaxPending: 16})
	const n = 200
	sub, out := spawnCollector(f.sys, true, n)
	subscribe(t, f, "demo.wide", sub, &wire.Subscribe{Window: 8})
	emitOut(t, f.k, "demo.wide", n)
	waitFor(t, "the relay to take every delivery", func() bool { return f.cs.Stats().Taken == n })
	st := f.cs.Stats()
	if st.Overflow == 0 || st.Dropped != 0 || st.Sent+st.Overflow+st.Pending != n {
		t.Fatalf("stats %+v", st)
	}
	f.sys.Root.Send(sub, release{})
	got := recv(t, out, int(n-st.Overflow))
	if d := got[len(got)-1].dropped; d != st.Overflow {
		t.Fatalf("the last Delivery reports %d lost, stats %d", d, st.Overflow)
	}
}

// TestX3_SubscriberTerminates: a subscriber that stops is unsubscribed
// (watched); deliveries meanwhile are counted as orphaned; the next
// subscriber of the P2P channel takes its place and gets what follows.
func TestX3_SubscriberTerminates(t *testing.T) {
	f := start(t, Config{})
	first, out1 := spawnCollector(f.sys, false, 8)
	subscribe(t, f, "demo.out", first, &wire.Subscribe{})
	emitOut(t, f.k, "demo.out", 3)
	recv(t, out1, 3)
	if err := f.sys.Root.StopFuture(first).Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the subscription to end", func() bool { return f.cs.Stats().Subscriptions == 0 })
	emitOut(t, f.k, "demo.out", 2) // the relay's kernel subscription still takes them
	waitFor(t, "the orphans", func() bool { return f.cs.Stats().Orphaned == 2 })
	second, out2 := spawnCollector(f.sys, false, 8)
	subscribe(t, f, "demo.out", second, &wire.Subscribe{})
	r := ask[*wire.Subscribed](t, f.sys, f.cs.Directory(), &wire.Subscribe{Channel: "demo.out", Subscriber: wire.NewPID(f.cs.Directory())})
	if !errorsIs(r.Err(), errAlreadyBound) {
		t.Fatalf("a second subscriber of a P2P channel: %v", r)
	}
	emitOut(t, f.k, "demo.out", 4)
	for i, r := range recv(t, out2, 4) {
		if r.t.Meta0 != uint64(i+1) || r.seq != uint64(i+1) {
			t.Fatalf("new subscriber: delivery %d: %+v", i, r)
		}
	}
	u := ask[*wire.Unsubscribed](t, f.sys, f.pid(t, "demo.out"), &wire.Unsubscribe{Subscriber: wire.NewPID(second)})
	if u.Err() != nil || f.cs.Stats().Subscriptions != 0 {
		t.Fatalf("unsubscribe: %v", u)
	}
	f.sys.Root.Stop(second)
}

// [X3][C7] A lossless subscriber that stops acknowledging pauses its kernel
// subscription: the channel fills and producers get CHAN_FULL — nothing is
// buffered without bound and nothing overflows. When the subscriber
// acknowledges again, every task arrives, in order.
func TestX3_LosslessBackpressure(t *testing.T) {
	f := start(t, Config{})
	sub, out := spawnCollector(f.sys, true, 1<<16)
	subscribe(t, f, "demo.out", sub, &wire.Subscribe{Window: 8})
	id, err := f.k.Chan("demo.out")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	deadline := time.Now().Add(safety)
	for ; n < 1<<16; n++ {
		err := f.k.ChanEmit(id, kernel.Task{Type: typeOut, Meta0: uint64(n + 1)})
		if errors.Is(err, kernel.ErrChanFull) {
			// Full: is it the paused subscription (the relay took its pause
			// mark of deliveries), or a drain not yet done?
			if st := f.cs.Stats(); st.Taken >= 64 {
				break
			}
			if time.Now().After(deadline) {
				cs, _ := f.k.ChanStats(id)
				t.Fatalf("full, but the relay holds only %+v; channel %+v", f.cs.Stats(), cs)
			}
			time.Sleep(100 * time.Microsecond)
			n--
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n == 1<<16 {
		t.Fatal("the channel never filled: the slow subscriber did not hold producers back")
	}
	st := f.cs.Stats()
	if st.Overflow != 0 || st.Pending > 64+2048 { // the pause mark plus what the worker had taken
		t.Fatalf("stats %+v after %d emits", st, n)
	}
	f.sys.Root.Send(sub, release{})
	got := recv(t, out, n)
	for i, r := range got {
		if r.t.Meta0 != uint64(i+1) {
			t.Fatalf("task %d carries %d", i, r.t.Meta0)
		}
	}
}
