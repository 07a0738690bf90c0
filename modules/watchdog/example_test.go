package watchdog_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/modules/watchdog"
)

// A handler hangs on worker 0's or 1's first task; the watchdog, polled by
// hand here (Config.Tick; a node leaves it to the 100 ms ticker), warns at
// the 2nd missed beat and resets at the 5th: the hung module is poisoned.
// Released, the worker recovers.
func Example() {
	release, entered := make(chan struct{}), make(chan struct{})
	slow := kernel.Module{Name: "slow", Handlers: []kernel.Handler{{Type: 1000, Fn: func(*kernel.Ctx) kernel.Status {
		close(entered)
		<-release
		return kernel.OK
	}}}}
	ticks := make(chan time.Time)
	events := make(chan watchdog.Event, 8)
	cfg := watchdog.Config{Tick: ticks, OnEvent: func(e watchdog.Event) { events <- e }}
	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 1 << 20}, watchdog.Modules(cfg, slow)...)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = k.Submit(kernel.Task{Type: 1000})
	<-entered
	for range 6 { // the first sight, then 5 missed beats
		ticks <- time.Time{}
	}
	for range 2 {
		e := <-events
		fmt.Printf("%s: module %s, %d beats missed\n", e.Kind, e.Module, e.Misses)
	}
	fmt.Println("poisoned:", k.Poisoned(1000))
	close(release)
	for recovered := false; !recovered; { // the poll after the call returned
		ticks <- time.Time{} // accepted once the previous poll's events are out
		select {
		case e := <-events:
			fmt.Println(e.Kind)
			recovered = true
		default:
		}
	}
	_ = k.Halt(context.Background())
	// Output:
	// warning: module slow, 2 beats missed
	// reset: module slow, 5 beats missed
	// poisoned: true
	// recovered
}
