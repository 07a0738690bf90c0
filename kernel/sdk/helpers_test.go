package sdk_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/internal/modtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The kernel fixtures are the standard modules' (internal/modtest): a kernel
// halted at cleanup with the accounting checked, bounded polls, submits that
// wait for room.
var (
	boot    = modtest.Boot
	halt    = modtest.Halt
	waitFor = modtest.WaitFor
	submit  = modtest.Submit
)
