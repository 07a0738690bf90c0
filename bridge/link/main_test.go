package link_test

import (
	"testing"

	"go.uber.org/goleak"
)

// No goroutine of the link — senders, pumps — nor of the kernels outlives a
// test ([K2]).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
