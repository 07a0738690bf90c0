package actors_test

import (
	"context"
	"fmt"

	"github.com/gmkernel/gmk/actors"
	"github.com/gmkernel/gmk/actors/config"
	"github.com/gmkernel/gmk/kernel"
)

// A one-module tree: the module's actor runs Init; a task whose handler
// panics is retried after the supervisor restarted the module.
func Example() {
	inits := 0
	config.Register("example.flaky", func(config.Params) (kernel.Module, error) {
		failed := false
		return kernel.Module{
			Init: func(*kernel.Ctx) error { inits++; return nil },
			Handlers: []kernel.Handler{{Type: 1, Fn: func(*kernel.Ctx) kernel.Status {
				if !failed {
					failed = true
					panic("crash") // the supervisor restarts the module
				}
				return kernel.OK
			}}},
		}, nil
	})
	tree, err := config.Parse("example.yaml", []byte(`
kernel: {workers: 1}
types: [{id: 1, name: job}]
modules: [{name: flaky, module: example.flaky}]
supervisor:
  name: root
  strategy: one_for_one
  children: [{module: flaky}]
`))
	if err != nil {
		panic(err)
	}
	n, err := actors.Boot(nil, tree)
	if err != nil {
		panic(err)
	}
	k := n.Kernel()
	_ = k.Submit(kernel.Task{Type: 1})
	if err := n.Halt(context.Background()); err != nil { // drains: the retry runs first
		panic(err)
	}
	s := k.Stats()
	fmt.Println("inits:", inits, "restarts:", s.Restarts, "retried:", s.Retried, "completed:", s.Completed)
	// Output: inits: 2 restarts: 1 retried: 1 completed: 1
}
