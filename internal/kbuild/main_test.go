package kbuild

import (
	"testing"

	"go.uber.org/goleak"
)

// The build runs nvcc, ptxas and cuobjdump through os/exec, whose output
// copying goroutines must all be gone when a build returns.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
