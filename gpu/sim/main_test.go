package sim_test

import (
	"testing"

	"go.uber.org/goleak"
)

// No worker goroutine survives a Halt or a Reset ([K2]).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
