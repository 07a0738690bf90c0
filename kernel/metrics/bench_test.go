package metrics

import (
	"sync/atomic"
	"testing"
)

// BenchmarkCounterAdd compares the per-task counter update of one worker: a
// shared atomic add (the baseline the design forbids on the hot path) against
// Shard.Add with one Flush per 32-task batch, as the worker loop does.
func BenchmarkCounterAdd(b *testing.B) {
	const batch = 32
	b.Run("atomic", func(b *testing.B) {
		b.ReportAllocs()
		var c [8]atomic.Uint64
		for i := range b.N {
			c[i&7].Add(1)
		}
	})
	b.Run("shard", func(b *testing.B) {
		b.ReportAllocs()
		sh := NewSet(8, 1).Shard(0)
		for i := range b.N {
			sh.Add(i&7, 1)
			if i%batch == batch-1 {
				sh.Flush()
			}
		}
	})
	// Two goroutines updating the same counters: the cross-core cost the shards avoid.
	b.Run("atomic-parallel", func(b *testing.B) {
		b.ReportAllocs()
		var c [8]atomic.Uint64
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				c[i&7].Add(1)
				i++
			}
		})
	})
	b.Run("shard-parallel", func(b *testing.B) {
		b.ReportAllocs()
		s := NewSet(8, 64)
		var next atomic.Int32
		b.RunParallel(func(pb *testing.PB) {
			sh := s.Shard(int(next.Add(1)-1) % 64)
			i := 0
			for pb.Next() {
				sh.Add(i&7, 1)
				i++
				if i%batch == 0 {
					sh.Flush()
				}
			}
			sh.Flush()
		})
	})
}

// BenchmarkShardAdd is one Shard.Add on an already dirty counter.
func BenchmarkShardAdd(b *testing.B) {
	b.ReportAllocs()
	sh := NewSet(8, 1).Shard(0)
	for i := range b.N {
		sh.Add(i&7, 1)
	}
}

// BenchmarkShardFlush flushes 8 dirty counters.
func BenchmarkShardFlush(b *testing.B) {
	b.ReportAllocs()
	sh := NewSet(8, 1).Shard(0)
	for range b.N {
		for idx := range 8 {
			sh.Add(idx, 1)
		}
		sh.Flush()
	}
}

func BenchmarkSetValue(b *testing.B) {
	b.ReportAllocs()
	s := NewSet(8, 16)
	var sink uint64
	for i := range b.N {
		sink += s.Value(i & 7)
	}
	sinkU64 = sink
}

func BenchmarkHistogramObserve(b *testing.B) {
	b.ReportAllocs()
	var h Histogram
	for i := range b.N {
		h.Observe(uint64(i))
	}
}

var sinkU64 uint64
