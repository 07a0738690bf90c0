package metrics

import (
	"math/bits"
	"sync/atomic"
)

// NumBuckets is the number of buckets of a Histogram: bucket 0 holds the value
// 0 and bucket i (1..64) the values in [2^(i-1), 2^i).
const NumBuckets = 65

// Histogram counts uint64 observations (durations in nanoseconds, sizes in
// bytes) in log2 buckets ([O1]: tick duration, handler time). Observe costs two
// atomic adds and may be called by any goroutine; like a Gauge it suits values
// observed per tick or per batch rather than per task. The zero Histogram is
// ready to use.
type Histogram struct {
	buckets [NumBuckets]atomic.Uint64 // Observe adds, Snapshot loads; any goroutine
	sum     atomic.Uint64             // sum of observed values, modulo 2^64
}

// HistogramSnapshot is a copy of a Histogram's state.
type HistogramSnapshot struct {
	Buckets [NumBuckets]uint64 // per-bucket counts (not cumulative)
	Count   uint64             // sum of Buckets
	Sum     uint64             // sum of the observed values, modulo 2^64
}

// Bucket returns the index of the bucket that holds v.
func Bucket(v uint64) int { return bits.Len64(v) }

// BucketUpper returns the largest value bucket i holds: 0, 1, 3, 7, … 2^i-1.
func BucketUpper(i int) uint64 {
	if i >= 64 {
		return ^uint64(0)
	}
	return 1<<uint(i) - 1
}

// Observe records one value.
func (h *Histogram) Observe(v uint64) {
	h.buckets[Bucket(v)].Add(1)
	h.sum.Add(v)
}

// Snapshot returns the current counts. Observations that run concurrently may
// be in some buckets and not yet in Sum, or the reverse; Count always equals the
// sum of Buckets.
func (h *Histogram) Snapshot() HistogramSnapshot {
	var s HistogramSnapshot
	for i := range h.buckets {
		s.Buckets[i] = h.buckets[i].Load()
		s.Count += s.Buckets[i]
	}
	s.Sum = h.sum.Load()
	return s
}

// Quantile returns an upper bound of the q-quantile (0 <= q <= 1): the largest
// value of the bucket in which the cumulative count reaches q·Count, so the
// estimate is at most twice the true value. It returns 0 for an empty snapshot.
func (s *HistogramSnapshot) Quantile(q float64) uint64 {
	if s.Count == 0 {
		return 0
	}
	rank := uint64(q * float64(s.Count))
	rank = max(rank, 1)
	var cum uint64
	for i, n := range s.Buckets {
		cum += n
		if cum >= rank {
			return BucketUpper(i)
		}
	}
	return BucketUpper(NumBuckets - 1)
}
