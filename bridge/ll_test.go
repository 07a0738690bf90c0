package bridge

import (
	"bytes"
	"errors"
	"testing"
	"time"
	"unsafe"

	"github.com/gmkernel/gmk/kernel/task"
)

// forModes runs f as a subtest per slot format: version 1 ("v1") and LL.
func forModes(t *testing.T, f func(t *testing.T, ll bool)) {
	for _, ll := range []bool{false, true} {
		t.Run(modeName(ll), func(t *testing.T) { f(t, ll) })
	}
}

func modeName(ll bool) string {
	if ll {
		return "ll"
	}
	return "v1"
}

// slotView returns the task and staging position staged at ring position
// pos, in either format (tests only). In an LL ring word 0 is not written
// before Publish: the type comes from the producer's copy of it.
func (p *producer) slotView(pos uint64) slot {
	if !p.v.ll {
		return p.v.slots[pos&p.v.mask]
	}
	w := &p.v.llSlots[pos&p.v.mask].w
	d := func(i int) uint64 { return uint64(uint32(w[i])) }
	return slot{
		task: task.Task{Type: uint32(p.llWord0[pos&p.v.mask]), Flags: task.Flags(d(llWFlags)) &^ LLExt,
			Tenant: uint16(d(llWFlags) >> 16), Channel: uint32(d(llWChannel)), Seq: uint32(d(llWSeq)),
			Payload: d(llWPayload) | d(llWPayload+1)<<32, PayloadLen: uint32(d(llWPayloadLn)),
			Meta0: d(llWMeta0) | d(llWMeta0+1)<<32, Meta1: d(llWMeta1) | d(llWMeta1+1)<<32},
		stagePos: d(llWStage) | d(llWStage+1)<<32,
	}
}

// TestABI_LLFormat: an LL region's rings say so in their geometry line
// (FlagLL, version 2, 128-byte slots), the region is sized for them, a
// version-1 region is unchanged, and a ring claiming LL with version-1 slots
// is refused on attach.
func TestABI_LLFormat(t *testing.T) {
	v1, _ := RegionSize(Config{Capacity: 16, Staging: 1024})
	ll, _ := RegionSize(Config{Capacity: 16, Staging: 1024, LL: true})
	if ll-v1 != 2*16*(LLSlotSize-SlotSize) {
		t.Fatalf("region sizes v1 %d, LL %d: want 2 rings x 16 slots x 64 more bytes", v1, ll)
	}
	for _, c := range []Config{{Capacity: 16, Staging: 1024}, {Capacity: 16, Staging: 1024, LL: true}} {
		mem, reg := formatted(t, c)
		h := reg.rings[RingBA].hdr
		want := [3]uint64{Version, SlotSize, 0}
		if c.LL {
			want = [3]uint64{VersionLL, LLSlotSize, FlagLL}
		}
		if got := [3]uint64{uint64(h.version), uint64(h.slotSize), uint64(h.flags.Load())}; got != want || reg.rings[RingBA].ll != c.LL {
			t.Fatalf("LL %t: version, slot size, flags = %v, want %v", c.LL, got, want)
		}
		if c.LL {
			h.slotSize = SlotSize
			if _, err := attach(mem); !errors.Is(err, ErrBadRegion) {
				t.Fatalf("an LL ring with 64-byte slots attached: %v", err)
			}
		}
	}
}

// TestB4_LLStaleSlotNeverConsumed: after a lap, slot[head] still holds the
// previous lap's task (its tag is seq - capacity); the receiver reports the
// ring empty, also while the next task is staged (its words 1-15 written,
// word 0 not), and takes the task only once it is published.
func TestB4_LLStaleSlotNeverConsumed(t *testing.T) {
	a, b := newMem(t, Config{Capacity: 4, Staging: 1024, LL: true})
	sendN(t, a.tx, 0, 4)
	recvN(t, b.rx, 0, 4)
	dst := make([]Msg, 4)
	for range 3 {
		if n, err := b.rx.Peek(dst); n != 0 || err != nil {
			t.Fatalf("Peek over a stale lap = %d, %v; want 0, nil", n, err)
		}
	}
	if b.rx.Wait(time.Millisecond) {
		t.Fatal("Wait on a ring of stale slots = true")
	}
	tk, p := withPayload(4, 100)
	if err := a.tx.Stage(&tk, p); err != nil {
		t.Fatal(err)
	}
	if n, err := b.rx.Peek(dst); n != 0 || err != nil {
		t.Fatalf("Peek of a staged, unpublished slot = %d, %v", n, err)
	}
	a.tx.Publish()
	if n, err := b.rx.Peek(dst); n != 1 || err != nil || dst[0].Task != tk || !bytes.Equal(dst[0].Payload, p) {
		t.Fatalf("Peek after Publish = %d, %v, %+v", n, err, dst[0].Task)
	}
}

// TestB4_LLTornSlotNotConsumed: a producer that writes a slot's words in any
// order (C, the device) leaves torn slots behind it for a while: some words
// with the new tag, some with the old. Written here word by word, in an
// order that puts word 0 and word 1 (announcing the extension line) early,
// the slot is not consumed until its last word lands, then arrives whole.
func TestB4_LLTornSlotNotConsumed(t *testing.T) {
	a, b := newMem(t, Config{Capacity: 4, Staging: 1024, LL: true})
	for i := range 5 { // slot 1 ends up holding seq 1, payload and all: old tags to tear against
		tk, p := withPayload(i, 8)
		if err := a.tx.Stage(&tk, p); err != nil {
			t.Fatal(err)
		}
		a.tx.Publish()
		if n, err := b.rx.Peek(make([]Msg, 1)); n != 1 || err != nil {
			t.Fatalf("task %d: %d, %v", i, n, err)
		}
		b.rx.Release()
	}
	s := &a.tx.v.llSlots[5&a.tx.v.mask] // where seq 5 goes
	old := s.w
	tk, p := withPayload(5, 40)
	tk.YieldCount, tk.Aux = 3, 7
	if err := a.tx.Stage(&tk, p); err != nil {
		t.Fatal(err)
	}
	a.tx.Publish()
	fresh := s.w
	s.w = old
	dst := make([]Msg, 2)
	order := []int{0, 1, 9, 15, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14}
	for k, i := range order {
		s.w[i] = fresh[i]
		n, err := b.rx.Peek(dst)
		if k < len(order)-1 {
			if n != 0 || err != nil {
				t.Fatalf("torn slot (%d of 16 words new) peeked: %d, %v", k+1, n, err)
			}
			continue
		}
		if n != 1 || err != nil || dst[0].Task != tk || !bytes.Equal(dst[0].Payload, p) {
			t.Fatalf("complete slot: %d, %v, %+v", n, err, dst[0].Task)
		}
	}
}

// TestB4_LLForeignTagIsGap: a word whose tag is neither the expected nor the
// old one — another seq's (a lost or duplicated task), or no tag at all — is
// reported (*GapError naming the seq the tag stands for; ErrCorrupt) and
// never consumed, in the head line and in the extension line.
func TestB4_LLForeignTagIsGap(t *testing.T) {
	a, b := newMem(t, Config{Capacity: 8, Staging: 1024, LL: true})
	tk, p := withPayload(0, 16)
	a.tx.Stage(&tk, p)
	a.tx.Publish()
	w := &a.tx.v.llSlots[0].w
	dst := make([]Msg, 1)
	for _, tc := range []struct {
		word int
		tag  uint32
		got  uint64 // 0: ErrCorrupt
	}{{3, llTag(1), 1}, {0, llTag(8), 8}, {12, llTag(3), 3}, {5, 0x1234, 0}, {14, 0x1234, 0}} {
		saved := w[tc.word]
		w[tc.word] = llWord(tc.tag, uint32(saved))
		n, err := b.rx.Peek(dst)
		var gap *GapError
		switch {
		case n != 0:
			t.Fatalf("word %d tagged %#x: consumed", tc.word, tc.tag)
		case tc.got == 0 && !errors.Is(err, ErrCorrupt):
			t.Fatalf("word %d tagged %#x: %v, want ErrCorrupt", tc.word, tc.tag, err)
		case tc.got != 0 && (!errors.As(err, &gap) || gap.Want != 0 || gap.Got != tc.got):
			t.Fatalf("word %d tagged %#x: %v, want a gap to seq %d", tc.word, tc.tag, err, tc.got)
		}
		w[tc.word] = saved
	}
	if n, err := b.rx.Peek(dst); n != 1 || err != nil || b.rx.Stats().Tasks != 0 {
		t.Fatalf("repaired slot: %d, %v", n, err)
	}
}

// TestB3_LLCorruptSlotRefused: an LL slot whose payload reaches outside the
// staging area is reported as ErrCorrupt, never sliced; a task carrying the
// flag the LL format reserves is refused at Stage.
func TestB3_LLCorruptSlotRefused(t *testing.T) {
	a, b := newMem(t, Config{Capacity: 8, Staging: 1024, LL: true})
	tk, p := withPayload(0, 100)
	a.tx.Stage(&tk, p)
	w := &a.tx.v.llSlots[0].w
	w[llWStage] = llWord(llTag(0), 1024-50) // 100 bytes from here run past the end
	a.tx.Publish()
	if n, err := b.rx.Peek(make([]Msg, 4)); n != 0 || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Peek of a corrupt slot = %d, %v; want ErrCorrupt", n, err)
	}
	bad := inline(1)
	bad.Flags |= LLExt
	if err := a.tx.Stage(&bad, nil); !errors.Is(err, ErrReservedFlag) {
		t.Fatalf("Stage with flag %#x = %v, want ErrReservedFlag", LLExt, err)
	}
	if err := a.tx.StageRef(&task.Task{Flags: LLExt, PayloadLen: 1}, 1); !errors.Is(err, ErrReservedFlag) {
		t.Fatalf("StageRef with flag %#x = %v, want ErrReservedFlag", LLExt, err)
	}
}

// TestABI_LLSlotAlignment: LL slots start 128-aligned in the region, so the
// head line (words 0-7) is one 64-byte read for the device.
func TestABI_LLSlotAlignment(t *testing.T) {
	a, _ := newMem(t, Config{Capacity: 8, Staging: 1024, LL: true})
	for _, v := range a.reg.rings {
		if p := uintptr(unsafe.Pointer(&v.llSlots[1])); p%LineSize != 0 {
			t.Fatalf("slot 1 at %#x", p)
		}
	}
}
