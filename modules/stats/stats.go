package stats

import (
	"cmp"
	"fmt"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/metrics"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// DefaultInType is the default update type (modules/doc.go).
const DefaultInType = 973

// Kind is a metric's kind.
type Kind uint8

// Metric kinds.
const (
	Counter Kind = iota
	Gauge
	Histogram
)

// Metric names one metric; its id in stats.in is its index in Config.Metrics.
type Metric struct {
	Name string
	Kind Kind
}

// Config configures the stats module. Zero fields take their defaults.
type Config struct {
	Name     string     // module name; default "stats"
	In       string     // update channel; default "stats.in"
	InType   uint32     // default DefaultInType
	Slots    int        // channel capacity; 0 = the kernel's default
	Metrics  []Metric   // the metrics, by id
	Registry *sdk.Stats // gauges and histograms; nil = a new one at Init
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	c.Name = cmp.Or(c.Name, "stats")
	c.In = cmp.Or(c.In, "stats.in")
	c.InType = cmp.Or(c.InType, DefaultInType)
	return c
}

// Validate reports a configuration that cannot work (after defaults).
func (c Config) Validate() error {
	seen := map[string]bool{}
	for i, m := range c.Metrics {
		switch {
		case m.Name == "":
			return fmt.Errorf("stats: metric %d has no name", i)
		case m.Kind > Histogram:
			return fmt.Errorf("stats: metric %s has unknown kind %d", m.Name, m.Kind)
		case seen[m.Name]:
			return fmt.Errorf("stats: metric %s declared twice", m.Name)
		}
		seen[m.Name] = true
	}
	if c.Slots < 0 {
		return fmt.Errorf("stats: slots %d below zero", c.Slots)
	}
	return nil
}

// Stats is a stats module instance.
type Stats struct {
	cfg Config
	reg *sdk.Stats
	// by metric id, resolved at Init (read-only afterwards):
	counters []sdk.Counter
	gauges   []*metrics.Gauge
	hists    []*metrics.Histogram
}

// New returns a stats instance.
func New(cfg Config) (*Stats, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := len(cfg.Metrics)
	return &Stats{cfg: cfg, counters: make([]sdk.Counter, n), gauges: make([]*metrics.Gauge, n),
		hists: make([]*metrics.Histogram, n)}, nil
}

// Module returns the stats module of a new instance. An invalid
// configuration makes its Init fail, so Boot reports it.
func Module(cfg Config) kernel.Module {
	s, err := New(cfg)
	if err != nil {
		return kernel.Module{Name: cfg.WithDefaults().Name, Init: func(*kernel.Ctx) error { return err }}
	}
	return s.Module()
}

// Registry returns the registry of the gauges and histograms (and the
// counters' reader); nil before Init.
func (s *Stats) Registry() *sdk.Stats { return s.reg }

// Module returns the instance's kernel module.
func (s *Stats) Module() kernel.Module {
	c := s.cfg
	return kernel.Module{Name: c.Name, Version: "1.0",
		Handlers: []kernel.Handler{{Type: c.InType, Name: "update", Fn: s.update}},
		Channels: []kernel.ChanDecl{{Name: c.In, Dir: kernel.Consume, Type: c.InType, Guarantee: kernel.Lossless, Slots: c.Slots}},
		Init:     s.init,
	}
}

func (s *Stats) init(c *kernel.Ctx) error {
	s.reg = s.cfg.Registry
	if s.reg == nil {
		s.reg = sdk.NewStats(c.Kernel())
	}
	for i, m := range s.cfg.Metrics {
		switch m.Kind {
		case Counter:
			ctr, err := s.reg.Counter(m.Name)
			if err != nil {
				return fmt.Errorf("stats: %w", err)
			}
			s.counters[i] = ctr
		case Gauge:
			s.gauges[i] = s.reg.Gauge(m.Name)
		case Histogram:
			s.hists[i] = s.reg.Histogram(m.Name)
		}
	}
	return nil
}

func (s *Stats) update(c *kernel.Ctx) kernel.Status {
	t := c.Task()
	id, op := sdk.SplitStatMeta(t.Meta0)
	if int(id) >= len(s.cfg.Metrics) {
		return sdk.CodeBadRequest
	}
	switch k := s.cfg.Metrics[id].Kind; {
	case k == Counter && op == sdk.StatAdd:
		s.counters[id].Add(c, t.Meta1)
	case k == Gauge && op == sdk.StatAdd:
		s.gauges[id].Add(int64(t.Meta1))
	case k == Gauge && op == sdk.StatSet:
		s.gauges[id].Set(int64(t.Meta1))
	case k == Histogram && op == sdk.StatObserve:
		s.hists[id].Observe(t.Meta1)
	default:
		return sdk.CodeBadRequest
	}
	return kernel.OK
}
