package log_test

import (
	"context"
	"fmt"
	"os"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	gmklog "github.com/gmkernel/gmk/modules/log"
)

// A handler logs with sdk.Logger — no formatting, no I/O on its path — and
// the log module renders the records.
func Example() {
	const tWork = 1
	var logger sdk.Logger
	work := kernel.Module{Name: "work",
		Handlers: []kernel.Handler{{Type: tWork, Fn: func(c *kernel.Ctx) kernel.Status {
			n := c.Task().Meta0
			logger.Debug(c, "not shown")
			logger.Info(c, "item %d: %f%% done", n, sdk.F(float64(n)*12.5))
			return kernel.OK
		}}},
		Init: func(c *kernel.Ctx) (err error) {
			logger.Port, err = sdk.Dial(c.Kernel(), "log.write")
			logger.Min = sdk.LevelInfo // dropped before anything is allocated
			return err
		},
	}
	k, err := kernel.Boot(kernel.BootConfig{Workers: 1, ArenaSize: 1 << 20},
		gmklog.Module(gmklog.Config{Writer: os.Stdout}), work)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := 1; i <= 3; i++ {
		if err := k.Submit(kernel.Task{Type: tWork, Meta0: uint64(i)}); err != nil {
			fmt.Println(err)
		}
	}
	_ = k.Halt(context.Background())
	// Output:
	// INFO item 1: 12.5% done
	// INFO item 2: 25% done
	// INFO item 3: 37.5% done
}
