package alloc

import (
	"testing"
)

// [A2] The slab hands out every object once, reports exhaustion as a counted
// failure, and takes objects back.
func TestA2_Slab(t *testing.T) {
	a := newTestArena(t, Config{Size: MinSize, SlabObject: 48})
	s := a.Slab(0)
	if s.ObjectSize() != 48 || s.Len() == 0 {
		t.Fatalf("slab of %d objects of %d bytes", s.Len(), s.ObjectSize())
	}
	seen := make(map[uint32]bool)
	for range s.Len() {
		i, ok := s.Alloc()
		if !ok || seen[i] || int(i) >= s.Len() {
			t.Fatalf("Alloc = %d, %v (seen %v)", i, ok, seen[i])
		}
		seen[i] = true
		node := s.Node(i)
		if len(node) != 48 || cap(node) != 48 {
			t.Fatalf("Node(%d) len %d cap %d", i, len(node), cap(node))
		}
		node[0], node[47] = byte(i), byte(i>>8)
	}
	if _, ok := s.Alloc(); ok {
		t.Fatal("Alloc succeeded on an exhausted slab")
	}
	for i := range seen {
		if n := s.Node(i); n[0] != byte(i) || n[47] != byte(i>>8) {
			t.Fatalf("object %d overwritten", i)
		}
		s.Free(i)
	}
	st := a.Stats(0).Slab
	want := KindStats{Total: uint64(48 * s.Len()), Free: uint64(48 * s.Len()), HighWater: uint64(48 * s.Len()),
		Allocs: uint64(s.Len()), Frees: uint64(s.Len()), Fails: 1}
	if st != want {
		t.Fatalf("slab stats %+v, want %+v", st, want)
	}
}

// [A5] A double free or a bad index is counted as misuse and changes nothing.
func TestA5_SlabMisuse(t *testing.T) {
	a := newTestArena(t, Config{Size: MinSize})
	s := a.Slab(0)
	i, _ := s.Alloc()
	s.Free(i)
	s.Free(i)               // double free
	s.Free(uint32(s.Len())) // out of range
	st := a.Stats(0).Slab
	if st.Misuse != 2 || st.Frees != 1 || st.Free != st.Total {
		t.Fatalf("slab stats %+v, want 2 misuses and 1 free", st)
	}
	for range s.Len() { // the double free did not put i on the free ring twice
		if _, ok := s.Alloc(); !ok {
			t.Fatal("slab lost an object")
		}
	}
	if _, ok := s.Alloc(); ok {
		t.Fatal("slab handed out an object twice")
	}
}
