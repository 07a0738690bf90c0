package bridge

import (
	"time"

	"github.com/gmkernel/gmk/kernel/task"
)

// producer is the Sender of a ring in shared memory: gmk_bridge_ring.h's
// gmk_bridge_prod_t in Go. Its private state lives on the Go heap of the
// process that produces; only the ring header, slots and staging are shared.
//
// The protocol (gmk_bridge.h, MEMORY ORDERING): Stage writes slots at positions
// [published tail, tail) and their staging bytes with plain stores; Publish
// stores the telemetry words and then tail (P1, the release that makes the batch
// visible). The producer reads head and stage_head (P2, acquire) only when its
// cached copies say full: a cached copy is never ahead of the real index, so it
// can understate free space but never overstate it. In an LL ring (ll.go)
// Stage writes the slot's LL words but word 0, and Publish stores each staged
// slot's word 0 before the telemetry words and tail.
type producer struct {
	_ noCopy

	ring int // ring index, for errors
	v    ringView
	w    waker

	tail       uint64   // next position to stage; slots in [pub, tail) are staged
	pub        uint64   // published tail (our last store of hdr.tail)
	headCache  uint64   // last hdr.head loaded
	stail      uint64   // next staging byte to allocate
	sheadCache uint64   // last hdr.stageHead loaded
	seq        uint64   // seq of the next staged task
	transfers  uint64   // publications so far (mirrors hdr.transfers)
	llWord0    []uint64 // LL ring: word 0 of each staged slot, stored by Publish, by slot index (ll.go)
}

var _ Sender = (*producer)(nil)

// newProducer attaches the producer of v, continuing from the indices in its
// header (a freshly formatted ring starts at zero).
func newProducer(ring int, v ringView, w waker) *producer {
	h := v.hdr
	p := &producer{ring: ring, v: v, w: w}
	p.tail = h.tail.Load()
	p.pub = p.tail
	p.stail = h.stageTail.Load()
	p.seq = h.prodSeq.Load()
	p.transfers = h.transfers.Load()
	p.headCache = h.head.Load()
	p.sheadCache = h.stageHead.Load()
	if v.ll {
		p.llWord0 = make([]uint64, v.mask+1)
	}
	return p
}

// Stage implements Sender.
func (p *producer) Stage(t *task.Task, payload []byte) error {
	if uint64(len(payload)) != uint64(t.PayloadLen) {
		return ErrPayloadMismatch
	}
	if err := p.admit(t); err != nil {
		return err
	}
	var pos uint64
	if len(payload) > 0 {
		var err error
		if pos, err = p.reserve(uint64(len(payload))); err != nil {
			return err
		}
		copy(p.v.stage[pos&(p.v.stageLen-1):], payload)
	}
	p.put(t, pos, 0)
	return nil
}

// StageRef implements RefSender: a slot whose payload (t.PayloadLen bytes)
// is at addr, flagged task.PayloadRef; no staging is used.
func (p *producer) StageRef(t *task.Task, addr uint64) error {
	if addr == 0 {
		return ErrPayloadMismatch
	}
	return p.stageAt(t, addr, task.PayloadRef)
}

// StageDev implements RefSender: a slot whose payload is at offset off of
// the receiver's arena, flagged task.PayloadDev.
func (p *producer) StageDev(t *task.Task, off uint64) error {
	return p.stageAt(t, off, task.PayloadDev)
}

// stageAt stages t with pos in place of a staging position, flagged flag.
func (p *producer) stageAt(t *task.Task, pos uint64, flag task.Flags) error {
	if t.PayloadLen == 0 {
		return ErrPayloadMismatch
	}
	if err := p.admit(t); err != nil {
		return err
	}
	p.put(t, pos, flag)
	return nil
}

// admit checks that t may take the next slot: the ring is open, t does not
// use the flag an LL ring reserves, and a slot is free by the cached head
// (reloaded only when it says full).
func (p *producer) admit(t *task.Task) error {
	if p.v.hdr.flags.Load()&FlagClosed != 0 { // a plain load on amd64/arm64 of a read-mostly line
		return ErrClosed
	}
	if p.v.ll && t.Flags&LLExt != 0 {
		return ErrReservedFlag
	}
	if p.tail-p.headCache > p.v.mask { // full by the cached head: reload it
		p.headCache = p.v.hdr.head.Load() // P2 acquire: the consumer is done with slots < head
		if p.tail-p.headCache > p.v.mask {
			return ErrFull
		}
	}
	return nil
}

// put writes t, flagged flag, with staging position (or payload address) pos
// into the next slot, in the ring's format, and advances the tail.
func (p *producer) put(t *task.Task, pos uint64, flag task.Flags) {
	if p.v.ll {
		p.putLL(t, pos, flag)
	} else {
		s := &p.v.slots[p.tail&p.v.mask]
		s.task = *t
		if flag != 0 {
			s.task.Flags |= flag
		}
		s.seq = p.seq
		s.stagePos = pos
	}
	p.seq++
	p.tail++
}

// reserve allocates round(n) contiguous staging bytes and returns their
// position, skipping to the area start when they would run past its end (the
// skipped bytes are freed with the payload). A payload is at most half the
// area, so it always fits once the consumer has caught up.
func (p *producer) reserve(n uint64) (uint64, error) {
	size := p.v.stageLen
	if n > size/2 {
		return 0, ErrPayloadTooLarge
	}
	need := stageRound(n)
	pos := p.stail
	if off := pos & (size - 1); off+need > size {
		pos += size - off
	}
	if pos+need-p.sheadCache > size { // full by the cached stage_head: reload it
		p.sheadCache = p.v.hdr.stageHead.Load() // P2 acquire: staging below it is free
		if pos+need-p.sheadCache > size {
			return 0, ErrStagingFull
		}
	}
	p.stail = pos + need
	return pos, nil
}

// Staged implements Sender.
func (p *producer) Staged() int { return int(p.tail - p.pub) }

// Publish implements Sender.
func (p *producer) Publish() int {
	k := p.tail - p.pub
	if k == 0 {
		return 0
	}
	h := p.v.hdr
	if p.v.ll {
		p.publishLL() // the slots' word 0: LL's publication (ll.go)
	}
	p.transfers++
	h.stageTail.Store(p.stail)
	h.prodSeq.Store(p.seq)
	h.transfers.Store(p.transfers)
	h.tail.Store(p.tail) // P1 release: the staged slots and their staging bytes
	p.pub = p.tail
	// Wake line: tail store, then the waiting load (both seq_cst in Go).
	if h.consWaiting.Load() != 0 {
		h.consBell.Add(1)
		p.w.wake(&h.consBell)
	}
	return int(k)
}

// Wait implements Sender.
func (p *producer) Wait(max time.Duration) bool {
	h := p.v.hdr
	return waitFor(p.ready, &h.prodWaiting, &h.prodBell, p.w, max)
}

// ready reports whether the consumer has released slots or staging bytes
// beyond the cached indices, or the ring is closed; it refreshes the caches.
func (p *producer) ready() bool {
	h := p.v.hdr
	hd, sh := h.head.Load(), h.stageHead.Load()
	moved := hd != p.headCache || sh != p.sheadCache
	p.headCache, p.sheadCache = hd, sh
	return moved || h.flags.Load()&FlagClosed != 0
}

// Stats implements Sender.
func (p *producer) Stats() Stats {
	h := p.v.hdr
	return Stats{Tasks: h.prodSeq.Load() - p.v.startSeq, Transfers: h.transfers.Load()}
}
