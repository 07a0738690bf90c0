package system_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Neither kernel's workers nor the bridge's senders and pumps outlive a
// system Halt, or a failed Boot ([K2]).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
