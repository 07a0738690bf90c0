package cluster

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gmkernel/gmk/actors/cluster/clusterpb"
	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/kernel/task"
)

// records decodes a batch into its tasks and payloads.
func records(t *testing.T, b *clusterpb.Batch) ([]task.Task, [][]byte) {
	t.Helper()
	tb := wire.TaskBatch{Tasks: b.GetTasks(), Payloads: b.GetPayloads()}
	var ts []task.Task
	var ps [][]byte
	if err := tb.Each(func(_ int, x task.Task, p []byte) error {
		ts = append(ts, x)
		ps = append(ps, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ts, ps
}

func metas(ts []task.Task) []uint64 {
	out := make([]uint64, len(ts))
	for i := range ts {
		out[i] = ts[i].Meta0
	}
	return out
}

var testLim = limits{batchTasks: 4, batchBytes: 1 << 20, inflightBytes: 1 << 20, minBatch: 3}

// TestX5_OutboundSendAckNagle: tasks go out numbered from 1 in put order,
// at most batchTasks per batch, payload bytes intact; while a batch is
// unacknowledged a batch smaller than minBatch waits (Nagle); acks are
// cumulative and idempotent.
func TestX5_OutboundSendAckNagle(t *testing.T) {
	o := newOutbound(16)
	for i := range uint64(6) {
		var p []byte
		if i == 2 {
			p = []byte("payload")
		}
		seq, unacked := o.put(&task.Task{Type: 1, Meta0: i}, p)
		if seq != i+1 || unacked != i+1 {
			t.Fatalf("put %d: seq %d unacked %d", i, seq, unacked)
		}
	}
	b, resent := o.next(testLim, "x.y", "s")
	ts, ps := records(t, b)
	if b.GetFirstSeq() != 1 || resent != 0 || !slices.Equal(metas(ts), []uint64{0, 1, 2, 3}) || string(ps[2]) != "payload" {
		t.Fatalf("first batch: first %d resent %d metas %v payload %q", b.GetFirstSeq(), resent, metas(ts), ps[2])
	}
	if ts[2].PayloadLen != 7 || ts[2].Payload != 0 {
		t.Fatalf("record of a payload task: len %d handle %d, want 7 and 0", ts[2].PayloadLen, ts[2].Payload)
	}
	if b, _ := o.next(testLim, "x.y", "s"); b != nil {
		t.Fatalf("2 ready < minBatch 3 with 4 in flight: got a batch of %d", len(b.GetTasks())/recordBytes)
	}
	if !o.ack(2) || o.ack(2) || o.ack(1) {
		t.Fatal("ack(2) must be new once, ack(1) old")
	}
	if b, _ := o.next(testLim, "x.y", "s"); b != nil {
		t.Fatal("still in flight: Nagle must hold")
	}
	o.ack(4)
	b, _ = o.next(testLim, "x.y", "s")
	if ts, _ := records(t, b); b.GetFirstSeq() != 5 || b.GetAcked() != 4 || !slices.Equal(metas(ts), []uint64{4, 5}) {
		t.Fatalf("nothing in flight: small batch goes; got first %d acked %d %v", b.GetFirstSeq(), b.GetAcked(), metas(ts))
	}
	if o.ack(99); o.acked.Load() != 6 {
		t.Fatalf("ack beyond what was sent: acked %d, want clamped to 6", o.acked.Load())
	}
}

// TestX5_OutboundRewindFlagsRedelivered: after a rewind (a lost consumer),
// everything unacknowledged goes again flagged task.Redelivered and counted;
// tasks never sent before are not flagged.
func TestX5_OutboundRewindFlagsRedelivered(t *testing.T) {
	o := newOutbound(16)
	lim := limits{batchTasks: 100, batchBytes: 1 << 20, inflightBytes: 1 << 20, minBatch: 1}
	for i := range uint64(5) {
		o.put(&task.Task{Meta0: i}, nil)
	}
	o.next(lim, "x.y", "s")
	o.ack(2)
	for i := uint64(5); i < 8; i++ {
		o.put(&task.Task{Meta0: i}, nil)
	}
	o.rewind(0)
	b, resent := o.next(lim, "x.y", "s")
	ts, _ := records(t, b)
	if b.GetFirstSeq() != 3 || resent != 3 || !slices.Equal(metas(ts), []uint64{2, 3, 4, 5, 6, 7}) {
		t.Fatalf("first %d resent %d metas %v", b.GetFirstSeq(), resent, metas(ts))
	}
	for i, x := range ts {
		if got, want := x.Flags&task.Redelivered != 0, i < 3; got != want {
			t.Errorf("task %d: redelivered %v, want %v", x.Meta0, got, want)
		}
	}
}

// TestX5_OutboundGrowAndByteLimits: past its capacity the ring grows with
// every unacknowledged task intact; batches respect batchBytes (the first
// task always goes) and in-flight bytes stop sending.
func TestX5_OutboundGrowAndByteLimits(t *testing.T) {
	o := newOutbound(16)
	for i := range uint64(40) {
		o.put(&task.Task{Meta0: i}, []byte{byte(i)})
	}
	lim := limits{batchTasks: 1000, batchBytes: 3 * (recordBytes + 1), inflightBytes: 9 * (recordBytes + 1), minBatch: 1}
	var got []uint64
	for {
		b, _ := o.next(lim, "x.y", "s")
		if b == nil {
			break
		}
		ts, ps := records(t, b)
		if len(ts) > 3 {
			t.Fatalf("batch of %d over the byte bound", len(ts))
		}
		for i := range ts {
			if ps[i][0] != byte(ts[i].Meta0) {
				t.Fatalf("payload of %d is %d", ts[i].Meta0, ps[i][0])
			}
		}
		got = append(got, metas(ts)...)
	}
	if len(got) != 9 {
		t.Fatalf("sent %d before the in-flight bound, want 9", len(got))
	}
	o.ack(9)
	for b, _ := o.next(lim, "x.y", "s"); b != nil; b, _ = o.next(lim, "x.y", "s") {
		ts, _ := records(t, b)
		got = append(got, metas(ts)...)
		o.ack(o.sent)
	}
	want := make([]uint64, 40)
	for i := range want {
		want[i] = uint64(i)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("sent %v", got)
	}
}

// TestX5_OutboundPauseResume: the relay pauses at the window, the sender's
// acknowledgements resume below half of it.
func TestX5_OutboundPauseResume(t *testing.T) {
	o := newOutbound(16)
	var calls []bool
	pause := func(p bool) { calls = append(calls, p) }
	for i := range uint64(4) {
		if _, un := o.put(&task.Task{Meta0: i}, nil); un >= 4 {
			o.pauseIfFull(4, pause)
		}
	}
	o.next(limits{batchTasks: 10, batchBytes: 1 << 20, inflightBytes: 1 << 20, minBatch: 1}, "x.y", "s")
	o.ack(1)
	o.resumeIfRoom(2, pause) // 3 unacked: stays paused
	o.ack(3)
	o.resumeIfRoom(2, pause)
	if !slices.Equal(calls, []bool{true, false}) || o.isPaused() {
		t.Fatalf("pause calls %v, paused %v", calls, o.isPaused())
	}
}

// TestX5_OutboundConcurrentStream runs the relay's side and the sender's
// side on two goroutines, the way the kernel worker and the sender actor do,
// with the window enforced by pausing: every task arrives once, in order,
// with its payload bytes intact (payloads of every size wrap around the
// payload ring and make it grow), and the relay never runs more than the
// window ahead. Run under -race.
func TestX5_OutboundConcurrentStream(t *testing.T) {
	const n, window = 20000, 64
	o := newOutbound(16)
	var paused atomic.Bool
	pause := func(p bool) { paused.Store(p) }
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the relay
		defer wg.Done()
		for i := range uint64(n) {
			for paused.Load() {
				runtime.Gosched() // a paused subscription is not drained
			}
			if _, un := o.put(&task.Task{Meta0: i}, payloadOf(i)); un >= window && !o.pauseHint.Load() {
				o.pauseIfFull(window, pause)
			}
		}
	}()
	lim := limits{batchTasks: 16, batchBytes: 1 << 20, inflightBytes: 1 << 20, minBatch: 1}
	next, maxUnacked := uint64(0), uint64(0)
	for next < n {
		maxUnacked = max(maxUnacked, o.unacked())
		b, _ := o.next(lim, "x.y", "s")
		if b == nil {
			runtime.Gosched()
			continue
		}
		ts, ps := records(t, b)
		for i, x := range ts {
			if x.Meta0 != next || !slices.Equal(ps[i], payloadOf(next)) {
				t.Fatalf("got %d with %d payload bytes, want %d with %d", x.Meta0, len(ps[i]), next, len(payloadOf(next)))
			}
			next++
		}
		o.ack(o.sent)
		o.resumeIfRoom(window/2, pause)
	}
	wg.Wait()
	if maxUnacked > window {
		t.Fatalf("%d unacknowledged, window %d", maxUnacked, window)
	}
}

// payloadOf is task i's payload in the stream tests: none for two tasks in
// three, else i%700 bytes of value i.
func payloadOf(i uint64) []byte {
	if i%3 != 0 || i%700 == 0 {
		return nil
	}
	p := make([]byte, i%700)
	for j := range p {
		p[j] = byte(i)
	}
	return p
}
