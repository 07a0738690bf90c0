package alloc

import (
	"sync"
	"testing"
)

// sink keeps the baselines' allocations from being optimised away.
var sink []byte

// BenchmarkBaselineMake64 is the Go-heap baseline: what a 64-byte payload costs
// without the arena (plus the GC work it causes later).
func BenchmarkBaselineMake64(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sink = make([]byte, 64)
	}
}

// BenchmarkBaselineSyncPool64 is the pooled baseline, single goroutine.
func BenchmarkBaselineSyncPool64(b *testing.B) {
	p := sync.Pool{New: func() any { return new([64]byte) }}
	b.ReportAllocs()
	for b.Loop() {
		p.Put(p.Get())
	}
}

// BenchmarkAllocRelease64 is one Alloc and its Release of a 64-byte block, on one
// goroutine.
func BenchmarkAllocRelease64(b *testing.B) {
	a := newTestArena(b, Config{})
	b.ReportAllocs()
	for b.Loop() {
		h, _, err := a.Alloc(0, 64)
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Release(h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAllocRelease64Parallel is Alloc+Release of 64-byte blocks from
// GOMAXPROCS goroutines on one tenant's bin: the contended case.
func BenchmarkAllocRelease64Parallel(b *testing.B) {
	a := newTestArena(b, Config{})
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h, _, err := a.Alloc(0, 64)
			if err != nil {
				b.Error(err)
				return
			}
			if err := a.Release(h); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkBaselineSyncPool64Parallel is the pooled baseline, contended.
func BenchmarkBaselineSyncPool64Parallel(b *testing.B) {
	p := sync.Pool{New: func() any { return new([64]byte) }}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Put(p.Get())
		}
	})
}

// BenchmarkRetainRelease is a fan-out reference pair on a live block.
func BenchmarkRetainRelease(b *testing.B) {
	a := newTestArena(b, Config{})
	h, _, _ := a.Alloc(0, 64)
	b.ReportAllocs()
	for b.Loop() {
		_ = a.Retain(h)
		_ = a.Release(h)
	}
}

// BenchmarkBump is one 32-byte bump allocation; the region is reset when full.
func BenchmarkBump(b *testing.B) {
	a := newTestArena(b, Config{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Bump(0, 32); err != nil {
			a.BumpReset(0)
		}
	}
}

// BenchmarkSlab is one slab Alloc and Free.
func BenchmarkSlab(b *testing.B) {
	a := newTestArena(b, Config{})
	s := a.Slab(0)
	b.ReportAllocs()
	for b.Loop() {
		i, ok := s.Alloc()
		if !ok {
			b.Fatal("slab exhausted")
		}
		s.Free(i)
	}
}

// BenchmarkSlabParallel is slab Alloc+Free from GOMAXPROCS goroutines.
func BenchmarkSlabParallel(b *testing.B) {
	a := newTestArena(b, Config{})
	s := a.Slab(0)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if i, ok := s.Alloc(); ok {
				s.Free(i)
			}
		}
	})
}
