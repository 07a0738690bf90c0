package cli_test

import (
	"context"
	"fmt"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/modules/cli"
)

// The cli module records what failed: here a handler that rejects its task.
func Example() {
	rec, _ := cli.New(cli.Config{})
	picky := kernel.Module{Name: "picky", Handlers: []kernel.Handler{{Type: 1,
		Fn: func(*kernel.Ctx) kernel.Status { return kernel.FailCode(-2) }}}}
	k, err := kernel.Boot(kernel.BootConfig{Workers: 1, ArenaSize: 1 << 20, MaxTypes: 8}, rec.Module(), picky)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = k.Submit(kernel.Task{Type: 1, Meta0: 42})
	_ = k.Halt(context.Background()) // drains: the report is recorded
	for _, e := range rec.Recent(0) {
		fmt.Println(e.Seq, e.Kind, e.Channel, e.Type, e.Code, e.Meta0)
	}
	// Output:
	// 1 error sys.error 1 FAIL(-2) 42
}
