package link

import (
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel"
)

// tracker is the consuming end's side of acknowledgements ([B4], [F5]): it
// learns which of the tasks its pump took out of the ring were handled, and
// stores in the wire's Ack cell how many were, counted in ring order — the
// prefix of the ring's tasks that is finished, exact even when retries
// finish tasks out of order.
//
// Tracking completion. On a P2P lossless channel the pump is the only
// emitter, and the kernel numbers the deliveries of a P2P subscription 1, 2,
// 3 … in emit order (Task.Seq): the pump knows the channel sequence of every
// task it emits. For each task it takes out of the ring it appends an entry
// to fifo, in ring order: fDone for a task that ended at once (a lossy
// channel's, or one delivered into a channel that is not P2P lossless:
// acknowledged when delivered; a task the kernel could never take), else a
// placeholder that the emit fills in with fEmitted|seq, or fDone when the
// channel refused the task (refused). The kernel reports each delivery it
// is done with, whether its handler completed it or the kernel ended it
// (kernel.ChanObserve; inLane.done), by storing its seq in slots[seq&mask]:
// the slot holds the seq itself, so a slot never needs clearing, and at
// most len(slots) tasks are outstanding (the pump takes no more), so two
// outstanding seqs never share a slot. scan pops the finished prefix of
// fifo and publishes its length.
//
// Fences. A handled task's work is not done while what its handler emitted
// back over the bridge is still on this kernel: a reset would lose it with
// the kernel, and the producer, having seen the task acknowledged, would not
// send it again. So a finished prefix is acknowledged only once this
// endpoint's out-lanes have published, dropped or failed (Stats.Failed)
// every delivery their channels had accepted when the prefix was found
// finished, as far as the kernel's channel counters show: scan records the
// prefix with a fence — each out-channel's emits less drops — and
// publishes the largest prefix whose fence the out-lanes have passed. The
// kernel's counters are sharded per worker and published every few worker
// rounds; the kernel publishes the ending worker's before it reports a
// delivery done, so a fence counts what that delivery's handler emitted,
// but may miss the last emits of handlers running elsewhere; what a reset
// then loses is counted in the reset kernel's report (queued), never
// silently. (An exact, live count of
// a channel's accepted deliveries from the kernel would make the fence
// exact; mark is the one place to change.) What a handler hands to a
// channel local to this kernel is this kernel's work and, like anything
// the kernel holds, is counted in its report when a reset ends it.

// fifo, head, tail, emitAt, last and the fences belong to the pump
// goroutine; slots are written by the kernel's workers (done) and read by
// scan; the Ack cell is written by scan (a store: the release that
// publishes the count) and read by the producer.
type tracker struct {
	exact bool // P2P lossless: acknowledged when handled; otherwise when delivered

	fifo   []uint64
	mask   uint64
	head   uint64 // fifo[head&mask] is the oldest unfinished entry: head tasks are acknowledged
	tail   uint64
	emitAt uint64 // the next placeholder an emit fills
	last   uint32 // channel seq of the last task emitted

	slots []atomic.Uint32
	ack   *atomic.Uint64
	acked atomic.Uint64 // tasks acknowledged over all connections, for Stats
	sent  uint64        // the value last stored in ack

	fence fencer
	fh    []uint64 // finished prefixes awaiting their fences, oldest first (a ring of maxFences)
	fat   []uint64 // their fences: len(outs) values each
	fn    uint64   // fences pending
	f0    uint64   // index of the oldest
}

// fencer is what a tracker's fences look at: the endpoint's out-lanes.
type fencer interface {
	lanes() int
	// mark writes each out-channel's deliveries so far into dst.
	mark(dst []uint64)
	// passed reports whether each out-lane has published, dropped or
	// failed as many deliveries as at says.
	passed(at []uint64) bool
}

// sizeFences sizes the fences for the endpoint's out-lanes (New, after
// every lane was made).
func (t *tracker) sizeFences() { t.fat = make([]uint64, maxFences*t.fence.lanes()) }

// maxFences is the most finished prefixes awaiting their fences; a newer
// one then replaces the newest (its fence is the later one: nothing is
// acknowledged early, only later).
const maxFences = 64

// Entries of fifo.
const (
	fWaiting uint64 = 0       // taken out of the ring, not emitted yet
	fDone    uint64 = 1 << 62 // finished when taken (or delivered)
	fEmitted uint64 = 1 << 63 // emitted with the channel seq in the low 32 bits
)

// trackCap is the most tasks a tracking pump holds unfinished: the
// channel's queue and its handler's batch fit many times over. A pump with
// that many outstanding waits for the handler before taking more.
const trackCap = 1 << 14

func newTracker(spec kernel.ChanSpec, ack *atomic.Uint64, f fencer) *tracker {
	return &tracker{exact: spec.Mode == kernel.P2P && spec.Guarantee == kernel.Lossless,
		fifo: make([]uint64, trackCap), mask: trackCap - 1, slots: make([]atomic.Uint32, trackCap), ack: ack,
		fence: f, fh: make([]uint64, maxFences)} // fat: sized by sizeFences, once the lanes are known
}

// room returns how many more tasks the pump may take.
func (t *tracker) room() int { return len(t.fifo) - int(t.tail-t.head) }

// took records a task taken out of the ring: waiting for its emit, or
// finished already (done).
func (t *tracker) took(done bool) {
	e := fWaiting
	if done {
		e = fDone
	}
	t.fifo[t.tail&t.mask] = e
	t.tail++
}

// emitted records that the next n waiting tasks were emitted, in order.
func (t *tracker) emitted(n int) { t.fill(n, true) }

// refused records that the next n waiting tasks never will be: the channel
// refused them (closed), and they went to sys.dropped. Done with, they
// hold up no later acknowledgement.
func (t *tracker) refused(n int) { t.fill(n, false) }

func (t *tracker) fill(n int, emitted bool) {
	for ; n > 0; n-- {
		for t.fifo[t.emitAt&t.mask] != fWaiting {
			t.emitAt++
		}
		e := fDone
		if emitted {
			t.last++
			if t.exact {
				e = fEmitted | uint64(t.last)
			}
		}
		t.fifo[t.emitAt&t.mask] = e
		t.emitAt++
	}
}

// done records that the delivery with channel seq finished. Any worker.
func (t *tracker) done(seq uint32) { t.slots[seq&uint32(t.mask)].Store(seq) }

// scan pops the finished prefix of fifo, fences it, and publishes the
// largest fenced prefix whose fence was passed.
func (t *tracker) scan() {
	h := t.head
	for h < t.tail {
		e := t.fifo[h&t.mask]
		if e == fWaiting {
			break
		}
		if e&fEmitted != 0 {
			seq := uint32(e)
			if t.slots[seq&uint32(t.mask)].Load() != seq {
				break
			}
		}
		h++
	}
	if h != t.head {
		t.head = h
		t.emitAt = max(t.emitAt, h)
		t.push(h)
	}
	t.publish()
}

// push records finished prefix h with the out-lanes' current fence.
func (t *tracker) push(h uint64) {
	i := t.f0 + t.fn
	if t.fn == maxFences {
		i-- // full: the newest entry takes the later prefix and fence
	} else {
		t.fn++
	}
	i %= maxFences
	n := uint64(t.fence.lanes())
	t.fh[i] = h
	t.fence.mark(t.fat[i*n : i*n+n])
}

// publish stores in the Ack cell the largest fenced prefix whose fence the
// out-lanes passed.
func (t *tracker) publish() {
	n := uint64(t.fence.lanes())
	v := t.sent
	for t.fn > 0 && t.fence.passed(t.fat[t.f0*n:t.f0*n+n]) {
		v = t.fh[t.f0]
		t.f0 = (t.f0 + 1) % maxFences
		t.fn--
	}
	if v != t.sent {
		t.acked.Add(v - t.sent)
		t.sent = v
		t.ack.Store(v)
	}
}

// restart starts counting afresh for a new connection whose Ack cell is
// ack (the pump is not running). The channel's sequence continues, so last
// and slots stay: a task of the old connection that finishes late marks its
// slot, which no new task's seq shares while fewer than len(slots) are
// outstanding.
func (t *tracker) restart(ack *atomic.Uint64) {
	t.ack = ack
	t.head, t.tail, t.emitAt, t.sent, t.fn, t.f0 = 0, 0, 0, 0, 0, 0
}
