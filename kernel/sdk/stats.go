package sdk

import (
	"fmt"
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/metrics"
)

// Statistics ([U1] counter, gauge, histogram; [O1]).
//
// Counters are the kernel's user counters (Kernel.Metric, Ctx.MetricInc):
// sharded per worker, so an increment on the task path is a plain add — no
// atomic, no allocation. Gauges and histograms are kernel/metrics values
// (one atomic operation per update), registered here by name. The kernel's
// Collector exposes the counters; Stats.Collector exposes the gauges and
// histograms.
//
// modules/stats updates metrics named in its configuration from tasks, for
// producers that have no Stats at hand (the GPU side, other members):
//
//	stats.in  meta0 = metric id (bits 0..31, the index in the service's
//	          configuration) | op (bits 32..39)
//	          meta1 = value: counter add → uint64; gauge set/add → int64;
//	          histogram observe → uint64

// Stats is a registry of named gauges and histograms next to a kernel's
// counters. Registration is control plane (a mutex, first use allocates);
// updates through the returned values are lock-free.
type Stats struct {
	k      *kernel.Kernel
	mu     sync.Mutex
	gauges map[string]*metrics.Gauge
	hists  map[string]*metrics.Histogram
}

// NewStats returns an empty registry for kernel k.
func NewStats(k *kernel.Kernel) *Stats {
	return &Stats{k: k, gauges: map[string]*metrics.Gauge{}, hists: map[string]*metrics.Histogram{}}
}

// Counter is a kernel user counter.
type Counter struct{ ID kernel.MetricID }

// Add adds d on the handler's worker shard (no atomic, no allocation).
func (c Counter) Add(ctx *kernel.Ctx, d uint64) { ctx.MetricInc(c.ID, d) }

// Counter returns the kernel user counter name (registered on first use).
func (s *Stats) Counter(name string) (Counter, error) {
	id, err := s.k.Metric(name)
	if err != nil {
		return Counter{}, fmt.Errorf("sdk: counter %q: %w", name, err)
	}
	return Counter{ID: id}, nil
}

// CounterValue returns counter c's value (published at most a batch late
// while workers run; exact after Halt).
func (s *Stats) CounterValue(c Counter) uint64 { return s.k.MetricValue(c.ID) }

// Gauge returns the gauge name, creating it on first use.
func (s *Stats) Gauge(name string) *metrics.Gauge {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gauges[name]
	if g == nil {
		g = new(metrics.Gauge)
		s.gauges[name] = g
	}
	return g
}

// Histogram returns the histogram name, creating it on first use.
func (s *Stats) Histogram(name string) *metrics.Histogram {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hists[name]
	if h == nil {
		h = new(metrics.Histogram)
		s.hists[name] = h
	}
	return h
}

// GaugeNames and HistogramNames list the registered names, sorted.
func (s *Stats) GaugeNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedKeys(s.gauges)
}

// HistogramNames lists the registered histograms, sorted.
func (s *Stats) HistogramNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedKeys(s.hists)
}

func sortedKeys[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Collector exposes the gauges as gmk_user_gauge{kernel, name} and the
// histograms as gmk_user_histogram{kernel, name}.
func (s *Stats) Collector() prometheus.Collector {
	id := s.k.ID()
	return metrics.NewCollector("gmk",
		metrics.Family{Name: "user_gauge", Help: "User gauges (sdk.Stats).", Labels: []string{"kernel", "name"},
			Kind: metrics.KindGauge, Collect: func(emit func(float64, ...string)) {
				for _, n := range s.GaugeNames() {
					emit(float64(s.Gauge(n).Load()), id, n)
				}
			}},
		metrics.Family{Name: "user_histogram", Help: "User histograms (sdk.Stats).", Labels: []string{"kernel", "name"},
			Kind: metrics.KindHistogram, CollectHistogram: func(emit func(*metrics.HistogramSnapshot, ...string)) {
				for _, n := range s.HistogramNames() {
					snap := s.Histogram(n).Snapshot()
					emit(&snap, id, n)
				}
			}},
	)
}

// StatOp is what a stats.in task does to its metric.
type StatOp uint8

// Stat operations.
const (
	StatAdd     StatOp = iota // counter: add; gauge: add (int64)
	StatSet                   // gauge: set (int64)
	StatObserve               // histogram: observe
)

// StatMeta returns a stats.in meta0.
func StatMeta(id uint32, op StatOp) uint64 { return uint64(id) | uint64(op)<<32 }

// SplitStatMeta splits a stats.in meta0.
func SplitStatMeta(meta0 uint64) (id uint32, op StatOp) { return uint32(meta0), StatOp(meta0 >> 32) }

// Stat sends a metric update to the stats service at p.
func Stat(c *kernel.Ctx, p Port, id uint32, op StatOp, v uint64) kernel.Status {
	return SendInline(c, p, StatMeta(id, op), v)
}
