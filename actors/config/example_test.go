package config_test

import (
	"fmt"
	"os"

	"github.com/gmkernel/gmk/actors/config"
	"github.com/gmkernel/gmk/kernel"
)

// A module package registers its factory once, like a database/sql driver.
func init() {
	config.Register("example.counter", func(p config.Params) (kernel.Module, error) {
		var cfg struct {
			Type uint32 `yaml:"type"`
		}
		if err := p.Decode(&cfg); err != nil {
			return kernel.Module{}, err
		}
		return kernel.Module{Handlers: []kernel.Handler{{Type: cfg.Type, Fn: func(*kernel.Ctx) kernel.Status { return kernel.OK }}}}, nil
	})
}

const exampleConfig = `
kernel: {workers: 2}
types: [{id: 7, name: event}]
channels: [{name: app.events, type: event, mode: fanout, guarantee: lossy}]
modules:
  - name: counter
    module: example.counter
    params: {type: 7}
    channels: [{channel: app.events, dir: consume}]
supervisor:
  name: root
  strategy: one_for_one
  max_restarts: 2
  within: 1s
  backoff: {min: 5ms, max: 500ms, random_factor: 0.1}
  children:
    - module: counter
      restart: transient
`

func Example() {
	tree, err := config.Parse("app.yaml", []byte(exampleConfig))
	if err != nil {
		fmt.Println(err)
		return
	}
	tree.Print(os.Stdout)
	mods, err := tree.Modules() // in start order, channels merged in
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(mods[0].Name, mods[0].Channels[0].Name, tree.BootConfig().Workers)

	_, err = config.Parse("app.yaml", []byte("supervisor: {name: root, strategy: one-for-some}"))
	fmt.Println(err)
	// Output:
	// kernel cpu.0 role=default workers=2 tenants=default arena=default max_types=default policy=rq trace=default poison=default/default
	// type 7 event max_yields=default retry_limit=default
	// channel app.events type=event fanout lossy slots=default replay=0
	// supervisor root one_for_one intensity=2/1s backoff=5ms..500ms random_factor=0.1 reset_after=5ms
	//   module counter (transient) driver=example.counter type=7
	//     consume app.events type=event
	// counter app.events 2
	// app.yaml:1: supervisor.strategy: unknown strategy "one-for-some" (want one_for_one, one_for_all, rest_for_one)
}
