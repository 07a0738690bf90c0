//go:build !race

package channel

import (
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// allocCase is one emit-and-drain round trip measured for allocations.
type allocCase struct {
	name   string
	spec   Spec
	subs   int
	worker int // the emitter's worker; 0 is the subscribers' home (local path)
	fill   int // deliveries left queued before measuring (to reach a full queue)
}

// [C4] [C5] [C7] The data path allocates nothing: Emit (P2P ring and local
// fast path, the drop-slow path, lossy and lossless fan-out, with a replay
// buffer) and Drain, with T = task.Task. (Not under -race: the race detector
// changes allocation behaviour.)
func TestC4_EmitDrainZeroAllocs(t *testing.T) {
	for _, tc := range []allocCase{
		{"p2p-lossless", Spec{Type: msgType, Guarantee: Lossless, Slots: 64}, 1, -1, 0},
		{"p2p-lossy", Spec{Type: msgType, Slots: 64}, 1, -1, 0},
		{"p2p-local", Spec{Type: msgType, Guarantee: Lossless, Slots: 64}, 1, 0, 0},
		{"p2p-lossy-full-drop", Spec{Type: msgType, Slots: 2}, 1, -1, 2},
		{"fanout3-lossy", Spec{Type: msgType, Mode: FanOut, Slots: 64}, 3, -1, 0},
		{"fanout3-lossy-drop", Spec{Type: msgType, Mode: FanOut, Slots: 2}, 3, -1, 2},
		{"fanout3-lossless", Spec{Type: msgType, Mode: FanOut, Guarantee: Lossless, Slots: 64}, 3, -1, 0},
		{"fanout3-lossless-replay", Spec{Type: msgType, Mode: FanOut, Guarantee: Lossless, Slots: 64, Replay: 16}, 3, -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) { zeroAllocRound(t, tc) })
	}
}

func zeroAllocRound(t *testing.T, tc allocCase) {
	f := newFixture()
	if tc.worker >= 0 {
		f.asWorker(tc.worker, 4)
	}
	f.em.Shard = f.stats.Shard(0) // a worker's emitter counts on its shard
	tc.spec.Name = "alloc.test"
	c := f.open(t, tc.spec)
	subs := make([]*Sub, tc.subs)
	for i := range subs {
		subs[i] = sub(t, c, 0)
	}
	for i := range tc.fill {
		f.emit(c, 0, uint64(i))
	}
	m := msg(1, 1)
	m.Payload = 0x1234
	buf := make([]task.Task, 4)
	n := testing.AllocsPerRun(1000, func() {
		f.env.reset()
		d := m
		if st, _ := c.Emit(f.em, &d); st != task.OK {
			t.Fatalf("Emit = %v", st)
		}
		for _, s := range subs {
			if s.Len() > tc.fill {
				s.Drain(buf[:1])
				s.Ack(buf[0].Seq)
			}
		}
		if f.em.Local != nil {
			f.em.Local.LQ.PopBatch(buf)
		}
		f.em.Shard.Flush()
	})
	if n != 0 {
		t.Errorf("%v allocations per emit and drain, want 0", n)
	}
}

// The control paths a worker runs per drain allocate nothing either: the
// waiter mask, RoomSignal, Room and DeliverError.
func TestRoomAndErrorPathsZeroAllocs(t *testing.T) {
	f := newFixture()
	c := f.open(t, Spec{Name: "alloc.room", Type: msgType, Guarantee: Lossless, Slots: 8})
	sub(t, c, 0)
	h, err := c.SetErrorHandler(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	failed := msg(0, 1)
	buf := make([]task.Task, 1)
	for name, fn := range map[string]func(){
		"waiters": func() {
			c.AddWaiter(3)
			c.RoomSignal()
			c.TakeWaiters()
			<-c.roomCh // take the token back
		},
		"room": func() { c.Room() },
		"deliver-error": func() {
			f.env.reset()
			c.DeliverError(f.em, &failed, task.Fail)
			h.Drain(buf)
		},
	} {
		if n := testing.AllocsPerRun(1000, fn); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, n)
		}
	}
}

// [C4] A worker's deliveries to another worker's subscription through its
// outbox allocate nothing: the emit, the flush and the drain.
func TestC4_OutboxZeroAllocs(t *testing.T) {
	f := newFixture()
	f.asWorker(1, 4)
	var o Outbox
	f.em.Out, f.em.Shard = &o, f.stats.Shard(1)
	c := f.open(t, Spec{Name: "alloc.out", Type: msgType, Guarantee: Lossless, Slots: 64})
	s := sub(t, c, 0)
	m := msg(0, 1)
	buf := make([]task.Task, 4)
	n := testing.AllocsPerRun(1000, func() {
		f.env.reset()
		for range 3 {
			d := m
			if st, _ := c.Emit(f.em, &d); st != task.OK {
				t.Fatalf("Emit = %v", st)
			}
		}
		o.Flush(f.em)
		if s.Drain(buf) != 3 {
			t.Fatal("the flush did not reach the queue")
		}
		f.em.Shard.Flush()
	})
	if n != 0 {
		t.Errorf("%v allocations per emit, flush and drain, want 0", n)
	}
}
