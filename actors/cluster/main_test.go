package cluster

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/internal/leaktest"
)

// TestMain checks that no goroutine of this package outlives the tests.
// protoactor's cluster and remote leave goroutines of their own behind after
// a member shuts down (the test provider's TTL ticker, gRPC's, the endpoint
// manager's); they are ignored by name, nothing of GMK's is.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, leaktest.Protoactor()...)
}
