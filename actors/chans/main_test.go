package chans

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests. The local tests stop
// every actor, the kernel and the ActorSystem. The remote test shuts remote
// down without the graceful path, after which this protoactor version leaves
// none of its goroutines running either, so nothing is ignored.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
