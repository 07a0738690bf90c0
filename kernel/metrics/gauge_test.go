package metrics

import (
	"sync"
	"testing"
)

// [O1] High watermarks: concurrent Max calls leave the largest value.
func TestO1_GaugeMaxConcurrent(t *testing.T) {
	var g Gauge
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				g.Max(int64(i*4 + w))
			}
		})
	}
	wg.Wait()
	if g.Load() != 3999 {
		t.Fatalf("watermark = %d, want 3999", g.Load())
	}
	if g.Max(10) {
		t.Error("Max(10) raised a gauge at 3999")
	}
	if g.Reset() != 3999 || g.Load() != 0 {
		t.Error("Reset did not return the watermark and clear it")
	}
	g.Set(5)
	if g.Add(-7) != -2 {
		t.Errorf("Add(-7) from 5 = %d", g.Load())
	}
}

// [O1] Values land in log2 buckets; Count, Sum and quantile bounds follow.
func TestO1_HistogramBuckets(t *testing.T) {
	for _, tc := range []struct {
		v      uint64
		bucket int
	}{{0, 0}, {1, 1}, {2, 2}, {3, 2}, {4, 3}, {1023, 10}, {1024, 11}, {1 << 63, 64}, {^uint64(0), 64}} {
		if got := Bucket(tc.v); got != tc.bucket {
			t.Errorf("Bucket(%d) = %d, want %d", tc.v, got, tc.bucket)
		}
		if tc.v > BucketUpper(tc.bucket) || tc.bucket > 0 && tc.v <= BucketUpper(tc.bucket-1) {
			t.Errorf("%d is not within bucket %d's bounds", tc.v, tc.bucket)
		}
	}
	var h Histogram
	for _, v := range []uint64{0, 1, 5, 6, 7, 1000} {
		h.Observe(v)
	}
	s := h.Snapshot()
	want := map[int]uint64{0: 1, 1: 1, 3: 3, 10: 1}
	for i, n := range s.Buckets {
		if n != want[i] {
			t.Errorf("bucket %d = %d, want %d", i, n, want[i])
		}
	}
	if s.Count != 6 || s.Sum != 1019 {
		t.Errorf("Count %d Sum %d, want 6, 1019", s.Count, s.Sum)
	}
	for _, q := range []struct {
		q    float64
		want uint64
	}{{0, 0}, {0.5, 7}, {0.9, 7}, {1, 1023}} {
		if got := s.Quantile(q.q); got != q.want {
			t.Errorf("Quantile(%v) = %d, want %d", q.q, got, q.want)
		}
	}
	var empty HistogramSnapshot
	if empty.Quantile(0.5) != 0 {
		t.Error("empty Quantile != 0")
	}
}

// [O1] Concurrent observers lose nothing.
func TestO1_HistogramConcurrent(t *testing.T) {
	var h Histogram
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range uint64(1000) {
				h.Observe(i)
			}
		})
	}
	wg.Wait()
	if s := h.Snapshot(); s.Count != 4000 || s.Sum != 4*999*1000/2 {
		t.Errorf("Count %d Sum %d", s.Count, s.Sum)
	}
}
