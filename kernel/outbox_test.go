package kernel

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// [C4] [C7] [C9] A pipeline pinned across the workers, in both directions
// (worker 0 → 1 → 0), on small lossless channels: each worker's deliveries
// to the other go through its outbox and reach the queue at the end of its
// dispatch. Every item arrives exactly once and in order, none is refused
// into sys.error (room counts the outbox), and the counters add up.
func TestC4_CrossWorkerOutboxPipeline(t *testing.T) {
	const n = 20000
	var got, outOfOrder atomic.Int64
	pin := func(m Module, ch string, typ uint32, w int) Module {
		m.Channels = append(m.Channels, ChanDecl{Name: ch, Dir: Consume, Type: typ, Guarantee: Lossless, Slots: 64, Pin: true, Worker: w})
		return m
	}
	s1 := pin(stageModule("s1", "", "xo.b", 1, nil), "xo.a", 1, 0)
	s2 := pin(stageModule("s2", "", "xo.c", 2, nil), "xo.b", 2, 1)
	sink := pin(Module{Name: "sink", Handlers: []Handler{{Type: 3, Fn: func(c *Ctx) Status {
		if c.Task().Meta0 != uint64(got.Load())+2 {
			outOfOrder.Add(1)
		}
		got.Add(1)
		return OK
	}}}}, "xo.c", 3, 0)
	k, err := Boot(BootConfig{Workers: 2, ArenaSize: 2 << 20, MaxTypes: 8}, s1, s2, sink)
	if err != nil {
		t.Fatal(err)
	}
	in, err := k.Chan("xo.a")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var batch [32]Task
	for i := 0; i < n; i += len(batch) {
		for j := range batch {
			batch[j] = Task{Type: 1, Meta0: uint64(i + j)}
		}
		if err := k.ChanEmitAll(ctx, in, batch[:]); err != nil {
			t.Fatalf("emit %d: %v", i, err)
		}
	}
	for got.Load() < n && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if got.Load() != n || outOfOrder.Load() != 0 || r.Stats.Errored+r.Stats.Dropped != 0 {
		t.Fatalf("sink got %d of %d (%d out of order); %v", got.Load(), n, outOfOrder.Load(), r.Stats)
	}
}

// [C4] [S6] A delivery to an idle consumer on another worker (nothing
// queued for it; here parked) is not held for the emitter's batch: the
// emitting handler, still running, sees the consumer (woken on worker 1)
// take it. Batching through the outbox is for busy consumers only.
func TestC4_OutboxPushesToIdleConsumerAtOnce(t *testing.T) {
	var seen atomic.Bool
	var inHandler atomic.Int64 // 1: the consumer ran while the emitter's handler waited
	var out ChanID
	src := Module{Name: "src", Handlers: []Handler{{Type: 1, Fn: func(c *Ctx) Status {
		if c.ChanEmit(out, Task{Type: 2}) != nil {
			return Fail
		}
		for end := time.Now().Add(10 * time.Second); !seen.Load() && time.Now().Before(end); {
			time.Sleep(10 * time.Microsecond)
		}
		if seen.Load() {
			inHandler.Store(1)
		}
		return OK
	}}}, Channels: []ChanDecl{{Name: "pk.in", Dir: Consume, Type: 1, Guarantee: Lossless, Pin: true, Worker: 0},
		{Name: "pk.out", Dir: Produce, Type: 2, Guarantee: Lossless}},
		Init: func(c *Ctx) (err error) { out, err = c.Kernel().Chan("pk.out"); return err }}
	sink := Module{Name: "sink", Handlers: []Handler{{Type: 2, Fn: func(*Ctx) Status { seen.Store(true); return OK }}},
		Channels: []ChanDecl{{Name: "pk.out", Dir: Consume, Type: 2, Guarantee: Lossless, Pin: true, Worker: 1}}}
	k, err := Boot(BootConfig{Workers: 2, ArenaSize: 1 << 20, MaxTypes: 8}, src, sink)
	if err != nil {
		t.Fatal(err)
	}
	for !k.core.Idle.IsParked(1) {
		time.Sleep(100 * time.Microsecond)
	}
	in, _ := k.Chan("pk.in")
	if err := k.ChanEmitWait(context.Background(), in, Task{Type: 1}); err != nil {
		t.Fatal(err)
	}
	for !seen.Load() {
		time.Sleep(100 * time.Microsecond)
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if inHandler.Load() != 1 {
		t.Fatal("the idle consumer got the delivery only after the emitting handler returned")
	}
}
