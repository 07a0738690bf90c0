package bridge

import (
	"errors"
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel/task"
)

// LL rings (gmk_bridge.h, LL RINGS): the producer and consumer of ring views
// whose flags carry FlagLL.
//
// Who writes what, and what publishes it:
//
//   - The producer's Stage writes words 1-15 of slot[tail] (words 8-15 only
//     when the task needs them, announced by LLExt in word 1) with plain
//     stores, after its room check (P2) and after copying the payload into
//     staging; it keeps word 0 (tag and type) privately. Publish stores
//     word 0 of every staged slot with an atomic store, then the telemetry
//     words and tail as in version 1, then runs the wake line. Word 0's atomic
//     store is each slot's publication for a Go consumer: it comes after the
//     slot's other words and its staging bytes in program order, so a
//     consumer that loads word 0 with its tag has them too (Go memory model;
//     on amd64 and arm64 it is also the store order, L2). A C or device
//     consumer needs no such order: it checks every word's tag (L1, L3).
//   - The consumer's Peek loads word 0 of slot[head] atomically and goes on
//     only when it carries the expected tag; then it loads words 1-7 (and
//     8-15) atomically and checks each tag too, because a C or device
//     producer writes the words in any order: a slot with an old word is not
//     consumed yet (a torn slot), a slot with a foreign tag is a gap or
//     corruption, reported and left in place. Release stores head as in
//     version 1 (C2), so the producer's room check is the same.
//   - Staged tasks stay invisible until Publish, as in version 1: Sender's
//     contract does not depend on the format.

// ErrReservedFlag is returned by Stage on an LL ring for a task whose flags
// carry LLExt, the bit the LL format uses on the wire (gmk_task.h leaves it
// unused).
var ErrReservedFlag = errors.New("bridge: task flag 0x8000 is reserved by the LL ring format")

// llTag is GMK_BRIDGE_LL_TAG: the low 31 bits of seq with bit 31 set, never
// 0, and different for seq and seq ± capacity (capacity ≤ 2^24).
func llTag(seq uint64) uint32 { return uint32(seq) | LLTagBit }

// llWord packs a tag and 4 data bytes into one LL word.
func llWord(tag, data uint32) uint64 { return uint64(tag)<<32 | uint64(data) }

// llNeedsExt reports whether t needs words 8-15 to cross whole.
func llNeedsExt(t *task.Task) bool {
	return t.Payload != 0 || t.PayloadLen != 0 || t.YieldCount != 0 || t.Aux != 0
}

// putLL writes words 1-15 of the LL slot at p.tail for t (payload at staging
// position or address pos, flags | flag) and keeps word 0 for Publish. The caller has checked room and advances tail and seq.
func (p *producer) putLL(t *task.Task, pos uint64, flag task.Flags) {
	s := &p.v.llSlots[p.tail&p.v.mask]
	tag, flags := llTag(p.seq), uint32(t.Flags|flag)
	if llNeedsExt(t) {
		flags |= LLExt
		s.w[llWPayload] = llWord(tag, uint32(t.Payload))
		s.w[llWPayload+1] = llWord(tag, uint32(t.Payload>>32))
		s.w[llWPayloadLn] = llWord(tag, t.PayloadLen)
		s.w[llWYield] = llWord(tag, uint32(t.YieldCount)|uint32(t.Aux)<<16)
		s.w[llWStage] = llWord(tag, uint32(pos))
		s.w[llWStage+1] = llWord(tag, uint32(pos>>32))
		s.w[14] = llWord(tag, 0)
		s.w[15] = llWord(tag, 0)
	}
	s.w[llWFlags] = llWord(tag, flags|uint32(t.Tenant)<<16)
	s.w[llWChannel] = llWord(tag, t.Channel)
	s.w[llWSeq] = llWord(tag, t.Seq)
	s.w[llWMeta0] = llWord(tag, uint32(t.Meta0))
	s.w[llWMeta0+1] = llWord(tag, uint32(t.Meta0>>32))
	s.w[llWMeta1] = llWord(tag, uint32(t.Meta1))
	s.w[llWMeta1+1] = llWord(tag, uint32(t.Meta1>>32))
	p.llWord0[p.tail&p.v.mask] = llWord(tag, t.Type)
}

// publishLL stores word 0 of every staged slot, oldest first: the atomic
// store that makes each slot visible to a polling consumer.
func (p *producer) publishLL() {
	for pos := p.pub; pos != p.tail; pos++ {
		i := pos & p.v.mask
		atomic.StoreUint64(&p.v.llSlots[i].w[llWType], p.llWord0[i])
	}
}

// llOld is the tag a not-yet-written slot carries for the consumer's seq: the
// previous lap's, or 0 in the epoch's first lap (the region was zeroed).
func (c *consumer) llOld() uint32 {
	if c.seq-c.v.startSeq <= c.v.mask {
		return 0
	}
	return llTag(c.seq - c.v.mask - 1)
}

// llErr is the error for a word whose tag is neither the expected nor the
// old one: a *GapError naming the seq that tag stands for (the nearest one),
// or ErrCorrupt when it is no tag at all.
func (c *consumer) llErr(tag uint32) error {
	if tag&LLTagBit == 0 {
		return ErrCorrupt
	}
	d := int32((tag-llTag(c.seq))<<1) >> 1 // 31-bit signed distance
	return &GapError{Ring: c.ring, Want: c.seq, Got: c.seq + uint64(int64(d))}
}

// llExtOld reports whether an extension-line word with tag is not yet
// rewritten: 0, or the tag of an earlier lap of this slot (L3).
func (c *consumer) llExtOld(tag uint32) bool {
	back := (llTag(c.seq) - tag) &^ LLTagBit
	return tag == 0 || tag&LLTagBit != 0 && back&uint32(c.v.mask) == 0 && back < 1<<30
}

// readLL reads the LL slot at head for the expected seq into t: ok when every
// word it needs carries the expected tag; !ok with a nil error when one is
// not written yet; otherwise the gap or corruption. pos is the staging
// position (or address) of the payload.
func (c *consumer) readLL(t *task.Task) (pos uint64, ok bool, err error) {
	s := &c.v.llSlots[c.head&c.v.mask]
	want, old := llTag(c.seq), c.llOld()
	var d [LLWords]uint32
	for i := range LLHeadWords { // word 0 first: for a Go producer, it publishes the rest
		w := atomic.LoadUint64(&s.w[i])
		if tag := uint32(w >> 32); tag != want {
			if tag == old {
				return 0, false, nil
			}
			return 0, false, c.llErr(tag)
		}
		d[i] = uint32(w)
	}
	if d[llWFlags]&LLExt != 0 {
		for i := LLHeadWords; i < LLWords; i++ {
			w := atomic.LoadUint64(&s.w[i])
			if tag := uint32(w >> 32); tag != want {
				if c.llExtOld(tag) {
					return 0, false, nil
				}
				return 0, false, c.llErr(tag)
			}
			d[i] = uint32(w)
		}
	}
	*t = task.Task{
		Type: d[llWType], Flags: task.Flags(d[llWFlags] &^ LLExt), Tenant: uint16(d[llWFlags] >> 16),
		Channel: d[llWChannel], Seq: d[llWSeq],
		Payload:    uint64(d[llWPayload]) | uint64(d[llWPayload+1])<<32,
		PayloadLen: d[llWPayloadLn], YieldCount: uint16(d[llWYield]), Aux: uint16(d[llWYield] >> 16),
		Meta0: uint64(d[llWMeta0]) | uint64(d[llWMeta0+1])<<32,
		Meta1: uint64(d[llWMeta1]) | uint64(d[llWMeta1+1])<<32,
	}
	return uint64(d[llWStage]) | uint64(d[llWStage+1])<<32, true, nil
}

// peekLL is Peek on an LL ring: slot by slot, by the tags instead of tail.
func (c *consumer) peekLL(dst []Msg) (int, error) {
	for i := range dst {
		m := &dst[i]
		pos, ok, err := c.readLL(&m.Task)
		m.Payload = nil
		if err == nil && ok && m.Task.PayloadLen > 0 {
			err = c.viewPayload(m, pos)
		}
		if err != nil || !ok {
			if i > 0 {
				return i, nil // deliver the good prefix; the next Peek reports the rest
			}
			if err == nil {
				err = c.emptyLL()
			}
			return 0, err
		}
		c.head++
		c.seq++
	}
	return len(dst), nil
}

// emptyLL is emptySlow for an LL ring: nil while the ring is open or a task
// published before the close is still to come; ErrClosed once drained.
func (c *consumer) emptyLL() error {
	if c.v.hdr.flags.Load()&FlagClosed == 0 {
		return nil
	}
	var t task.Task // the closer stored its last slot words before CLOSED: poll again
	if _, ok, err := c.readLL(&t); ok || err != nil {
		return err
	}
	return ErrClosed
}

// readyLL is ready for an LL ring: word 0 of slot[head] is no longer the old
// one (a new task, or a gap Peek reports), or the ring is closed.
func (c *consumer) readyLL() bool {
	w := atomic.LoadUint64(&c.v.llSlots[c.head&c.v.mask].w[llWType])
	return uint32(w>>32) != c.llOld() || c.v.hdr.flags.Load()&FlagClosed != 0
}
