package cluster

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine of this package outlives the tests.
// protoactor's cluster and remote leave goroutines of their own behind after
// a member shuts down (the test provider's TTL ticker, gRPC's, the endpoint
// manager's); they are ignored by name, nothing of GMK's is.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, protoactorGoroutines...)
}

// protoactorGoroutines are the goroutines protoactor-go and its gRPC leave
// running after Shutdown.
var protoactorGoroutines = []goleak.Option{
	// The in-memory test provider's TTL loop ranges over a stopped ticker.
	goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/cluster/clusterproviders/test.(*Provider).startTtlReport.func1"),
	// The gossip actor's log throttles wait on channels nobody closes.
	goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/cluster.(*Gossiper).StartGossiping.NewThrottle.func3.1"),
	goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/cluster.NewGossipActor.NewThrottleWithLogger.func2.1"),
	// Endpoint writers still retrying a crashed member, and their gRPC
	// client connections.
	goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/remote.(*endpointWriter).initialize"),
	goleak.IgnoreTopFunction("google.golang.org/grpc.(*addrConn).resetTransport"),
	goleak.IgnoreTopFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"),
}
