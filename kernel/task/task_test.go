package task

import (
	"errors"
	"testing"
	"unsafe"
)

// TestT1_Layout pins the [T1] ABI: size, alignment and every field offset.
func TestT1_Layout(t *testing.T) {
	var x Task
	if s := unsafe.Sizeof(x); s != Size {
		t.Fatalf("sizeof(Task) = %d, want %d", s, Size)
	}
	if a := unsafe.Alignof(x); a != 8 {
		t.Fatalf("alignof(Task) = %d, want 8 (16 in C; shared slots are allocated 16-aligned)", a)
	}
	offs := []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"type", unsafe.Offsetof(x.Type), 0},
		{"flags", unsafe.Offsetof(x.Flags), 4},
		{"tenant", unsafe.Offsetof(x.Tenant), 6},
		{"channel", unsafe.Offsetof(x.Channel), 8},
		{"seq", unsafe.Offsetof(x.Seq), 12},
		{"payload", unsafe.Offsetof(x.Payload), 16},
		{"payload_len", unsafe.Offsetof(x.PayloadLen), 24},
		{"yield_count", unsafe.Offsetof(x.YieldCount), 28},
		{"_pad", unsafe.Offsetof(x.Aux), 30},
		{"meta0", unsafe.Offsetof(x.Meta0), 32},
		{"meta1", unsafe.Offsetof(x.Meta1), 40},
	}
	for _, o := range offs {
		if o.got != o.want {
			t.Errorf("offsetof(%s) = %d, want %d", o.name, o.got, o.want)
		}
	}
}

// TestT2_Flags checks priority packing and that flags do not overlap [T2].
func TestT2_Flags(t *testing.T) {
	var x Task
	for p := 0; p < NumPriorities; p++ {
		x.Flags = Deterministic | EmitTrace
		x.SetPriority(p)
		if x.Priority() != p || x.Flags&(Deterministic|EmitTrace) != Deterministic|EmitTrace {
			t.Fatalf("priority %d: flags %#x", p, x.Flags)
		}
	}
	all := []Flags{Deterministic, Idempotent, EmitTrace, ChannelMsg, Redelivered}
	seen := PriorityMask
	for _, f := range all {
		if seen&f != 0 {
			t.Fatalf("flag %#x overlaps", f)
		}
		seen |= f
	}
	x.SetChannel(0xABCDEF, 31)
	if x.ChannelID() != 0xABCDEF || x.Subscriber() != 31 {
		t.Fatalf("channel packing: id %#x sub %d", x.ChannelID(), x.Subscriber())
	}
}

// [T4] TestT4_Codes pins the stable numeric codes and their error values.
func TestT4_Codes(t *testing.T) {
	want := map[Status]int32{OK: 0, Retry: 1, Fail: -1, ChanFull: -100, ChanClosed: -101,
		ChanTypeMismatch: -102, ChanAlreadyBound: -103, AllocFail: -200}
	for s, v := range want {
		if int32(s) != v {
			t.Errorf("%v = %d, want %d", s, int32(s), v)
		}
	}
	if OK.Err() != nil {
		t.Fatal("OK.Err() != nil")
	}
	if !errors.Is(ChanFull.Err(), ErrChanFull) || !errors.Is(FailCode(-42).Err(), ErrFail) {
		t.Fatal("errors.Is mapping broken")
	}
	if FailCode(-42).String() != "FAIL(-42)" || FailCode(5) != Fail {
		t.Fatalf("FailCode: %v %v", FailCode(-42), FailCode(5))
	}
}
