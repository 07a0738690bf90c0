package daemon_test

import (
	"testing"

	"github.com/gmkernel/gmk/internal/gpudtest"
)

// No goroutine of the backend — the process waiter, the control path's
// ActorSystem and remote — outlives its Halt.
func TestMain(m *testing.M) { gpudtest.Main(m) }
