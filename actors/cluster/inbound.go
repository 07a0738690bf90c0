package cluster

import (
	"slices"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/gmkernel/gmk/actors/cluster/clusterpb"
	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/kernel/task"
)

// inbound is the consumer side of one cluster channel on a consumer member:
// it accepts the producer streams' batches in order and without duplicates,
// hands the tasks to the local delivery channel, learns which of them the
// consumer finished, and acknowledges each stream cumulatively.
//
// Everything but slots, kickAt, armed and wake belongs to the member's pump
// goroutine (pump.go), which steps it. The consumer's handlers (kernel
// workers) call only done. Member.Placement loads only pub and, in the
// streams it lists, from and accepted (atomics the pump stores).
//
// Tracking completion. The pump is the only emitter on the delivery channel,
// a lossless P2P channel whose kernel subscription numbers deliveries 1, 2,
// 3 … in emit order (its Seq): the pump knows the local seq of every task it
// emits and queues (local, stream, seq) in fifo. A finished task's handler
// wrapper stores its local seq in slots[seq&mask]: the slot holds the seq
// itself, so a slot never needs clearing, and at most len(slots) tasks are
// outstanding (the pump emits no more), so two outstanding seqs never share a
// slot. scan pops the fifo's done prefix — the low-water mark, exact even when
// retries finish tasks out of order — and a stream's acknowledgement is the
// last seq popped for it.
type inbound struct {
	channel  string
	ackEvery uint64
	reject   func(t *task.Task, payloadLen int) bool // true: the kernel could not take t

	streams map[string]*inStream
	list    []*inStream
	pub     atomic.Pointer[[]*inStream] // a copy of list for Placement; the pump stores one per new stream

	pend    []pendTask // accepted, not yet emitted
	pendAt  int        // pend[:pendAt] is emitted
	bufs    [][]byte   // payload bytes of the batches pend refers to
	fifo    []fifoEntry
	fhead   uint64 // fifo[fhead&fmask] is the oldest unfinished entry
	ftail   uint64
	lastLoc uint32 // local seq of the last task emitted

	slots []atomic.Uint32 // written by the consumer's workers (done), read by scan
	smask uint32

	// Wake-up: the pump stores kickAt, then armed; done stores its slot, then
	// loads armed, then kickAt — so that either the pump's re-check after
	// arming sees the slot, or done sees armed and wakes it.
	kickAt atomic.Uint32
	armed  atomic.Bool
	wake   chan struct{} // capacity 1; batches arriving use it too

	st inStats
}

// inStream is the consumer's state of one producer stream.
type inStream struct {
	id      string
	idx     int32
	sender  *actor.PID // where acks go: the producer's sender actor
	next    uint64     // the next stream seq to accept
	handled uint64     // every seq up to handled is finished (the ack value)
	ackSent uint64     // the last ack value sent
	rewound uint64     // next when the last rewind was asked (one per gap)

	// For Placement (placement.go): the pump stores, anyone loads.
	from     atomic.Pointer[string] // the producer member's address
	accepted atomic.Uint64          // tasks accepted from the stream
}

// pendTask is an accepted task. It holds no pointer (the garbage collector
// does not scan pend): its payload is bufs[buf][off:off+t.PayloadLen].
type pendTask struct {
	t      task.Task
	seq    uint64
	stream int32
	buf    int32 // index in bufs; -1: inline
	off    uint32
	reject bool
}

// payload returns p's payload bytes (nil for an inline task).
func (in *inbound) payload(p *pendTask) []byte {
	if p.buf < 0 {
		return nil
	}
	return in.bufs[p.buf][p.off : p.off+p.t.PayloadLen]
}

// fifoEntry is an emitted (or rejected: local 0) task awaiting completion.
type fifoEntry struct {
	local  uint32
	stream int32
	seq    uint64
}

// inStats are the consumer side's counters; the pump writes, anyone reads.
type inStats struct {
	received, duplicates, gaps, delivered, handled, rejected atomic.Uint64
}

// outAck is an Ack to send and where.
type outAck struct {
	to  *actor.PID
	ack *clusterpb.Ack
}

func newInbound(channel string, capacity int, ackEvery uint64, reject func(*task.Task, int) bool, wake chan struct{}) *inbound {
	c := 64
	for c < capacity {
		c <<= 1
	}
	return &inbound{channel: channel, ackEvery: ackEvery, reject: reject, streams: map[string]*inStream{},
		fifo: make([]fifoEntry, c), slots: make([]atomic.Uint32, c), smask: uint32(c - 1),
		wake: wake}
}

func (in *inbound) stream(id string) *inStream {
	s := in.streams[id]
	if s == nil {
		s = &inStream{id: id, idx: int32(len(in.list)), next: 1}
		in.streams[id] = s
		in.list = append(in.list, s)
		in.pub.Store(new(slices.Clone(in.list)))
	}
	return s
}

// accept takes batch b from sender: the tasks after the stream's last
// accepted one are queued for delivery; earlier ones are duplicates (counted,
// skipped); a batch that starts beyond the next expected seq means one was
// lost, and the stream is asked once to rewind. Everything up to b.Acked was
// finished by some consumer, so the stream continues after it. It appends the
// acks to send to acks and returns it.
func (in *inbound) accept(b *clusterpb.Batch, sender *actor.PID, acks []outAck) []outAck {
	tb := wire.TaskBatch{Tasks: b.GetTasks(), Payloads: b.GetPayloads()}
	if tb.Check() != nil {
		in.st.gaps.Add(1) // unreadable: treated as lost
		return acks
	}
	s := in.stream(b.GetStream())
	if sender != nil {
		s.sender = sender
		s.noteFrom(sender.Address)
	}
	if a := b.GetAcked(); a >= s.next {
		s.next, s.handled = a+1, max(s.handled, a)
	}
	n := uint64(tb.Len())
	first := b.GetFirstSeq()
	switch {
	case n == 0 || first == 0:
		return acks
	case first+n <= s.next: // all seen: tell the producer where this consumer stands
		in.st.duplicates.Add(n)
		if s.handled > 0 {
			acks = append(acks, outAck{s.sender, &clusterpb.Ack{Channel: in.channel, Stream: s.id, Seq: s.handled}})
		}
		return acks
	case first > s.next:
		in.st.gaps.Add(1)
		if s.rewound != s.next {
			s.rewound = s.next
			acks = append(acks, outAck{s.sender, &clusterpb.Ack{Channel: in.channel, Stream: s.id, Seq: s.next - 1, Rewind: true}})
		}
		return acks
	}
	skip := s.next - first
	in.st.duplicates.Add(skip)
	in.compact()
	buf := int32(-1)
	if len(tb.Payloads) > 0 {
		buf = int32(len(in.bufs))
		in.bufs = append(in.bufs, tb.Payloads)
	}
	off := uint32(0)
	_ = tb.Each(func(i int, t task.Task, p []byte) error {
		pt := pendTask{t: t, seq: first + uint64(i), stream: s.idx, buf: -1}
		if len(p) > 0 {
			pt.buf, pt.off = buf, off
			off += uint32(len(p))
		}
		if uint64(i) < skip {
			return nil
		}
		in.pend = append(in.pend, pt)
		if in.reject != nil {
			x := &in.pend[len(in.pend)-1] // in the slice: taking its address allocates nothing
			x.reject = in.reject(&x.t, len(p))
		}
		return nil
	})
	in.st.received.Add(n - skip)
	s.accepted.Add(n - skip)
	s.next = first + n
	return acks
}

// compact moves the pending tail to the front once most of pend was
// emitted, and drops the payload buffers no pending task refers to (buffer
// indices grow along pend).
func (in *inbound) compact() {
	if in.pendAt == 0 || in.pendAt < len(in.pend)/2 {
		return
	}
	n := copy(in.pend, in.pend[in.pendAt:])
	in.pend, in.pendAt = in.pend[:n], 0
	drop := int32(len(in.bufs))
	for i := range in.pend {
		if b := in.pend[i].buf; b >= 0 {
			drop = b
			break
		}
	}
	if drop == 0 {
		return
	}
	k := copy(in.bufs, in.bufs[drop:])
	clear(in.bufs[k:])
	in.bufs = in.bufs[:k]
	for i := range in.pend {
		if in.pend[i].buf >= 0 {
			in.pend[i].buf -= drop
		}
	}
}
