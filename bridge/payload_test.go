package bridge

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// TestB3_PayloadRoundTrip: payloads of every size up to 4 KiB cross by copy —
// the receiver sees the exact bytes, in a view of the staging area, not the
// sender's buffer — mixed with inline tasks, across staging wrap-around and
// the uint64 wrap of the staging positions.
func TestB3_PayloadRoundTrip(t *testing.T) { forModes(t, testPayloadRoundTrip) }

// testPayloadRoundTrip is TestB3_PayloadRoundTrip in one slot format (ll: LL rings).
func testPayloadRoundTrip(t *testing.T, ll bool) {
	sizes := []int{0, 1, 15, 16, 17, 100, 0, 1000, 4096, 4095, 0, 2048, 4096}
	for _, start := range []uint64{0, nearWrap} {
		a, b := newMemAt(t, Config{Capacity: 16, Staging: 16 << 10, LL: ll}, start)
		dst := make([]Msg, 4)
		sent, got := 0, 0
		for round := range 100 {
			for range 1 + round%5 {
				tk, p := withPayload(sent, sizes[sent%len(sizes)])
				if err := a.tx.Stage(&tk, p); err != nil {
					if !errors.Is(err, ErrFull) {
						t.Fatalf("Stage %d: %v", sent, err)
					}
					break
				}
				if len(p) > 0 {
					p[0]++ // the sender's buffer is not shared: changing it now changes nothing
				}
				sent++
			}
			a.tx.Publish()
			for {
				n, err := b.rx.Peek(dst)
				if err != nil {
					t.Fatalf("Peek: %v", err)
				}
				if n == 0 {
					break
				}
				for _, m := range dst[:n] {
					want, wp := withPayload(got, sizes[got%len(sizes)])
					if m.Task != want {
						t.Fatalf("task %d: got %+v, want %+v", got, m.Task, want)
					}
					if !bytes.Equal(m.Payload, wp) || (len(wp) == 0) != (m.Payload == nil) {
						t.Fatalf("task %d: payload of %d bytes differs", got, len(wp))
					}
					if len(wp) > 0 && (base(m.Payload)-base(b.rx.v.stage))%StageAlign != 0 {
						t.Fatalf("task %d: payload not %d-aligned in staging", got, StageAlign)
					}
					got++
				}
				b.rx.Release()
			}
		}
		if got != sent || sent < 250 {
			t.Fatalf("start %d: sent %d, received %d", start, sent, got)
		}
	}
}

// TestB3_StagingExhaustion: when the staging area is full, Stage refuses with
// ErrStagingFull (an ErrFull, CHAN_FULL), stages nothing — neither slot nor
// bytes — and succeeds once the receiver releases; a payload that can never fit
// and a payload whose length disagrees with the task are refused clearly.
func TestB3_StagingExhaustion(t *testing.T) { forModes(t, testStagingExhaustion) }

// testStagingExhaustion is TestB3_StagingExhaustion in one slot format (ll: LL rings).
func testStagingExhaustion(t *testing.T, ll bool) {
	a, b := newMem(t, Config{Capacity: 64, Staging: 16 << 10, LL: ll}) // four 4 KiB payloads
	var pending [][]byte
	for i := range 4 {
		tk, p := withPayload(i, 4096)
		if err := a.tx.Stage(&tk, p); err != nil {
			t.Fatalf("Stage %d: %v", i, err)
		}
		pending = append(pending, p)
	}
	tk, p := withPayload(4, 4096)
	err := a.tx.Stage(&tk, p)
	if !errors.Is(err, ErrStagingFull) || !errors.Is(err, ErrFull) || !errors.Is(err, task.ErrChanFull) {
		t.Fatalf("Stage into full staging = %v, want ErrStagingFull", err)
	}
	small := inline(99) // inline tasks still fit: they need no staging
	if err := a.tx.Stage(&small, nil); err != nil {
		t.Fatalf("inline Stage with full staging: %v", err)
	}
	if a.tx.Staged() != 5 {
		t.Fatalf("staged %d, want 5 (the refused task left no trace)", a.tx.Staged())
	}
	big := task.Task{PayloadLen: 8<<10 + 1}
	if err := a.tx.Stage(&big, make([]byte, big.PayloadLen)); !errors.Is(err, ErrPayloadTooLarge) {
		t.Fatalf("oversized payload: %v, want ErrPayloadTooLarge", err)
	}
	bad := task.Task{PayloadLen: 10}
	if err := a.tx.Stage(&bad, make([]byte, 3)); !errors.Is(err, ErrPayloadMismatch) {
		t.Fatalf("len mismatch: %v, want ErrPayloadMismatch", err)
	}
	a.tx.Publish()

	dst := make([]Msg, 2)
	n, _ := b.rx.Peek(dst)
	if n != 2 || !bytes.Equal(dst[0].Payload, pending[0]) || !bytes.Equal(dst[1].Payload, pending[1]) {
		t.Fatalf("Peek = %d or payloads differ", n)
	}
	b.rx.Release()
	if err := a.tx.Stage(&tk, p); err != nil {
		t.Fatalf("Stage after release: %v", err)
	}
	a.tx.Publish()
	var got []uint64
	for {
		n, _ := b.rx.Peek(dst)
		if n == 0 {
			break
		}
		for _, m := range dst[:n] {
			got = append(got, m.Task.Meta0)
			if m.Task.Meta0 != 99 {
				_, wp := withPayload(int(m.Task.Meta0), 4096)
				if !bytes.Equal(m.Payload, wp) {
					t.Fatalf("payload of task %d differs", m.Task.Meta0)
				}
			}
		}
		b.rx.Release()
	}
	if want := []uint64{2, 3, 99, 4}; len(got) != 4 || got[0] != want[0] || got[2] != want[2] || got[3] != want[3] {
		t.Fatalf("received %v, want %v", got, want)
	}
}

// TestB3_CorruptSlotRefused: a slot whose payload reaches outside the staging
// area (a broken or hostile peer) is reported as ErrCorrupt, never sliced.
func TestB3_CorruptSlotRefused(t *testing.T) {
	a, b := newMem(t, Config{Capacity: 8, Staging: 1024})
	tk, p := withPayload(0, 100)
	a.tx.Stage(&tk, p)
	a.tx.slotAt(0).stagePos = 1024 - 50 // 100 bytes from here run past the end
	a.tx.Publish()
	if n, err := b.rx.Peek(make([]Msg, 4)); n != 0 || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Peek of a corrupt slot = %d, %v; want ErrCorrupt", n, err)
	}
}

// slotAt returns the slot at ring position pos (tests only).
func (p *producer) slotAt(pos uint64) *slot { return &p.v.slots[pos&p.v.mask] }

// TestB3_PayloadByReference: a RefSender stages a slot whose payload stays
// at a device-visible address (no staging used, task.PayloadRef set); a Go
// receiver, which cannot read another memory, reports ErrCorrupt rather
// than slicing anything. A reference without bytes is refused at once.
func TestB3_PayloadByReference(t *testing.T) { forModes(t, testPayloadByReference) }

// testPayloadByReference is TestB3_PayloadByReference in one slot format (ll: LL rings).
func testPayloadByReference(t *testing.T, ll bool) {
	a, b := newMem(t, Config{Capacity: 8, Staging: 1024, LL: ll})
	var rs RefSender = a.tx
	if err := rs.StageRef(&task.Task{Type: 1}, 0x1000); !errors.Is(err, ErrPayloadMismatch) {
		t.Fatalf("StageRef without a length = %v, want ErrPayloadMismatch", err)
	}
	if err := rs.StageRef(&task.Task{Type: 1, PayloadLen: 4096}, 0x7f0000001000); err != nil {
		t.Fatal(err)
	}
	s := a.tx.slotView(0)
	if s.task.Flags&task.PayloadRef == 0 || s.stagePos != 0x7f0000001000 || a.tx.stail != 0 {
		t.Fatalf("slot flags %#x stage_pos %#x, staging tail %d: want PayloadRef, the address, no staging",
			s.task.Flags, s.stagePos, a.tx.stail)
	}
	a.tx.Publish()
	if n, err := b.rx.Peek(make([]Msg, 4)); n != 0 || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Peek of a by-reference slot = %d, %v; want ErrCorrupt", n, err)
	}
}

// TestB3_PayloadInPlace: StageDev names a payload already in the receiving
// device's arena (task.PayloadDev, the offset in place of a staging
// position); a Go receiver refuses it as ErrCorrupt.
func TestB3_PayloadInPlace(t *testing.T) { forModes(t, testPayloadInPlace) }

// testPayloadInPlace is TestB3_PayloadInPlace in one slot format (ll: LL rings).
func testPayloadInPlace(t *testing.T, ll bool) {
	a, b := newMem(t, Config{Capacity: 8, Staging: 1024, LL: ll})
	if err := a.tx.StageDev(&task.Task{Type: 1}, 4096); !errors.Is(err, ErrPayloadMismatch) {
		t.Fatalf("StageDev without a length = %v, want ErrPayloadMismatch", err)
	}
	if err := a.tx.StageDev(&task.Task{Type: 1, PayloadLen: 100}, 1<<20); err != nil {
		t.Fatal(err)
	}
	if s := a.tx.slotView(0); s.task.Flags&task.PayloadDev == 0 || s.task.Flags&task.PayloadRef != 0 || s.stagePos != 1<<20 {
		t.Fatalf("slot flags %#x stage_pos %#x: want PayloadDev alone and the offset", s.task.Flags, s.stagePos)
	}
	a.tx.Publish()
	if n, err := b.rx.Peek(make([]Msg, 4)); n != 0 || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Peek of an in-place slot = %d, %v; want ErrCorrupt", n, err)
	}
}
