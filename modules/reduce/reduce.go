package reduce

import (
	"cmp"
	"fmt"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// Default task types (modules/doc.go) and sizes.
const (
	DefaultInType    = 971
	DefaultOutType   = 972
	DefaultMaxGroups = 64
	DefaultMaxElems  = 1024
)

// Config configures the reduce module. Zero fields take their defaults.
type Config struct {
	Name      string      // module name; default "reduce"
	In        string      // element channel; default "reduce.in"
	Out       string      // result channel; default "reduce.out"
	InType    uint32      // default DefaultInType
	OutType   uint32      // default DefaultOutType
	Slots     int         // capacity of both channels; 0 = the kernel's default
	Reducer   sdk.Reducer // the operation (default: sum of int64)
	MaxGroups int         // groups open at once; default 64
	MaxElems  int         // elements per group; default 1024
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	c.Name = cmp.Or(c.Name, "reduce")
	c.In = cmp.Or(c.In, "reduce.in")
	c.Out = cmp.Or(c.Out, "reduce.out")
	c.InType = cmp.Or(c.InType, DefaultInType)
	c.OutType = cmp.Or(c.OutType, DefaultOutType)
	c.MaxGroups = cmp.Or(c.MaxGroups, DefaultMaxGroups)
	c.MaxElems = cmp.Or(c.MaxElems, DefaultMaxElems)
	return c
}

// Validate reports a configuration that cannot work (after defaults).
func (c Config) Validate() error {
	switch {
	case c.MaxGroups < 1 || c.MaxGroups > 1<<16:
		return fmt.Errorf("reduce: max groups %d out of range [1, 65536]", c.MaxGroups)
	case c.MaxElems < 1 || c.MaxElems > 1<<24:
		return fmt.Errorf("reduce: max elements %d out of range [1, 16M]", c.MaxElems)
	case c.Slots < 0:
		return fmt.Errorf("reduce: slots %d below zero", c.Slots)
	}
	if err := c.Reducer.Validate(); err != nil {
		return fmt.Errorf("reduce: %w", err)
	}
	return nil
}

// Module returns the reduce module of a new instance. An invalid
// configuration makes its Init fail, so Boot reports it.
func Module(cfg Config) kernel.Module {
	r, err := New(cfg)
	if err != nil {
		return kernel.Module{Name: cfg.WithDefaults().Name, Init: func(*kernel.Ctx) error { return err }}
	}
	return r.Module()
}

// Module returns the instance's kernel module.
func (r *Reduce) Module() kernel.Module {
	c := r.cfg
	return kernel.Module{Name: c.Name, Version: "1.0",
		Handlers: []kernel.Handler{{Type: c.InType, Name: "element", Fn: r.element}},
		Channels: []kernel.ChanDecl{
			{Name: c.In, Dir: kernel.Consume, Type: c.InType, Guarantee: kernel.Lossless, Slots: c.Slots},
			{Name: c.Out, Dir: kernel.Produce, Type: c.OutType, Guarantee: kernel.Lossless, Slots: c.Slots},
		},
		Init: func(ctx *kernel.Ctx) (err error) {
			r.out, err = sdk.Dial(ctx.Kernel(), c.Out)
			return err
		},
		Fini: func(ctx *kernel.Ctx) error { r.releaseAll(ctx); return nil },
	}
}
