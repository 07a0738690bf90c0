package bridge

import (
	"time"

	"github.com/gmkernel/gmk/kernel/task"
)

// consumer is the Receiver of a ring in shared memory: gmk_bridge_ring.h's
// gmk_bridge_cons_t in Go.
//
// The protocol (gmk_bridge.h, MEMORY ORDERING): Peek reads slots below the
// tail it loaded (C1, acquire) and points payload views into staging; Release
// stores stage_head and the telemetry words and then head (C2, the release that
// hands slots and staging bytes back). Every slot's seq must equal the one
// expected: a mismatch is reported as a *GapError and the slot is left in
// place, so a lossless channel never silently skips or repeats a task. In an
// LL ring (ll.go) Peek polls the slot at head for its sequence tag instead of
// loading tail; Release is the same.
type consumer struct {
	_ noCopy

	ring int
	v    ringView
	w    waker

	head      uint64 // next position to peek; slots in [rel, head) are peeked
	rel       uint64 // released head (our last store of hdr.head)
	tailCache uint64 // last hdr.tail loaded
	seq       uint64 // seq expected next
	shead     uint64 // staging released up to here by the next Release
	releases  uint64 // releases so far (mirrors hdr.releases)
}

var _ Receiver = (*consumer)(nil)

// newConsumer attaches the consumer of v, continuing from its header's indices.
func newConsumer(ring int, v ringView, w waker) *consumer {
	h := v.hdr
	c := &consumer{ring: ring, v: v, w: w}
	c.head = h.head.Load()
	c.rel = c.head
	c.seq = h.consSeq.Load()
	c.shead = h.stageHead.Load()
	c.releases = h.releases.Load()
	c.tailCache = h.tail.Load()
	return c
}

// Peek implements Receiver.
func (c *consumer) Peek(dst []Msg) (int, error) {
	if c.v.ll {
		return c.peekLL(dst)
	}
	avail := c.tailCache - c.head
	if avail < uint64(len(dst)) { // the cached tail may be stale: reload it
		c.tailCache = c.v.hdr.tail.Load() // C1 acquire: slots < tail are written
		avail = c.tailCache - c.head
		if avail == 0 {
			return 0, c.emptySlow()
		}
	}
	k := min(avail, uint64(len(dst)))
	for i := range k {
		s := &c.v.slots[c.head&c.v.mask]
		if s.seq != c.seq {
			if i > 0 {
				return int(i), nil // deliver the good prefix; the next Peek reports the gap
			}
			return 0, &GapError{Ring: c.ring, Want: c.seq, Got: s.seq}
		}
		m := &dst[i]
		m.Task = s.task
		m.Payload = nil
		if s.task.PayloadLen > 0 {
			if err := c.viewPayload(m, s.stagePos); err != nil {
				if i > 0 {
					return int(i), nil
				}
				return 0, err
			}
		}
		c.head++
		c.seq++
	}
	return int(k), nil
}

// viewPayload points m.Payload at the staging bytes of m's payload
// (m.Task.PayloadLen > 0, at staging position pos) and moves the staging
// release point past them. A payload by reference or in place (RefSender)
// is for a device consumer: this side cannot read another memory, so it is
// ErrCorrupt here, as is a position outside the staging area.
func (c *consumer) viewPayload(m *Msg, pos uint64) error {
	n := uint64(m.Task.PayloadLen)
	off := pos & (c.v.stageLen - 1)
	if c.v.stageLen == 0 || n > c.v.stageLen/2 || off+n > c.v.stageLen || m.Task.Flags&(task.PayloadRef|task.PayloadDev) != 0 {
		return ErrCorrupt
	}
	m.Payload = c.v.stage[off : off+n : off+n]
	c.shead = pos + stageRound(n)
	return nil
}

// emptySlow decides what an empty ring means: nil while it is open, ErrClosed
// once it is closed and everything published before the close was peeked.
func (c *consumer) emptySlow() error {
	if c.v.hdr.flags.Load()&FlagClosed == 0 {
		return nil
	}
	// The closer published its last batch before setting CLOSED: reload tail.
	c.tailCache = c.v.hdr.tail.Load()
	if c.tailCache != c.head {
		return nil // more to drain; the next Peek gets it
	}
	return ErrClosed
}

// Release implements Receiver.
func (c *consumer) Release() int {
	k := c.head - c.rel
	if k == 0 {
		return 0
	}
	h := c.v.hdr
	c.releases++
	h.stageHead.Store(c.shead)
	h.consSeq.Store(c.seq)
	h.releases.Store(c.releases)
	h.head.Store(c.head) // C2 release: slots and staging bytes go back to the producer
	c.rel = c.head
	// Wake line: head store, then the waiting load (both seq_cst in Go).
	if h.prodWaiting.Load() != 0 {
		h.prodBell.Add(1)
		c.w.wake(&h.prodBell)
	}
	return int(k)
}

// Wait implements Receiver.
func (c *consumer) Wait(max time.Duration) bool {
	h := c.v.hdr
	return waitFor(c.ready, &h.consWaiting, &h.consBell, c.w, max)
}

// ready reports whether a task is published beyond head or the ring is closed.
func (c *consumer) ready() bool {
	if c.v.ll {
		return c.readyLL()
	}
	h := c.v.hdr
	if t := h.tail.Load(); t != c.head {
		c.tailCache = t
		return true
	}
	return h.flags.Load()&FlagClosed != 0
}

// Stats implements Receiver.
func (c *consumer) Stats() Stats {
	h := c.v.hdr
	return Stats{Tasks: h.consSeq.Load() - c.v.startSeq, Transfers: h.releases.Load()}
}
