package trace

import (
	"reflect"
	"testing"
	"unsafe"
)

// [O2] The record is a fixed-size, pointer-free 32-byte value whose layout is the
// ABI shared with GPU trace records: size, alignment and offsets are pinned.
func TestO2_RecordLayout(t *testing.T) {
	var r Record
	if got := unsafe.Sizeof(r); got != RecordSize {
		t.Fatalf("Sizeof(Record) = %d, want %d", got, RecordSize)
	}
	if got := unsafe.Alignof(r); got != recordAlign {
		t.Fatalf("Alignof(Record) = %d, want %d", got, recordAlign)
	}
	offsets := []struct {
		field string
		got   uintptr
		want  uintptr
	}{
		{"TS", unsafe.Offsetof(r.TS), 0},
		{"Type", unsafe.Offsetof(r.Type), 8},
		{"Tenant", unsafe.Offsetof(r.Tenant), 12},
		{"Event", unsafe.Offsetof(r.Event), 14},
		{"Flags", unsafe.Offsetof(r.Flags), 15},
		{"Arg0", unsafe.Offsetof(r.Arg0), 16},
		{"Arg1", unsafe.Offsetof(r.Arg1), 24},
	}
	for _, o := range offsets {
		if o.got != o.want {
			t.Errorf("Offsetof(Record.%s) = %d, want %d", o.field, o.got, o.want)
		}
	}
	typ := reflect.TypeFor[Record]()
	if typ.NumField() != len(offsets) {
		t.Errorf("Record has %d fields, the test pins %d", typ.NumField(), len(offsets))
	}
	for i := range typ.NumField() {
		switch typ.Field(i).Type.Kind() {
		case reflect.Int64, reflect.Uint64, reflect.Uint32, reflect.Uint16, reflect.Uint8:
		default:
			t.Errorf("Record.%s is a %s, want a plain integer", typ.Field(i).Name, typ.Field(i).Type)
		}
	}
}

// RingBytes gives a ring of exactly the asked capacity at any alignment of mem.
func TestO2_RingBytes(t *testing.T) {
	for _, capacity := range []int{2, 64, 1024} {
		buf := make([]byte, RingBytes(capacity)+recordAlign)
		for skew := range recordAlign {
			mem := buf[skew : skew+RingBytes(capacity)]
			if got := NewWriter(0, mem, 1, 1).Cap(); got != capacity {
				t.Errorf("capacity %d, skew %d: Cap() = %d", capacity, skew, got)
			}
		}
	}
}

// The Writer keeps what the drainer reads, what the worker writes per task and
// the lost counter on separate cache lines.
func TestO2_WriterPadding(t *testing.T) {
	var w Writer
	if unsafe.Offsetof(w.rng)-unsafe.Offsetof(w.threshold) < 64 ||
		unsafe.Offsetof(w.lost)-unsafe.Offsetof(w.lostLocal) < 64 ||
		unsafe.Sizeof(w)%cacheLinePad != 0 {
		t.Errorf("Writer layout: rng at %d, lost at %d, size %d",
			unsafe.Offsetof(w.rng), unsafe.Offsetof(w.lost), unsafe.Sizeof(w))
	}
}
