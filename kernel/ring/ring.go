package ring

import (
	"math/bits"
	"reflect"
)

// cacheLinePad separates the producer index from the consumer index so that the
// two sides never write the same cache line. It is 128, not 64: x86 CPUs fetch
// lines in adjacent pairs (the spatial prefetcher), so two indices 64 bytes apart
// still ping-pong between cores; several arm64 cores (Apple M-series, Neoverse
// with 128-byte lines) need 128 anyway. The cost is a few hundred bytes per ring.
const cacheLinePad = 128

// minCapacity is the smallest ring. The MPMC protocol needs two cells: with one,
// a pushed cell's sequence (pos+1) equals the sequence that marks it free for the
// next lap, and a second producer would overwrite an unread value.
const minCapacity = 2

// maxCapacity bounds the rounding so that it cannot overflow an int.
const maxCapacity = 1 << (bits.UintSize - 2)

// noCopy makes `go vet` (copylocks) report a ring copied by value: a copy would
// share the cells but not the indices. See sync.noCopy.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// roundCapacity returns capacity rounded up to a power of two, at least
// minCapacity. A negative or too large capacity is a caller bug and panics, as
// make does.
func roundCapacity(capacity int) int {
	if capacity < 0 || capacity > maxCapacity {
		panic("ring: capacity out of range")
	}
	if capacity <= minCapacity {
		return minCapacity
	}
	return 1 << bits.Len(uint(capacity-1))
}

// hasPointers reports whether values of type t hold Go pointers (pointers,
// strings, slices, maps, channels, functions, interfaces), at any depth. It runs
// once per ring, at construction.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	case reflect.Pointer, reflect.UnsafePointer, reflect.String, reflect.Slice,
		reflect.Map, reflect.Chan, reflect.Func, reflect.Interface:
		return true
	default: // bool, numbers, complex numbers
		return false
	}
}

// bitLen returns the number of bits needed to represent n.
func bitLen(n uintptr) int { return bits.Len64(uint64(n)) }

// Each calls fn with a pointer to every queued element, oldest first. It is
// for a quiescent ring only — no Push or Pop may run meanwhile (a kernel
// snapshot stops every producer and consumer first); fn may change the
// elements in place.
func (r *MPMC[T]) Each(fn func(*T)) {
	for p := r.head.Load(); p != r.tail.Load(); p++ {
		fn(&r.cells[p&r.mask].val)
	}
}

// Each calls fn with a pointer to every queued element, oldest first; for a
// quiescent ring only (see MPMC.Each).
func (r *MPSC[T]) Each(fn func(*T)) {
	for p := r.head.Load(); p != r.tail.Load(); p++ {
		fn(&r.vals[p&r.mask])
	}
}
