package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when any scenario leaves a goroutine behind:
// the protoactor runs in particular must stop every actor they spawn.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// nopTimer stands in for *testing.B when a test runs a scenario directly.
type nopTimer struct{}

func (nopTimer) ResetTimer() {}
func (nopTimer) StopTimer()  {}
