package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Kind is the Prometheus type of a Family.
type Kind uint8

// Family kinds.
const (
	KindCounter   Kind = iota // monotonic; Collect emits values
	KindGauge                 // up and down; Collect emits values
	KindHistogram             // log2 buckets; CollectHistogram emits snapshots
)

// Family describes one Prometheus metric family whose values are read from GMK
// metrics at scrape time ([O1]).
type Family struct {
	Name   string   // metric name without the namespace, e.g. "tasks_enqueued_total"
	Help   string   // help text
	Labels []string // variable label names, e.g. {"tenant"}
	Kind   Kind

	// Collect emits the current value of every series of a counter or gauge
	// family, with one label value per label name. Required for KindCounter and
	// KindGauge.
	Collect func(emit func(v float64, labelValues ...string))

	// CollectHistogram emits every series of a histogram family. Required for
	// KindHistogram.
	CollectHistogram func(emit func(s *HistogramSnapshot, labelValues ...string))

	// Scale multiplies a histogram's bucket bounds and sum on the way out, e.g.
	// 1e-9 to expose nanosecond observations in seconds as Prometheus prefers.
	// 0 means 1.
	Scale float64
}

// ErrFamily reports a Family that cannot be collected: an unknown Kind or a
// missing collect function. Registering such a collector fails with an error
// wrapping it.
var ErrFamily = errors.New("metrics: invalid family")

// collector is the prometheus.Collector NewCollector returns.
type collector struct {
	fams  []Family
	descs []*prometheus.Desc // descs[i] describes fams[i]
}

var _ prometheus.Collector = (*collector)(nil)

// NewCollector returns a prometheus.Collector that exposes fams, each named
// namespace_name. Collection calls the families' collect functions on the
// scraping goroutine, so they must be safe to call from any goroutine (reading
// Set.Value, Gauge.Load and Histogram.Snapshot is). An invalid family, or an
// invalid metric or label name, makes Register return an error.
func NewCollector(namespace string, fams ...Family) prometheus.Collector {
	c := &collector{fams: fams, descs: make([]*prometheus.Desc, len(fams))}
	for i, f := range fams {
		if err := f.validate(); err != nil {
			c.descs[i] = prometheus.NewInvalidDesc(err)
			continue
		}
		fq := prometheus.BuildFQName(namespace, "", f.Name)
		c.descs[i] = prometheus.NewDesc(fq, f.Help, f.Labels, nil)
	}
	return c
}

func (f *Family) validate() error {
	switch {
	case f.Kind > KindHistogram:
		return fmt.Errorf("%w: %s has unknown kind %d", ErrFamily, f.Name, f.Kind)
	case f.Kind == KindHistogram && f.CollectHistogram == nil:
		return fmt.Errorf("%w: histogram %s has no CollectHistogram", ErrFamily, f.Name)
	case f.Kind != KindHistogram && f.Collect == nil:
		return fmt.Errorf("%w: %s has no Collect", ErrFamily, f.Name)
	}
	return nil
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A series emitted with the wrong
// number of label values becomes an invalid metric, which makes Gather report
// an error instead of panicking.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for i := range c.fams {
		f, desc := &c.fams[i], c.descs[i]
		if f.validate() != nil {
			continue // reported by Describe at registration
		}
		if f.Kind == KindHistogram {
			f.CollectHistogram(func(s *HistogramSnapshot, lv ...string) {
				ch <- constHistogram(desc, s, f.Scale, lv)
			})
			continue
		}
		vt := prometheus.CounterValue
		if f.Kind == KindGauge {
			vt = prometheus.GaugeValue
		}
		f.Collect(func(v float64, lv ...string) {
			m, err := prometheus.NewConstMetric(desc, vt, v, lv...)
			if err != nil {
				m = prometheus.NewInvalidMetric(desc, err)
			}
			ch <- m
		})
	}
}

// promBuckets is the number of finite Prometheus buckets of a histogram: the
// log2 buckets 0..63 with upper bounds 0, 1, 3 … 2^63-1; bucket 64 goes to +Inf.
const promBuckets = NumBuckets - 1

// constHistogram converts a snapshot into a Prometheus histogram with
// cumulative buckets whose "le" bounds are BucketUpper(i)·scale.
func constHistogram(desc *prometheus.Desc, s *HistogramSnapshot, scale float64, lv []string) prometheus.Metric {
	if scale == 0 {
		scale = 1
	}
	buckets := make(map[float64]uint64, promBuckets)
	var cum uint64
	for i := range promBuckets {
		cum += s.Buckets[i]
		buckets[float64(BucketUpper(i))*scale] = cum
	}
	m, err := prometheus.NewConstHistogram(desc, s.Count, float64(s.Sum)*scale, buckets, lv...)
	if err != nil {
		return prometheus.NewInvalidMetric(desc, err)
	}
	return m
}
