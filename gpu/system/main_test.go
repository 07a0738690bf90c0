package system_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// atExit holds what TestMain runs after the tests (removing a daemon
// executable built for them).
var atExit []func()

// Neither kernel's workers nor the bridge's senders and pumps outlive a
// system Halt, or a failed Boot ([K2]); nor does a GPU daemon's control
// path (protoactor remote, shut down by the daemon backend's Halt).
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
