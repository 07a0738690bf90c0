package ring

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"github.com/gmkernel/gmk/kernel/task"
)

// [R1] NewSPSCIn keeps its cells in the caller's region: pushed tasks are bytes
// of that region, the capacity is the largest power of two that fits after
// alignment, and the ring works from any start offset.
func TestR1_SPSCInRegion(t *testing.T) {
	region := make([]byte, 4096)
	for _, tc := range []struct {
		off, size, wantCap int
	}{
		{0, 2 * task.Size, 2},
		{0, 20 * task.Size, 16},
		{1, 20 * task.Size, 16}, // misaligned start: 7 bytes skipped, 19 fit
		{8, 1000, 16},
		{0, 4096, 64},
	} {
		mem := region[tc.off : tc.off+tc.size]
		clear(mem)
		r := NewSPSCIn[task.Task](mem)
		if r.Cap() != tc.wantCap {
			t.Errorf("off %d size %d: Cap() = %d, want %d", tc.off, tc.size, r.Cap(), tc.wantCap)
			continue
		}
		in := task.Task{Type: 7, Meta0: 0x1122334455667788}
		if !r.Push(&in) {
			t.Fatalf("Push into an empty ring failed")
		}
		if !containsUint64(mem, in.Meta0) {
			t.Errorf("off %d: pushed task not found in the region", tc.off)
		}
		var out task.Task
		if !r.Pop(&out) || out != in {
			t.Errorf("off %d: Pop = %+v, want %+v", tc.off, out, in)
		}
		if end := uintptr(unsafe.Pointer(&r.cells[r.Cap()-1])) + task.Size; end > uintptr(unsafe.Pointer(unsafe.SliceData(mem)))+uintptr(len(mem)) {
			t.Errorf("off %d: cells run past the region", tc.off)
		}
	}
}

// [R1] NewSPSCIn refuses a region without room for 2 cells, zero-sized
// elements, and elements the garbage collector would have to scan.
func TestR1_SPSCInPanics(t *testing.T) {
	mustPanic(t, "nil region", func() { NewSPSCIn[task.Task](nil) })
	mustPanic(t, "region of one task", func() { NewSPSCIn[task.Task](make([]byte, 2*task.Size-1)) })
	mustPanic(t, "zero-sized element", func() { NewSPSCIn[struct{}](make([]byte, 64)) })
	mustPanic(t, "pointer element", func() { NewSPSCIn[*int](make([]byte, 64)) })
	mustPanic(t, "string inside a struct", func() { NewSPSCIn[struct{ a, b string }](make([]byte, 256)) })
	mustPanic(t, "slice inside an array", func() { NewSPSCIn[[2][]byte](make([]byte, 256)) })
	_ = NewSPSCIn[struct {
		a [0]*int
		b uint64
	}](make([]byte, 64)) // zero-length arrays hold nothing: fine
}

func containsUint64(mem []byte, x uint64) bool {
	for i := 0; i+8 <= len(mem); i++ {
		if binary.NativeEndian.Uint64(mem[i:]) == x {
			return true
		}
	}
	return false
}
