package echo

import (
	"cmp"
	"fmt"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// Default task types (modules/doc.go).
const (
	DefaultInType  = 960
	DefaultOutType = 961
)

// Config configures the echo module. Zero fields take their defaults.
type Config struct {
	Name    string // module name; default "echo"
	In      string // input channel; default "echo.in"
	Out     string // output channel; default "echo.out"
	InType  uint32 // default DefaultInType
	OutType uint32 // default DefaultOutType
	Slots   int    // capacity of both channels; 0 = the kernel's default
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	c.Name = cmp.Or(c.Name, "echo")
	c.In = cmp.Or(c.In, "echo.in")
	c.Out = cmp.Or(c.Out, "echo.out")
	c.InType = cmp.Or(c.InType, DefaultInType)
	c.OutType = cmp.Or(c.OutType, DefaultOutType)
	return c
}

// Validate reports a configuration that cannot work (after defaults).
func (c Config) Validate() error {
	if c.In == c.Out {
		return fmt.Errorf("echo: input and output are the same channel %q", c.In)
	}
	if c.Slots < 0 {
		return fmt.Errorf("echo: slots %d below zero", c.Slots)
	}
	return nil
}

// Module returns the echo module. An invalid configuration makes its Init
// fail, so Boot reports it.
func Module(cfg Config) kernel.Module {
	cfg = cfg.WithDefaults()
	var out sdk.Port
	m := kernel.Module{Name: cfg.Name, Version: "1.0",
		Handlers: []kernel.Handler{{Type: cfg.InType, Name: "echo", Fn: func(c *kernel.Ctx) kernel.Status {
			return sdk.Forward(c, out)
		}}},
		Channels: []kernel.ChanDecl{
			{Name: cfg.In, Dir: kernel.Consume, Type: cfg.InType, Guarantee: kernel.Lossless, Slots: cfg.Slots},
			{Name: cfg.Out, Dir: kernel.Produce, Type: cfg.OutType, Guarantee: kernel.Lossless, Slots: cfg.Slots},
		},
		Init: func(c *kernel.Ctx) (err error) {
			if err := cfg.Validate(); err != nil {
				return err
			}
			out, err = sdk.Dial(c.Kernel(), cfg.Out)
			return err
		},
	}
	return m
}
