package types_test

import (
	"testing"

	"go.uber.org/goleak"
)

// A boot that fails must leave no goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
