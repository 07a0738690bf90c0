package config

import (
	"errors"
	"fmt"

	"github.com/gmkernel/gmk/kernel"
)

// The modules the example configs name, registered once per test binary.
// Their handlers do nothing: these tests build modules, they boot nothing.
func init() {
	Register("transform", transformModule)
	Register("store", storeModule)
	Register("errors", errorsModule)
	Register("failing", func(Params) (kernel.Module, error) { return kernel.Module{}, errBoom })
}

var errBoom = errors.New("boom")

func nop(*kernel.Ctx) kernel.Status { return kernel.OK }

// transformModule declares its channels itself, as examples/pipeline does;
// the config's references override their shape.
func transformModule(p Params) (kernel.Module, error) {
	var cfg struct {
		Upper       bool `yaml:"upper"`
		RejectEvery int  `yaml:"reject_every"`
		CrashAt     int  `yaml:"crash_at"`
	}
	if err := p.Decode(&cfg); err != nil {
		return kernel.Module{}, err
	}
	return kernel.Module{Name: "transform-driver", Version: fmt.Sprint(cfg.Upper, cfg.RejectEvery),
		Handlers: []kernel.Handler{{Type: 1, Fn: nop, Name: "clean"}},
		Channels: []kernel.ChanDecl{
			{Name: "ingest.raw", Dir: kernel.Consume, Type: 1},
			{Name: "store.put", Dir: kernel.Produce, Type: 2},
		}}, nil
}

// storeModule is a sink for the clean (2) and tick (10) types.
func storeModule(Params) (kernel.Module, error) {
	return kernel.Module{Name: "store", Handlers: []kernel.Handler{{Type: 2, Fn: nop}, {Type: 10, Fn: nop}}}, nil
}

func errorsModule(Params) (kernel.Module, error) {
	return kernel.Module{Name: "errors", Handlers: []kernel.Handler{{Type: 3, Fn: nop}, {Type: 11, Fn: nop}}}, nil
}
