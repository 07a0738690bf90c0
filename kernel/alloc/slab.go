package alloc

import (
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel/ring"
)

// Slab is one tenant's task slab ([A2]): fixed-size objects (task nodes, events)
// named by a uint32 index. All methods are safe for concurrent use.
//
// An index is either on the free ring or owned by the goroutine whose Alloc
// returned it; the used bitmap mirrors that (bit set while owned) so that a double
// free is caught while the object is still free. Unlike payload handles, indices
// carry no generation: a second Free that comes after the object was allocated
// again cannot be told from the new owner's Free. The slab is meant for the
// kernel's own nodes, whose lifetimes the kernel controls; payloads that travel
// between modules are blocks with handles.
type Slab struct {
	_ noCopy

	// Written once by init, read by everyone.
	obj  int                // object size in bytes, a multiple of 16
	n    int                // number of objects
	mem  []byte             // n*obj bytes; object i is mem[i*obj:(i+1)*obj]
	free *ring.MPMC[uint32] // free indices; nil when n == 0
	// used has bit i set while object i is allocated. Set with Or by the Alloc
	// that popped i, cleared with And by the Free that pushes it back; the old
	// value each returns tells whether the bit really changed.
	used []atomic.Uint64

	_ [cacheLinePad]byte
	c counters // objects
	_ [cacheLinePad]byte
}

// init carves region into objects of obj bytes; any remainder stays unused.
func (s *Slab) init(region []byte, obj int) {
	s.obj = obj
	s.n = len(region) / obj
	s.mem = region[: s.n*obj : s.n*obj]
	s.free = newFreeRing(s.n)
	s.used = make([]atomic.Uint64, (s.n+63)/64)
}

// Len returns the number of objects of the slab.
func (s *Slab) Len() int { return s.n }

// ObjectSize returns the size of an object in bytes.
func (s *Slab) ObjectSize() int { return s.obj }

// Alloc takes a free object and returns its index; false, counted as a Fail, when
// the slab is exhausted. The object's bytes are whatever its last owner left.
func (s *Slab) Alloc() (uint32, bool) {
	i, ok := takeIndex(s.free)
	if !ok {
		s.c.fails.Add(1)
		return 0, false
	}
	word, bit := &s.used[i/64], uint64(1)<<(i%64)
	if word.Or(bit)&bit != 0 {
		panic("alloc: broken invariant: a slab object on the free ring is in use")
	}
	s.c.onAlloc()
	return i, true
}

// Free returns object idx to the slab. An index out of range, or one that is
// already free (a double free), changes nothing and is counted as Misuse.
func (s *Slab) Free(idx uint32) {
	if int64(idx) >= int64(s.n) {
		s.c.misuse.Add(1)
		return
	}
	word, bit := &s.used[idx/64], uint64(1)<<(idx%64)
	if word.And(^bit)&bit == 0 {
		s.c.misuse.Add(1) // was not in use: double free
		return
	}
	s.c.onFree()
	putIndex(s.free, idx) // publishes the object's bytes to the next Alloc
}

// Node returns object idx's bytes: ObjectSize() bytes, 16-byte aligned, capacity
// cut at the object's end. It panics for idx >= Len(), like an index expression.
func (s *Slab) Node(idx uint32) []byte {
	off := int(idx) * s.obj
	return s.mem[off : off+s.obj : off+s.obj]
}
