package watchdog

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// Default task types (modules/doc.go).
const (
	DefaultReportType = 981 // internal: a report the watchdog submits to trace and count an event
	DefaultEventType  = 982 // the events on the watchdog.event channel
)

// Config configures the watchdog. Zero fields take their defaults.
type Config struct {
	Name  string // module name; default "watchdog"
	Event string // the event channel; default "watchdog.event"

	// WatchPolicy is the rule of [F4], shared with the GPU watchdog
	// (gpu/system): Every (default 100 ms), Warn (default 2), Reset (default 5).
	kernel.WatchPolicy

	ReportType uint32 // default DefaultReportType
	EventType  uint32 // default DefaultEventType
	Slots      int    // capacity of the event channel; 0 = the kernel's default

	// Tick, when set, drives the polls instead of a ticker of Every
	// (tests: one send, one poll). Polling also ends when Tick is closed.
	Tick <-chan time.Time
	// OnReset is the reset of a stalled worker; nil is PoisonModule. It runs
	// on the watchdog's goroutine; an error is reported as ResetFailed.
	OnReset func(k *kernel.Kernel, s Stall) error
	// OnEvent, when set, is called on the watchdog's goroutine for every
	// event, after the watchdog's own accounting of it.
	OnEvent func(Event)
	// Logger receives a warning per event; default the kernel's logger.
	Logger *zap.Logger
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	c.Name = cmp.Or(c.Name, "watchdog")
	c.Event = cmp.Or(c.Event, "watchdog.event")
	c.WatchPolicy = c.WatchPolicy.WithDefaults()
	c.ReportType = cmp.Or(c.ReportType, DefaultReportType)
	c.EventType = cmp.Or(c.EventType, DefaultEventType)
	if c.OnReset == nil {
		c.OnReset = PoisonModule
	}
	return c
}

// Validate reports a configuration that cannot work (after defaults).
func (c Config) Validate() error {
	switch {
	case c.ReportType == c.EventType:
		return fmt.Errorf("watchdog: report and event types must differ")
	case c.Slots < 0:
		return fmt.Errorf("watchdog: slots %d below zero", c.Slots)
	}
	return c.WatchPolicy.Validate()
}

// PoisonModule is the default reset of a stalled CPU worker: Go cannot stop
// a goroutine stuck in a handler, so the CPU reset keeps the stall from
// spreading instead — every type of the module whose handler hangs is
// poisoned, and its later tasks go to sys.error ([F3]) rather than to the
// next worker, until an operator clears it (`gmk mod reset`).
func PoisonModule(k *kernel.Kernel, s Stall) error { return k.PoisonModule(s.Module) }

// Stats are the watchdog's counters.
type Stats struct {
	Polls      uint64 // samples taken
	Warnings   uint64
	Resets     uint64
	Failed     uint64 // reset hooks that returned an error
	Recoveries uint64
}

// Watchdog is one watchdog module instance (New). Wrap the modules to watch
// before Boot; the watchdog polls from its module's Init to its Fini.
type Watchdog struct {
	cfg Config

	mu      sync.Mutex // guards names (Wrap) and stalls (the poll goroutine writes, Stalled reads)
	names   []string   // watched modules, by the index their wrappers store
	stalls  []Stall
	beats   atomic.Pointer[[]beat] // one per worker; set at Init (see beat)
	k       *kernel.Kernel         // set at Init, read by the poll goroutine it starts
	event   sdk.Port               // the event channel; set at Init, before any report task exists
	metrics [4]kernel.MetricID     // warnings, resets, failed, recoveries (user counters)
	stop    func()                 // ends the poll goroutine (Fini)

	polls, warnings, resets, failed, recoveries atomic.Uint64
}

// New returns a watchdog; it fails on a bad Config.
func New(cfg Config) (*Watchdog, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Watchdog{cfg: cfg}, nil
}

// Wrap returns m with a heartbeat around each of its handlers (beat.go),
// so that the watchdog sees a worker stuck in one. Call it before Boot.
func (w *Watchdog) Wrap(m kernel.Module) kernel.Module {
	w.mu.Lock()
	mod := int32(len(w.names))
	w.names = append(w.names, m.Name)
	w.mu.Unlock()
	m.Handlers = slices.Clone(m.Handlers)
	for i := range m.Handlers {
		m.Handlers[i].Fn = w.wrapFn(m.Handlers[i].Fn, mod)
	}
	return m
}

// Stalled returns the workers marked stalled now: reset, and still inside
// the handler call they were reset in.
func (w *Watchdog) Stalled() []Stall {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.stalls)
}

// Stats returns the watchdog's counters.
func (w *Watchdog) Stats() Stats {
	return Stats{Polls: w.polls.Load(), Warnings: w.warnings.Load(), Resets: w.resets.Load(),
		Failed: w.failed.Load(), Recoveries: w.recoveries.Load()}
}

// Module returns the watchdog's kernel module: the report handler, the
// event channel, and the poll goroutine from Init to Fini.
func (w *Watchdog) Module() kernel.Module {
	c := w.cfg
	return kernel.Module{Name: c.Name, Version: "1.0.0",
		Handlers: []kernel.Handler{{Type: c.ReportType, Name: "report", Fn: w.report}},
		Channels: []kernel.ChanDecl{{Name: c.Event, Dir: kernel.Produce, Type: c.EventType,
			Mode: kernel.FanOut, Guarantee: kernel.Lossy, Slots: c.Slots}},
		Init: w.init,
		Fini: func(*kernel.Ctx) error { w.halt(); return nil },
	}
}

// Modules returns mods wrapped and, last, the watchdog module of cfg: the
// usual way to boot a watched kernel (there is no Module(cfg) alone, as
// with the other standard modules: a watchdog watches the modules it
// wrapped). A bad Config makes the watchdog's Init fail, so Boot reports
// it.
func Modules(cfg Config, mods ...kernel.Module) []kernel.Module {
	w, err := New(cfg)
	if err != nil {
		bad := kernel.Module{Name: cfg.WithDefaults().Name, Init: func(*kernel.Ctx) error { return err }}
		return append(mods, bad)
	}
	out := make([]kernel.Module, 0, len(mods)+1)
	for _, m := range mods {
		out = append(out, w.Wrap(m))
	}
	return append(out, w.Module())
}
