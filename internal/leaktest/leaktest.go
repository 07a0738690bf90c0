// Package leaktest holds the goroutine-leak checks shared by the tests that
// run protoactor-go: goleak options that ignore, by name, the goroutines
// protoactor and its gRPC leave behind after Shutdown — and nothing of
// GMK's. A test package's TestMain passes them to goleak.VerifyTestMain.
package leaktest

import "go.uber.org/goleak"

// Protoactor returns the goleak options that ignore protoactor-go's own
// leftover goroutines.
func Protoactor() []goleak.Option {
	return []goleak.Option{
		// A dead-letter throttle ends on its own a moment after the last
		// message to a stopped actor.
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"),
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
}
