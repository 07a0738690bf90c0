package watchdog_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The poll goroutine ends at the module's Fini: none survives a halted kernel.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
