package supervise_test

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/gmkernel/gmk/actors/supervise"
)

// A rest_for_one supervisor: when "parser" fails, the children started
// after it stop (last first) — the temporary "probe" for good — and it and
// "writer" restart in start order; "reader", started before it, is
// untouched.
func ExampleTree() {
	tree, _ := supervise.NewTree(supervise.Flags{Strategy: supervise.RestForOne, Intensity: 5, Period: 30 * time.Second})
	_ = tree.Add("reader", supervise.Permanent)
	_ = tree.Add("parser", supervise.Permanent)
	_ = tree.Add("probe", supervise.Temporary)
	_ = tree.Add("writer", supervise.Transient)

	plan, _ := tree.Exit("parser", supervise.ExitAbnormal, time.Now())
	fmt.Println("stop:   ", plan.Stop)
	fmt.Println("restart:", plan.Restart)
	fmt.Println("removed:", plan.Removed)
	// Output:
	// stop:    [writer probe]
	// restart: [parser writer]
	// removed: [probe]
}

// Backoff delays double from Min and stay within Max, jitter included.
func ExampleBackoff_Delay() {
	b := supervise.Backoff{Min: 100 * time.Millisecond, Max: time.Second, Factor: 0.2}
	for n := range 6 {
		fmt.Print(b.Delay(n, 0.5), " ")
	}
	fmt.Println()
	// Output:
	// 110ms 220ms 440ms 880ms 1s 1s
}

// A Strategy plugs into any protoactor actor; the failing message goes to
// OnFailedMessage instead of being dropped.
func ExampleNewStrategy() {
	s, err := supervise.NewStrategy(supervise.Config{
		Flags:   supervise.Flags{Strategy: supervise.OneForAll, Intensity: 5, Period: 30 * time.Second},
		Backoff: &supervise.Backoff{Min: 10 * time.Millisecond, Max: time.Second, Factor: 0.2},
		OnFailedMessage: func(child *actor.PID, msg any, d *supervise.Decision) {
			// retry msg, or route it to sys.error
		},
	})
	if err != nil {
		panic(err)
	}
	props := actor.PropsFromFunc(func(actor.Context) {}, actor.WithSupervisor(s))
	_ = props
	a, escalate := supervise.KernelAction(actor.RestartDirective)
	fmt.Println(a, escalate)
	// Output:
	// restart false
}
