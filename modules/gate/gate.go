package gate

import (
	"cmp"
	"fmt"
	"sync"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// Default task types (modules/doc.go) and sizes.
const (
	DefaultArriveType  = 969
	DefaultOpenType    = 970
	DefaultMaxGates    = 1024
	DefaultMaxArrivals = 1 << 20
)

// Config configures the gate module. Zero fields take their defaults.
type Config struct {
	Name        string // module name; default "gate"
	Arrive      string // arrival channel; default "gate.arrive"
	Open        string // opening channel; default "gate.open"
	ArriveType  uint32 // default DefaultArriveType
	OpenType    uint32 // default DefaultOpenType
	Slots       int    // capacity of both channels; 0 = the kernel's default
	MaxGates    int    // distinct gate ids; default 1024
	MaxArrivals int    // largest N; default 1Mi
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	c.Name = cmp.Or(c.Name, "gate")
	c.Arrive = cmp.Or(c.Arrive, "gate.arrive")
	c.Open = cmp.Or(c.Open, "gate.open")
	c.ArriveType = cmp.Or(c.ArriveType, DefaultArriveType)
	c.OpenType = cmp.Or(c.OpenType, DefaultOpenType)
	c.MaxGates = cmp.Or(c.MaxGates, DefaultMaxGates)
	c.MaxArrivals = cmp.Or(c.MaxArrivals, DefaultMaxArrivals)
	return c
}

// Validate reports a configuration that cannot work (after defaults).
func (c Config) Validate() error {
	switch {
	case c.MaxGates < 1 || c.MaxGates > 1<<24:
		return fmt.Errorf("gate: max gates %d out of range [1, 16M]", c.MaxGates)
	case c.MaxArrivals < 1 || int64(c.MaxArrivals) > 1<<32-1:
		return fmt.Errorf("gate: max arrivals %d out of range", c.MaxArrivals)
	case c.Slots < 0:
		return fmt.Errorf("gate: slots %d below zero", c.Slots)
	}
	return nil
}

// Gate is a gate module instance.
type Gate struct {
	cfg  Config
	open sdk.Port

	mu    sync.Mutex      // guards the table
	byID  map[uint32]*bar // gate id → its barrier; at most MaxGates
	table []bar           // the barriers, allocated at New
}

// bar is one gate's state.
type bar struct {
	n     uint32 // arrivals per round (0 between rounds)
	count uint32 // arrivals in the current round
	round uint64 // rounds opened
}

// New returns a gate instance.
func New(cfg Config) (*Gate, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Gate{cfg: cfg, byID: make(map[uint32]*bar, cfg.MaxGates), table: make([]bar, 0, cfg.MaxGates)}, nil
}

// Module returns the gate module of a new instance. An invalid configuration
// makes its Init fail, so Boot reports it.
func Module(cfg Config) kernel.Module {
	g, err := New(cfg)
	if err != nil {
		return kernel.Module{Name: cfg.WithDefaults().Name, Init: func(*kernel.Ctx) error { return err }}
	}
	return g.Module()
}

// Module returns the instance's kernel module.
func (g *Gate) Module() kernel.Module {
	c := g.cfg
	return kernel.Module{Name: c.Name, Version: "1.0",
		Handlers: []kernel.Handler{{Type: c.ArriveType, Name: "arrive", Fn: g.arrive}},
		Channels: []kernel.ChanDecl{
			{Name: c.Arrive, Dir: kernel.Consume, Type: c.ArriveType, Guarantee: kernel.Lossless, Slots: c.Slots},
			{Name: c.Open, Dir: kernel.Produce, Type: c.OpenType, Mode: kernel.FanOut, Guarantee: kernel.Lossless, Slots: c.Slots},
		},
		Init: func(ctx *kernel.Ctx) (err error) {
			g.open, err = sdk.Dial(ctx.Kernel(), c.Open)
			return err
		},
	}
}

// counted marks an arrival that was counted and opened its gate, but whose
// opening did not fit gate.open; meta1 keeps the round (bits 1..63) so the
// retry sends the opening instead of counting again.
const counted = 1

func (g *Gate) arrive(c *kernel.Ctx) kernel.Status {
	t := c.Task()
	if t.Meta1&counted != 0 {
		return sdk.SendInline(c, g.open, t.Meta0, t.Meta1>>1)
	}
	id, n := sdk.SplitGateMeta(t.Meta0)
	if n == 0 || int64(n) > int64(g.cfg.MaxArrivals) {
		return sdk.CodeBadRequest
	}
	round, opened, st := g.count(id, n)
	if st != kernel.OK || !opened {
		return st
	}
	t.Meta1 = round<<1 | counted
	return sdk.SendInline(c, g.open, t.Meta0, round)
}

// count counts an arrival at gate id with n per round. It reports whether
// the arrival opened the gate, and the round it opened.
func (g *Gate) count(id, n uint32) (round uint64, opened bool, st kernel.Status) {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.byID[id]
	if b == nil {
		if len(g.table) == cap(g.table) {
			return 0, false, sdk.CodeFull
		}
		g.table = g.table[:len(g.table)+1] // within capacity: the pointer stays valid
		b = &g.table[len(g.table)-1]
		g.byID[id] = b
	}
	if b.count == 0 {
		b.n = n
	} else if b.n != n {
		return 0, false, sdk.CodeMismatch
	}
	if b.count++; b.count < b.n {
		return 0, false, kernel.OK
	}
	b.count = 0
	b.round++
	return b.round, true, kernel.OK
}
