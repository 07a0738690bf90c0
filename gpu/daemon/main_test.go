package daemon_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// atExit holds what TestMain runs after the tests (removing the daemon
// executable built for them).
var atExit []func()

// No goroutine of the backend — the process waiter, the control path's
// ActorSystem and remote — outlives its Halt.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range atExit {
		f()
	}
	if code == 0 {
		// protoactor's dead-letter throttle (a late answer to a timed-out
		// request) runs a timer goroutine that ends on its own a period later.
		if err := goleak.Find(goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1")); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
