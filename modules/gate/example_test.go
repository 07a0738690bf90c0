package gate_test

import (
	"context"
	"fmt"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/gate"
)

// Three workers report done; the third arrival opens the gate and the next
// stage starts.
func Example() {
	var lines []string // written by the gate.open consumer, read after Halt
	next := kernel.Module{Name: "next",
		Handlers: []kernel.Handler{{Type: gate.DefaultOpenType, Fn: func(c *kernel.Ctx) kernel.Status {
			id, n := sdk.SplitGateMeta(c.Task().Meta0)
			lines = append(lines, fmt.Sprintf("gate %d open after %d arrivals (round %d)", id, n, c.Task().Meta1))
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: "gate.open", Dir: kernel.Consume, Type: gate.DefaultOpenType,
			Mode: kernel.FanOut, Guarantee: kernel.Lossless}},
	}
	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 1 << 20}, gate.Module(gate.Config{}), next)
	if err != nil {
		fmt.Println(err)
		return
	}
	arrive, _ := sdk.Dial(k, "gate.arrive")
	for range 6 {
		if err := sdk.EmitInline(context.Background(), k, arrive, 0, sdk.GateMeta(7, 3), 0); err != nil {
			fmt.Println(err)
		}
	}
	_ = k.Halt(context.Background())
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// gate 7 open after 3 arrivals (round 1)
	// gate 7 open after 3 arrivals (round 2)
}
