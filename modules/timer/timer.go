package timer

import (
	"cmp"
	"fmt"
	"sync"
	"time"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// Default task types (modules/doc.go) and sizes.
const (
	DefaultSetType    = 965
	DefaultCancelType = 966
	DefaultFireType   = 967 // internal: the task parked on the EVQ
	DefaultTickType   = 968 // firings on the default fire channel
	DefaultMaxTimers  = 4096
	DefaultStep       = 100 * time.Millisecond
)

// Config configures the timer module. Zero fields take their defaults.
type Config struct {
	Name       string        // module name; default "timer"
	Set        string        // set channel; default "timer.set"
	Cancel     string        // cancel channel; default "timer.cancel"
	Fire       string        // default fire channel; default "timer.fire"
	SetType    uint32        // default DefaultSetType
	CancelType uint32        // default DefaultCancelType
	FireType   uint32        // internal EVQ task type; default DefaultFireType
	TickType   uint32        // type of the default fire channel; default DefaultTickType
	Slots      int           // capacity of the module's channels; 0 = the kernel's default
	MaxTimers  int           // timers set at once; default 4096
	Step       time.Duration // longest EVQ wait before a re-check; default 100 ms
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	c.Name = cmp.Or(c.Name, "timer")
	c.Set = cmp.Or(c.Set, "timer.set")
	c.Cancel = cmp.Or(c.Cancel, "timer.cancel")
	c.Fire = cmp.Or(c.Fire, "timer.fire")
	c.SetType = cmp.Or(c.SetType, DefaultSetType)
	c.CancelType = cmp.Or(c.CancelType, DefaultCancelType)
	c.FireType = cmp.Or(c.FireType, DefaultFireType)
	c.TickType = cmp.Or(c.TickType, DefaultTickType)
	c.MaxTimers = cmp.Or(c.MaxTimers, DefaultMaxTimers)
	c.Step = cmp.Or(c.Step, DefaultStep)
	return c
}

// Validate reports a configuration that cannot work (after defaults).
func (c Config) Validate() error {
	switch {
	case c.MaxTimers < 1 || c.MaxTimers > 1<<24:
		return fmt.Errorf("timer: max timers %d out of range [1, 16M]", c.MaxTimers)
	case c.Step <= 0:
		return fmt.Errorf("timer: step %v not positive", c.Step)
	case c.Slots < 0:
		return fmt.Errorf("timer: slots %d below zero", c.Slots)
	case c.SetType == c.CancelType || c.SetType == c.FireType || c.CancelType == c.FireType:
		return fmt.Errorf("timer: set, cancel and fire types must differ")
	}
	return nil
}

// Timer is a timer module instance.
type Timer struct {
	cfg  Config
	fire sdk.Port // the default fire channel (resolved in Init)

	mu    sync.Mutex       // guards everything below
	byID  map[uint64]int32 // timer id → slot; sized for MaxTimers at New
	slots []slot
	free  []int32 // stack of free slots
	gen   uint64  // last generation issued
}

// slot is one set timer.
type slot struct {
	spec   sdk.TimerSpec
	tenant uint16
	gen    uint64 // names this setting; parked fire tasks of older ones are stale
	due    int64  // next firing, kernel clock ns
	fires  uint64 // firings so far
}

// New returns a timer instance; its tables are allocated here, once.
func New(cfg Config) (*Timer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Timer{cfg: cfg, byID: make(map[uint64]int32, cfg.MaxTimers),
		slots: make([]slot, cfg.MaxTimers), free: make([]int32, cfg.MaxTimers)}
	for i := range m.free {
		m.free[i] = int32(cfg.MaxTimers - 1 - i)
	}
	return m, nil
}

// Module returns the timer module of a new instance. An invalid
// configuration makes its Init fail, so Boot reports it.
func Module(cfg Config) kernel.Module {
	m, err := New(cfg)
	if err != nil {
		return kernel.Module{Name: cfg.WithDefaults().Name, Init: func(*kernel.Ctx) error { return err }}
	}
	return m.Module()
}

// Len returns the number of timers set.
func (m *Timer) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byID)
}

// Module returns the instance's kernel module.
func (m *Timer) Module() kernel.Module {
	c := m.cfg
	return kernel.Module{Name: c.Name, Version: "1.0",
		Handlers: []kernel.Handler{
			{Type: c.SetType, Name: "set", Fn: m.set},
			{Type: c.CancelType, Name: "cancel", Fn: m.cancel},
			{Type: c.FireType, Name: "fire", Fn: m.fired},
		},
		Channels: []kernel.ChanDecl{
			{Name: c.Set, Dir: kernel.Consume, Type: c.SetType, Guarantee: kernel.Lossless, Slots: c.Slots},
			{Name: c.Cancel, Dir: kernel.Consume, Type: c.CancelType, Guarantee: kernel.Lossless, Slots: c.Slots},
		},
		// timer.fire is opened here rather than declared as an output: the
		// kernel's flow control would otherwise hold back timer.set until
		// timer.fire has room, and a set request produces no firing itself.
		Init: func(ctx *kernel.Ctx) error {
			id, err := ctx.ChanOpen(kernel.ChanSpec{Name: c.Fire, Type: c.TickType, Mode: kernel.P2P,
				Guarantee: kernel.Lossless, Slots: c.Slots})
			if err != nil {
				return fmt.Errorf("timer: %w", err)
			}
			m.fire = sdk.Port{Chan: id, Type: c.TickType}
			return nil
		},
	}
}
