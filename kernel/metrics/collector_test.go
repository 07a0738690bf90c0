package metrics

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// Counter indices of the test's set: tasks enqueued per tenant.
const testTenants = 2

func testFamilies(s *Set, depth *Gauge, tick *Histogram) []Family {
	return []Family{
		{
			Name: "tasks_enqueued_total", Help: "Tasks enqueued.", Labels: []string{"tenant"},
			Kind: KindCounter,
			Collect: func(emit func(float64, ...string)) {
				for tenant := range testTenants {
					emit(float64(s.Value(tenant)), strconv.Itoa(tenant))
				}
			},
		},
		{
			Name: "queue_depth_max", Help: "Queue depth high watermark.", Kind: KindGauge,
			Collect: func(emit func(float64, ...string)) { emit(float64(depth.Load())) },
		},
		{
			Name: "tick_duration_seconds", Help: "Tick duration.", Kind: KindHistogram, Scale: 1e-9,
			CollectHistogram: func(emit func(*HistogramSnapshot, ...string)) {
				snap := tick.Snapshot()
				emit(&snap)
			},
		},
	}
}

// [O1] The collector exposes sharded counters, gauges and histograms through a
// real prometheus.Registry.
func TestO1_CollectorGather(t *testing.T) {
	s := NewSet(testTenants, 2)
	s.Shard(0).Add(0, 3)
	s.Shard(1).Add(1, 4)
	s.Shard(0).Flush()
	s.Shard(1).Flush()
	s.AddShared(1, 1)
	var depth Gauge
	depth.Max(17)
	var tick Histogram
	tick.Observe(1500) // bucket 11: le 2047 ns
	tick.Observe(3)    // bucket 2: le 3 ns

	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(NewCollector("gmk", testFamilies(s, &depth, &tick)...)); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP gmk_queue_depth_max Queue depth high watermark.
# TYPE gmk_queue_depth_max gauge
gmk_queue_depth_max 17
# HELP gmk_tasks_enqueued_total Tasks enqueued.
# TYPE gmk_tasks_enqueued_total counter
gmk_tasks_enqueued_total{tenant="0"} 3
gmk_tasks_enqueued_total{tenant="1"} 5
`
	err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"gmk_tasks_enqueued_total", "gmk_queue_depth_max")
	if err != nil {
		t.Error(err)
	}

	checkTickHistogram(t, reg)
}

// checkTickHistogram checks the histogram of TestO1_CollectorGather: 3 ns and
// 1500 ns observed, exposed in seconds with cumulative log2 buckets.
func checkTickHistogram(t *testing.T, reg *prometheus.Registry) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(mfs, func(mf *dto.MetricFamily) bool { return mf.GetName() == "gmk_tick_duration_seconds" })
	if i < 0 {
		t.Fatal("no gmk_tick_duration_seconds family")
	}
	h := mfs[i].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 2 || h.GetSampleSum() != 1503e-9 {
		t.Errorf("count %d sum %g, want 2, 1.503e-6", h.GetSampleCount(), h.GetSampleSum())
	}
	if len(h.GetBucket()) != promBuckets {
		t.Fatalf("%d buckets, want %d", len(h.GetBucket()), promBuckets)
	}
	for i, b := range h.GetBucket() {
		want := uint64(0)
		switch {
		case i >= 11: // 1500 <= 2047
			want = 2
		case i >= 2: // 3 <= 3
			want = 1
		}
		le := float64(BucketUpper(i)) * 1e-9
		if b.GetCumulativeCount() != want || b.GetUpperBound() != le {
			t.Errorf("bucket %d: le %g count %d, want le %g count %d",
				i, b.GetUpperBound(), b.GetCumulativeCount(), le, want)
		}
	}
}

// Invalid families fail registration with ErrFamily; a series with the wrong
// number of label values fails Gather instead of panicking.
func TestO1_CollectorErrors(t *testing.T) {
	for _, f := range []Family{
		{Name: "a", Kind: KindCounter},
		{Name: "b", Kind: KindHistogram, Collect: func(func(float64, ...string)) {}},
		{Name: "c", Kind: Kind(9), Collect: func(func(float64, ...string)) {}},
	} {
		err := prometheus.NewRegistry().Register(NewCollector("gmk", f))
		if !errors.Is(err, ErrFamily) {
			t.Errorf("family %s: Register error %v, want ErrFamily", f.Name, err)
		}
	}
	bad := Family{Name: "d", Labels: []string{"tenant"}, Kind: KindGauge,
		Collect: func(emit func(float64, ...string)) { emit(1) }}
	reg := prometheus.NewRegistry()
	if err := reg.Register(NewCollector("gmk", bad)); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err == nil {
		t.Error("Gather accepted a series without its label value")
	}
	badName := Family{Name: "", Kind: KindGauge, Collect: func(func(float64, ...string)) {}}
	if err := prometheus.NewRegistry().Register(NewCollector("gmk", badName)); err == nil {
		t.Error("Register accepted an empty metric name")
	}
}
