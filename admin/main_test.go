package admin_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/internal/leaktest"
)

// TestMain checks that no goroutine of this package outlives the tests.
// The cluster tests (cluster_member_test.go) start protoactor cluster
// members, whose code leaves goroutines of its own behind after Shutdown;
// those are ignored by name (leaktest.Protoactor), nothing of GMK's is.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m, leaktest.Protoactor()...) }
