package cluster

import (
	"sync"
	"sync/atomic"

	"github.com/gmkernel/gmk/actors/cluster/clusterpb"
	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/kernel/task"
)

// outbound is one producer stream: the tasks a member's relay took from the
// local end of a cluster channel, numbered 1, 2, 3 … (the stream sequence),
// kept from the moment the relay takes them until the consumer acknowledges
// them, so that they can be sent again to a new consumer.
//
// It is a single-producer, single-consumer ring:
//
//   - the relay handler (one kernel worker, the subscription's home, one
//     delivery at a time) is the only writer of entries, of ring and of
//     written; it owns bytes;
//   - the sender actor (one protoactor actor, one message at a time) is the
//     only writer of acked and owns sent, sentCum, ackedCum and maxSent.
//
// Publication: the relay fills entry seq (and its payload bytes), then
// stores written = seq; the sender loads written, then reads entries up to
// it (the atomic store/load pair orders the entry's plain writes before the
// sender's reads). The relay writes seq only while seq − acked < cap, acked
// as it loaded it: the slot it overwrites belongs to a task acknowledged
// before that load, and the entry of acked itself stays intact (its pcum
// bounds the payload bytes still live, which the relay never overwrites
// either). The sender never reads an acknowledged entry again.
//
// Growth: when the ring is full (possible only beyond Window, by what the
// kernel had drained into the worker's local queue before the relay paused),
// the relay copies the live entries into a ring twice as large and stores it
// before written, so a sender that loads written and then ring sees every
// entry it may read; old rings stay valid for readers that hold them.
type outbound struct {
	ring    atomic.Pointer[outRing]
	written atomic.Uint64 // last seq written (relay stores, sender loads)
	acked   atomic.Uint64 // last seq acknowledged (sender stores, relay loads)
	bytes   uint64        // relay: cumulative payload bytes written

	// sender-owned
	sent     uint64 // last seq sent to the current consumer
	sentCum  uint64 // cumulative bytes up to sent
	ackedCum uint64 // cumulative bytes up to acked
	maxSent  uint64 // highest seq ever sent: a send at or below it is a re-send

	// Pausing the local channel's subscription (relay.go): paused is guarded
	// by mu; pauseHint mirrors it for the lock-free checks and is set before
	// the relay decides, so that a sender storing acked either sees the hint
	// or the relay sees the new acked (both sides store, then load).
	mu        sync.Mutex
	paused    bool
	pauseHint atomic.Bool
}

// outRing holds the entries and, in a byte ring of its own, the payloads.
// Neither holds a pointer, so the garbage collector never scans them.
type outRing struct {
	e     []outEntry
	mask  uint64
	pb    []byte // payload bytes; entry seq's are pb[(pcum−PayloadLen)&pmask …]
	pmask uint64
}

type outEntry struct {
	t    task.Task // t.PayloadLen is the payload's length; t.Payload is meaningless here
	pcum uint64    // cumulative payload bytes of the stream up to and including this task
}

// cum returns the stream's cumulative wire bytes up to and including seq.
func (e *outEntry) cum(seq uint64) uint64 { return seq*recordBytes + e.pcum }

func newOutbound(capacity int) *outbound {
	o := &outbound{}
	o.ring.Store(newOutRing(capacity, 0))
	return o
}

func newOutRing(capacity, pbytes int) *outRing {
	c, pc := 16, 0
	for c < capacity {
		c <<= 1
	}
	if pbytes > 0 {
		pc = 1 << 12
		for pc < pbytes {
			pc <<= 1
		}
	}
	r := &outRing{e: make([]outEntry, c), mask: uint64(c - 1), pb: make([]byte, pc)}
	if pc > 0 {
		r.pmask = uint64(pc - 1)
	}
	return r
}

// recordBytes is the wire size of a task without its payload.
const recordBytes = wire.RecordSize

// put appends t (its payload copied) and returns its seq and the number of
// unacknowledged tasks. Relay only.
func (o *outbound) put(t *task.Task, payload []byte) (seq, unacked uint64) {
	seq = o.written.Load() + 1
	acked := o.acked.Load()
	r := o.ring.Load()
	if seq-acked >= uint64(len(r.e)) || uint64(len(payload)) > o.payloadRoom(r, acked) {
		r = o.grow(r, acked, seq-1, len(payload))
	}
	e := &r.e[seq&r.mask]
	e.t = *t
	e.t.PayloadLen = uint32(len(payload))
	if len(payload) > 0 {
		ringCopy(r.pb, r.pmask, o.bytes, payload)
	}
	o.bytes += uint64(len(payload))
	e.pcum = o.bytes
	o.written.Store(seq)
	return seq, seq - acked
}

// payloadRoom is how many payload bytes fit without overwriting an
// unacknowledged task's. Relay only (it reads its own entries).
func (o *outbound) payloadRoom(r *outRing, acked uint64) uint64 {
	var live uint64 = o.bytes
	if acked > 0 {
		live -= r.e[acked&r.mask].pcum
	}
	return uint64(len(r.pb)) - live
}

// grow replaces r by a ring with room for one more task of n payload bytes,
// holding entries acked+1..last and their payloads at the same offsets.
func (o *outbound) grow(r *outRing, acked, last uint64, n int) *outRing {
	ecap := len(r.e)
	for last+1-acked >= uint64(ecap) { // acked's entry stays: it bounds the live payloads
		ecap *= 2
	}
	from := uint64(0)
	if acked > 0 {
		from = r.e[acked&r.mask].pcum
	}
	live := o.bytes - from
	pcap := len(r.pb)
	for uint64(pcap) < live+uint64(n) {
		pcap = max(2*pcap, 1<<12)
	}
	nr := newOutRing(ecap, pcap)
	for s := acked; s <= last; s++ { // acked's entry too: its pcum bounds the live payloads
		if s > 0 {
			nr.e[s&nr.mask] = r.e[s&r.mask]
		}
	}
	for off := from; off < o.bytes; off++ {
		nr.pb[off&nr.pmask] = r.pb[off&r.pmask]
	}
	o.ring.Store(nr)
	return nr
}

// ringCopy copies b into ring at cumulative offset off (wrapping).
func ringCopy(ring []byte, mask, off uint64, b []byte) {
	i := off & mask
	n := copy(ring[i:], b)
	copy(ring, b[n:])
}

// ringAppend appends n bytes of ring from cumulative offset off to dst.
func ringAppend(dst, ring []byte, mask, off uint64, n int) []byte {
	i := off & mask
	end := min(int(i)+n, len(ring))
	dst = append(dst, ring[i:end]...)
	return append(dst, ring[:n-(end-int(i))]...)
}

// entry returns the entry of seq, which must be above acked and at most a
// written value the caller loaded, and the ring it is in. Sender only.
func (o *outbound) entry(seq uint64) (*outEntry, *outRing) {
	r := o.ring.Load()
	return &r.e[seq&r.mask], r
}

// cum returns the cumulative bytes up to seq (acked ≤ seq ≤ written). Sender.
func (o *outbound) cum(seq uint64) uint64 {
	if seq == o.acked.Load() {
		return o.ackedCum
	}
	e, _ := o.entry(seq)
	return e.cum(seq)
}

// limits bound one batch and what is in flight.
type limits struct {
	batchTasks, batchBytes, inflightBytes, minBatch int
}

// next builds the next batch to send, or returns nil when there is nothing
// to send or the limits say wait: in-flight bytes at the bound, or fewer than
// minBatch tasks ready while earlier ones are unacknowledged (Nagle). Re-sent
// tasks (at or below maxSent) carry task.Redelivered; resent counts them.
// Sender only.
func (o *outbound) next(l limits, channel, stream string) (b *clusterpb.Batch, resent int) {
	written, acked := o.written.Load(), o.acked.Load()
	ready := written - o.sent
	if ready == 0 || o.sentCum-o.ackedCum >= uint64(l.inflightBytes) {
		return nil, 0
	}
	if o.sent > acked && ready < uint64(l.minBatch) && o.sent >= o.maxSent {
		return nil, 0
	}
	n := min(ready, uint64(l.batchTasks))
	b = &clusterpb.Batch{Channel: channel, Stream: stream, Acked: acked, FirstSeq: o.sent + 1,
		Tasks: make([]byte, 0, int(n)*recordBytes)}
	first, base := o.sent+1, o.sentCum
	for seq := first; seq < first+n; seq++ {
		e, r := o.entry(seq)
		c := e.cum(seq)
		if seq > first && int(c-base) > l.batchBytes {
			break // the first task always goes, whatever its size
		}
		t := e.t
		if seq <= o.maxSent {
			t.Flags |= task.Redelivered
			resent++
		}
		t.Payload = 0
		off := len(b.Tasks)
		b.Tasks = b.Tasks[:off+recordBytes]
		wire.PutTask(b.Tasks[off:], &t)
		if t.PayloadLen > 0 {
			b.Payloads = ringAppend(b.Payloads, r.pb, r.pmask, e.pcum-uint64(t.PayloadLen), int(t.PayloadLen))
		}
		o.sent, o.sentCum = seq, c
	}
	o.maxSent = max(o.maxSent, o.sent)
	return b, resent
}

// ack records a cumulative acknowledgement; false when it acknowledges
// nothing new. An ack beyond what was ever sent is clamped. Sender only.
func (o *outbound) ack(seq uint64) bool {
	seq = min(seq, o.maxSent)
	if seq <= o.acked.Load() {
		return false
	}
	e, _ := o.entry(seq)
	o.ackedCum = e.cum(seq) // read before the store lets the relay overwrite it
	o.acked.Store(seq)
	if o.sent < seq {
		o.sent, o.sentCum = seq, o.ackedCum
	}
	return true
}

// rewind makes the next batch start after seq (at least after acked): what
// follows is sent again, flagged as redelivered. Sender only.
func (o *outbound) rewind(seq uint64) {
	seq = max(seq, o.acked.Load())
	if seq < o.sent {
		o.sent, o.sentCum = seq, o.cum(seq)
	}
}

// unacked returns written − acked (any goroutine).
func (o *outbound) unacked() uint64 { return o.written.Load() - o.acked.Load() }

// pauseIfFull pauses the local subscription (pause(true)) when window tasks
// or more are unacknowledged. The relay calls it when put reported a full
// window and pauseHint was false. It stores the hint before it loads acked:
// a sender that stored acked and then loaded the hint as false has its
// acked seen here.
func (o *outbound) pauseIfFull(window uint64, pause func(bool)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.paused {
		return
	}
	o.pauseHint.Store(true)
	if o.unacked() >= window {
		o.paused = true
		pause(true)
		return
	}
	o.pauseHint.Store(false)
}

// resumeIfRoom resumes the local subscription (pause(false)) once fewer than
// resumeAt tasks are unacknowledged. The sender calls it after storing acked
// (and on every tick).
func (o *outbound) resumeIfRoom(resumeAt uint64, pause func(bool)) {
	if !o.pauseHint.Load() {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.paused && o.unacked() < resumeAt {
		o.paused = false
		o.pauseHint.Store(false)
		pause(false)
	}
}

// isPaused reports whether the subscription is paused (any goroutine).
func (o *outbound) isPaused() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.paused
}
