//go:build !race

package alloc

import "testing"

// [A2][A3] No Go heap allocation per Alloc, Bytes, Retain, AddRefs, Release, Bump,
// BumpReset or slab operation (DESIGN.md "Performance rules"), including the
// counted failure paths. The race detector changes allocation behaviour, hence
// the build tag.
func TestA3_ZeroAllocs(t *testing.T) {
	a := newTestArena(t, Config{Size: 1 << 20})
	s := a.Slab(0)
	cases := []struct {
		name string
		fn   func()
	}{
		{"block", func() {
			h, _, _ := a.Alloc(0, 100)
			_, _ = a.Bytes(h, 100)
			_ = a.Retain(h)
			_ = a.AddRefs(h, 3)
			for range 5 {
				_ = a.Release(h)
			}
		}},
		{"block fail", func() { _, _, _ = a.Alloc(0, MaxBlock+1) }},
		{"bump", func() {
			_, _ = a.Bump(0, 24)
			a.BumpReset(0)
		}},
		{"bump fail", func() { _, _ = a.Bump(0, 1<<30) }},
		{"slab", func() {
			i, _ := s.Alloc()
			_ = s.Node(i)
			s.Free(i)
		}},
		{"stats", func() { _ = a.Stats(0); _ = a.Live() }},
	}
	for _, c := range cases {
		if n := testing.AllocsPerRun(1000, c.fn); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", c.name, n)
		}
	}
	if a.Live() != 0 {
		t.Fatalf("Live() = %d", a.Live())
	}
}
