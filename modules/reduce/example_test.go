package reduce_test

import (
	"context"
	"fmt"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/reduce"
)

// Words arrive out of order; the concat reduction joins them by index.
func Example() {
	var out []string // written by the reduce.out consumer, read after Halt
	sink := kernel.Module{Name: "sink",
		Handlers: []kernel.Handler{{Type: reduce.DefaultOutType, Fn: func(c *kernel.Ctx) kernel.Status {
			t := c.Task()
			out = append(out, fmt.Sprintf("group %d, %d elements: %q", t.Meta0>>32, uint32(t.Meta0), c.Payload()))
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: "reduce.out", Dir: kernel.Consume, Type: reduce.DefaultOutType, Guarantee: kernel.Lossless}},
	}
	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 1 << 20},
		reduce.Module(reduce.Config{Reducer: sdk.Reducer{Op: sdk.OpConcat}}), sink)
	if err != nil {
		fmt.Println(err)
		return
	}
	in, _ := sdk.Dial(k, "reduce.in")
	for _, e := range []struct {
		index uint32
		word  string
	}{{2, "kernels"}, {0, "one "}, {3, "!"}, {1, "system, many "}} {
		meta0 := sdk.ElemMeta(42, e.index, e.index == 3)
		if err := sdk.EmitBytes(context.Background(), k, in, 0, meta0, 0, []byte(e.word)); err != nil {
			fmt.Println(err)
		}
	}
	_ = k.Halt(context.Background())
	fmt.Println(out[0])
	// Output:
	// group 42, 4 elements: "one system, many kernels!"
}
