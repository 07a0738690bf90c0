package supervise

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests. The actor tests
// stop every actor they spawn; TimerScheduler's timers are not used.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
