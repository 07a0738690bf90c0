package timer_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/timer"
)

// Two one-shot timers fire in due order; a repeating timer is cancelled by
// its consumer after its third firing.
func Example() {
	var lines []string // written by the timer.fire consumer, read after Halt
	var cancel sdk.Port
	done := make(chan struct{})
	app := kernel.Module{Name: "app",
		Handlers: []kernel.Handler{{Type: timer.DefaultTickType, Fn: func(c *kernel.Ctx) kernel.Status {
			id, n := c.Task().Meta0, c.Task().Meta1
			if id == 3 && n > 3 {
				return kernel.OK // fired before the cancel arrived
			}
			lines = append(lines, fmt.Sprintf("timer %d firing %d", id, n))
			if id == 3 && n == 3 {
				st := sdk.CancelTimer(c, cancel, 3)
				if st == kernel.OK {
					close(done)
				}
				return st
			}
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: "timer.fire", Dir: kernel.Consume, Type: timer.DefaultTickType, Guarantee: kernel.Lossless}},
		Init: func(c *kernel.Ctx) (err error) {
			cancel, err = sdk.Dial(c.Kernel(), "timer.cancel")
			return err
		},
	}
	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 1 << 20}, timer.Module(timer.Config{}), app)
	if err != nil {
		fmt.Println(err)
		return
	}
	set, _ := sdk.Dial(k, "timer.set")
	ms := int64(time.Millisecond)
	for _, s := range []sdk.TimerSpec{
		{ID: 1, Delay: 20 * ms},
		{ID: 2, Delay: 10 * ms},
		{ID: 3, Delay: 30 * ms, Period: 5 * ms},
	} {
		if err := sdk.EmitValue(context.Background(), k, set, 0, 0, 0, &s); err != nil {
			fmt.Println(err)
		}
	}
	<-done
	_ = k.Halt(context.Background())
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// timer 2 firing 1
	// timer 1 firing 1
	// timer 3 firing 1
	// timer 3 firing 2
	// timer 3 firing 3
}
