package system_test

import (
	"testing"

	"github.com/gmkernel/gmk/internal/gpudtest"
)

// Neither kernel's workers nor the bridge's senders and pumps outlive a
// system Halt, or a failed Boot ([K2]); nor does a GPU daemon's control
// path (protoactor remote, shut down by the daemon backend's Halt).
func TestMain(m *testing.M) { gpudtest.Main(m) }
