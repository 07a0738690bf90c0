package cluster

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/gmkernel/gmk/actors/cluster/clusterpb"
	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// batchOf builds a stream batch of tasks first..first+n-1 (Meta0 = seq).
func batchOf(stream string, first, n, acked uint64) *clusterpb.Batch {
	var tb wire.TaskBatch
	for s := first; s < first+n; s++ {
		tb.Append(task.Task{Type: 1, Meta0: s}, nil)
	}
	return &clusterpb.Batch{Channel: "x.y", Stream: stream, Acked: acked, FirstSeq: first, Tasks: tb.Tasks}
}

// fakeKernel is the delivery channel as the pump sees it: room for a number
// of tasks, an arena that can run out.
type fakeKernel struct {
	room     int
	allocOK  bool
	emitted  []task.Task
	released int
	payloads [][]byte // by handle-1
}

func (f *fakeKernel) emit(ts []task.Task) (int, error) {
	n := min(len(ts), f.room)
	f.room -= n
	f.emitted = append(f.emitted, ts[:n]...)
	if n < len(ts) {
		return n, kernel.ErrChanFull
	}
	return n, nil
}

func (f *fakeKernel) alloc(t *task.Task, p []byte) error {
	if !f.allocOK {
		return kernel.ErrAllocFail
	}
	f.payloads = append(f.payloads, append([]byte(nil), p...))
	t.Payload, t.PayloadLen = uint64(len(f.payloads)), uint32(len(p))
	return nil
}

func (f *fakeKernel) release(uint64) { f.released++ }

var pidA = actor.NewPID("a:1", "sender")

// TestX5_InboundDedupGapRewind: a stream's tasks are accepted once and in
// order; re-sent tasks already accepted are skipped (counted); a batch after
// a lost one is dropped and the stream asked — once — to rewind; a producer's
// ack lets a consumer that never saw the stream start after it.
func TestX5_InboundDedupGapRewind(t *testing.T) {
	in := newInbound("x.y", 64, 4, nil, make(chan struct{}, 1))
	var acks []outAck
	acks = in.accept(batchOf("s", 1, 3, 0), pidA, acks)
	acks = in.accept(batchOf("s", 2, 4, 0), pidA, acks) // 2, 3 again; 4, 5 new
	acks = in.accept(batchOf("s", 8, 2, 0), pidA, acks) // 6, 7 lost
	acks = in.accept(batchOf("s", 10, 1, 0), pidA, acks)
	if len(acks) != 1 || !acks[0].ack.GetRewind() || acks[0].ack.GetSeq() != 5 || acks[0].to != pidA {
		t.Fatalf("acks %v, want one rewind to 5", acks)
	}
	acks = in.accept(batchOf("t", 41, 2, 40), pidA, nil) // a new stream, after its producer's ack
	if len(acks) != 0 {
		t.Fatalf("new stream after its ack: acks %v", acks)
	}
	var got []uint64
	for _, p := range in.pend {
		got = append(got, p.t.Meta0)
	}
	if !slices.Equal(got, []uint64{1, 2, 3, 4, 5, 41, 42}) {
		t.Fatalf("accepted %v", got)
	}
	if d, g, r := in.st.duplicates.Load(), in.st.gaps.Load(), in.st.received.Load(); d != 2 || g != 2 || r != 7 {
		t.Fatalf("duplicates %d gaps %d received %d, want 2 2 7", d, g, r)
	}
}

// TestX5_InboundLowWaterMarkAcks: the acknowledgement is the exact
// low-water mark — a task finished out of order (after a retry) does not
// acknowledge the one before it — sent every ackEvery tasks and when the
// consumer caught up; rejected tasks count as finished.
func TestX5_InboundLowWaterMarkAcks(t *testing.T) {
	in := newInbound("x.y", 64, 4, func(t *task.Task, _ int) bool { return t.Meta0 == 7 }, make(chan struct{}, 1))
	in.accept(batchOf("s", 1, 8, 0), pidA, nil)
	k := &fakeKernel{room: 100, allocOK: true}
	if blocked, err := in.fill(k, make([]task.Task, fillChunk)); blocked || err != nil {
		t.Fatalf("fill: blocked %v err %v", blocked, err)
	}
	if len(k.emitted) != 7 || in.st.rejected.Load() != 1 {
		t.Fatalf("emitted %d rejected %d, want 7 1", len(k.emitted), in.st.rejected.Load())
	}
	in.done(2)
	in.done(3)
	if acks := in.scan(nil); len(acks) != 0 || in.list[0].handled != 0 {
		t.Fatalf("1 unfinished: acks %v handled %d", acks, in.list[0].handled)
	}
	in.done(1)
	in.done(4)
	acks := in.scan(nil)
	if len(acks) != 1 || acks[0].ack.GetSeq() != 4 || acks[0].ack.GetRewind() {
		t.Fatalf("after 4 finished: %v, want ack 4", acks)
	}
	in.done(5)
	if acks := in.scan(nil); len(acks) != 0 {
		t.Fatalf("1 more finished, busy: %v, want none before ackEvery", acks)
	}
	in.done(6)
	in.done(7) // local 7 is stream seq 8 (seq 7 was rejected)
	if acks := in.scan(nil); len(acks) != 1 || acks[0].ack.GetSeq() != 8 {
		t.Fatalf("caught up: %v, want ack 8", acks)
	}
}

// TestX5_InboundFillBackpressure: a full delivery channel or an exhausted
// arena leaves tasks pending (references of unemitted copies released), and
// the fifo never holds more than its capacity.
func TestX5_InboundFillBackpressure(t *testing.T) {
	in := newInbound("x.y", 64, 4, nil, make(chan struct{}, 1))
	in.accept(batchOf("s", 1, 100, 0), pidA, nil)
	k := &fakeKernel{room: 10, allocOK: true}
	buf := make([]task.Task, fillChunk)
	if blocked, err := in.fill(k, buf); !blocked || !errors.Is(err, kernel.ErrChanFull) || len(k.emitted) != 10 {
		t.Fatalf("full: blocked %v err %v emitted %d", blocked, err, len(k.emitted))
	}
	k.room = 1000
	if blocked, _ := in.fill(k, buf); !blocked || len(k.emitted) != 64 {
		t.Fatalf("fifo of 64: blocked %v emitted %d", blocked, len(k.emitted))
	}
	for s := uint32(1); s <= 64; s++ {
		in.done(s)
	}
	in.scan(nil)
	if blocked, _ := in.fill(k, buf); blocked || len(k.emitted) != 100 {
		t.Fatalf("after scan: blocked %v emitted %d", blocked, len(k.emitted))
	}
	for i, x := range k.emitted {
		if x.Meta0 != uint64(i+1) {
			t.Fatalf("emitted[%d] = %d", i, x.Meta0)
		}
	}
	var tb wire.TaskBatch
	tb.Append(task.Task{Type: 1, Meta0: 101}, []byte("p"))
	in.accept(&clusterpb.Batch{Stream: "s", FirstSeq: 101, Tasks: tb.Tasks, Payloads: tb.Payloads}, pidA, nil)
	k.allocOK = false
	if blocked, _ := in.fill(k, buf); !blocked || !in.pending() {
		t.Fatal("no arena room: the payload task must wait")
	}
}

// TestX5_InboundWake: done wakes an armed pump once the awaited task (or a
// later one) finished, and only then; concurrent done calls from several
// workers are race-free.
func TestX5_InboundWake(t *testing.T) {
	wake := make(chan struct{}, 1)
	in := newInbound("x.y", 256, 4, nil, wake)
	in.accept(batchOf("s", 1, 200, 0), pidA, nil)
	in.fill(&fakeKernel{room: 1000, allocOK: true}, make([]task.Task, fillChunk))
	if !in.arm(8) {
		t.Fatal("arm: nothing finished yet, must wait")
	}
	in.done(3)
	select {
	case <-wake:
		t.Fatal("woken before the awaited task")
	default:
	}
	in.done(8)
	select {
	case <-wake:
	default:
		t.Fatal("not woken by the awaited task")
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := uint32(9 + w); s <= 200; s += 4 {
				in.done(s)
			}
		}()
	}
	for s := uint32(1); s <= 7; s++ {
		in.done(s)
	}
	wg.Wait()
	if acks := in.scan(nil); len(acks) != 1 || acks[0].ack.GetSeq() != 200 {
		t.Fatalf("all finished: %v", acks)
	}
}

// TestX5_InboundPayloadsAcrossCompaction: payload bytes reach the arena
// intact when batches arrive while earlier ones are still pending, the
// pending queue compacts and drops the buffers it no longer needs.
func TestX5_InboundPayloadsAcrossCompaction(t *testing.T) {
	in := newInbound("x.y", 1<<12, 4, nil, make(chan struct{}, 1))
	k := &fakeKernel{allocOK: true}
	buf := make([]task.Task, fillChunk)
	seq := uint64(1)
	for round := range 20 {
		var tb wire.TaskBatch
		for j := range 50 {
			tb.Append(task.Task{Type: 1, Meta0: seq + uint64(j)}, payloadOf(seq+uint64(j)))
		}
		in.accept(&clusterpb.Batch{Stream: "s", FirstSeq: seq, Tasks: tb.Tasks, Payloads: tb.Payloads}, pidA, nil)
		seq += 50
		k.room += 30 + round // fewer than arrive at first, then more
		in.fill(k, buf)
		for l := uint32(1); l <= in.lastLoc; l++ {
			in.done(l)
		}
		in.scan(nil)
	}
	k.room = 1 << 20
	if blocked, err := in.fill(k, buf); blocked || err != nil || len(in.bufs) != 0 {
		t.Fatalf("blocked %v err %v, %d buffers kept", blocked, err, len(in.bufs))
	}
	if len(k.emitted) != 1000 {
		t.Fatalf("emitted %d, want 1000", len(k.emitted))
	}
	for i, x := range k.emitted {
		want := payloadOf(uint64(i + 1))
		var got []byte
		if x.Payload != 0 {
			got = k.payloads[x.Payload-1]
		}
		if x.Meta0 != uint64(i+1) || !slices.Equal(got, want) {
			t.Fatalf("task %d: Meta0 %d, %d payload bytes, want %d", i+1, x.Meta0, len(got), len(want))
		}
	}
}
