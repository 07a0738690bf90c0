package alloc

import (
	"errors"
	"strings"
	"testing"
	"unsafe"
)

// newTestArena builds an arena or fails the test.
func newTestArena(t testing.TB, cfg Config) *Arena {
	t.Helper()
	a, err := NewArena(cfg)
	if err != nil {
		t.Fatalf("NewArena(%+v): %v", cfg, err)
	}
	return a
}

// [A1] Zero fields take the defaults of GMK.md's table.
func TestA1_Defaults(t *testing.T) {
	got := Config{}.WithDefaults()
	want := Config{Size: 64 << 20, TaskSlabPct: 10, TraceSlabPct: 2, BlockPct: 68, BumpPct: 20, Tenants: 1, SlabObject: 64}
	if got != want {
		t.Fatalf("WithDefaults() = %+v, want %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	keep := Config{Size: 1 << 20, Tenants: 3}.WithDefaults()
	if keep.Size != 1<<20 || keep.Tenants != 3 || keep.BlockPct != 68 {
		t.Fatalf("WithDefaults overwrote set fields: %+v", keep)
	}
}

// [A1] The default arena is carved 10/2/68/20 %, each tenant share and bin evenly.
func TestA1_CarveSizes(t *testing.T) {
	for _, tenants := range []int{1, 3} {
		a := newTestArena(t, Config{Tenants: tenants})
		size := 64 << 20
		pct := func(p int) int { return size * p / 100 }
		if got := len(a.TraceRegion()); got != alignDown(pct(2), 64) {
			t.Errorf("trace region %d bytes, want %d", got, alignDown(pct(2), 64))
		}
		var slab, block, bump uint64
		for ti := range tenants {
			s := a.Stats(ti)
			slab += s.Slab.Total
			block += s.Block.Total
			bump += s.Bump.Total
			perBin := alignDown(alignDown(pct(68)/tenants, 64)/NumBins, 64)
			for b, bs := range s.Bins {
				if want := uint64(perBin / BinSize(b) * BinSize(b)); bs.Total != want {
					t.Errorf("tenants=%d: bin %d total %d, want %d", tenants, b, bs.Total, want)
				}
			}
			if s.Slab.Total != s.Slab.Free || s.Block.Total != s.Block.Free || s.Bump.Total != s.Bump.Free {
				t.Errorf("fresh arena not all free: %+v", s)
			}
		}
		// Rounding loses less than an object per tenant region and a block per bin.
		near := func(name string, got uint64, want, slack int) {
			if int(got) > want || int(got) < want-slack {
				t.Errorf("tenants=%d: %s %d bytes, want %d (slack %d)", tenants, name, got, want, slack)
			}
		}
		near("task slab", slab, pct(10), 64+tenants*128)
		near("bump", bump, pct(20), 64+tenants*64)
		near("block", block, pct(68), 64+tenants*(64+NumBins*MaxBlock))
		if got := a.Slab(0).ObjectSize(); got != 64 {
			t.Errorf("slab object %d, want 64", got)
		}
	}
}

// [A1] Every region, slab object and block is 16-byte aligned (C task slots).
func TestA1_Alignment(t *testing.T) {
	a := newTestArena(t, Config{Size: 1 << 20, Tenants: 2, SlabObject: 48})
	aligned := func(name string, b []byte) {
		if p := uintptr(unsafe.Pointer(unsafe.SliceData(b))); p%16 != 0 {
			t.Errorf("%s at %#x is not 16-byte aligned", name, p)
		}
	}
	aligned("trace region", a.TraceRegion())
	for ti := range 2 {
		s := a.Slab(ti)
		for i := range uint32(3) {
			aligned("slab node", s.Node(i))
		}
		for n := 0; n <= MaxBlock; n = n*2 + 1 {
			h, b, err := a.Alloc(ti, n)
			if err != nil {
				continue // a large bin of a small arena may be empty
			}
			aligned("block", b[:cap(b)])
			if err := a.Release(h); err != nil {
				t.Fatal(err)
			}
		}
		b, err := a.Bump(ti, 1)
		if err != nil {
			t.Fatal(err)
		}
		aligned("bump", b)
	}
}

// [A1] Validate names what is wrong; NewArena returns the error, never panics.
func TestA1_ValidateErrors(t *testing.T) {
	ok := Config{}.WithDefaults()
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"size too small", func(c *Config) { c.Size = 1024 }, "size 1024 bytes out of range"},
		{"size negative", func(c *Config) { c.Size = -1 }, "out of range"},
		{"sum above 100", func(c *Config) { c.BumpPct = 30 }, "percentages sum to 110"},
		{"sum below 100", func(c *Config) { c.BlockPct = 60 }, "percentages sum to 92"},
		{"negative pct", func(c *Config) { c.TraceSlabPct = -2; c.BlockPct = 72 }, "trace slab percentage -2"},
		{"zero tenants", func(c *Config) { c.Tenants = 0 }, "0 tenants out of range [1, 256]"},
		{"too many tenants", func(c *Config) { c.Tenants = 257 }, "257 tenants"},
		{"odd slab object", func(c *Config) { c.SlabObject = 40 }, "slab object size 40 must be a multiple of 16"},
		{"tiny slab object", func(c *Config) { c.SlabObject = 8 }, "slab object size 8"},
		{"too small for tenants", func(c *Config) { c.Size = MinSize; c.Tenants = 256 }, "too small for 256 tenants"},
		{"too many slots", func(c *Config) { c.Size = MaxSize }, "28-bit slot field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			err := c.Validate()
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want ErrConfig containing %q", err, tt.want)
			}
			if c.Tenants == 0 {
				return // NewArena applies the default instead
			}
			if a, err := NewArena(c); err == nil || a != nil {
				t.Fatalf("NewArena accepted %+v", c)
			}
		})
	}
	if err := (Config{Size: MinSize, Tenants: 4}).WithDefaults().Validate(); err != nil {
		t.Fatalf("small valid config rejected: %v", err)
	}
}
