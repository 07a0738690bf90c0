package echo_test

import (
	"context"
	"fmt"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/echo"
)

// Echo sends every task back on echo.out; a consumer of echo.out sees them
// in order with their payloads.
func Example() {
	var got []string // written by the sink's home worker, read after Halt
	sink := kernel.Module{Name: "sink",
		Handlers: []kernel.Handler{{Type: echo.DefaultOutType, Fn: func(c *kernel.Ctx) kernel.Status {
			got = append(got, fmt.Sprintf("%d:%s", c.Task().Meta0, c.Payload()))
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: "echo.out", Dir: kernel.Consume, Type: echo.DefaultOutType, Guarantee: kernel.Lossless}},
	}
	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 1 << 20}, echo.Module(echo.Config{}), sink)
	if err != nil {
		fmt.Println(err)
		return
	}
	in, _ := sdk.Dial(k, "echo.in")
	for i, word := range []string{"ping", "pong", "again"} {
		if err := sdk.EmitBytes(context.Background(), k, in, 0, uint64(i), 0, []byte(word)); err != nil {
			fmt.Println(err)
		}
	}
	_ = k.Halt(context.Background())
	fmt.Println(got)
	// Output:
	// [0:ping 1:pong 2:again]
}
