package alloc

import (
	"testing"

	"go.uber.org/goleak"
)

// The package starts no goroutines; its stress tests do, and must join them all.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
