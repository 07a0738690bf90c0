//go:build !race

// This test starts protoactor cluster members; see cluster_test.go for why
// it is left out of the -race build.

package cluster

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// TestX5_ConsumerYieldsAndFailures: a task is acknowledged only when its
// consumer finished it — a yielding handler finishes on its last run, a
// failing one when the kernel gives up and the member's error handler takes
// it (Stats.Failed) — and the acknowledgement waits for the oldest
// unfinished task, so retried tasks finishing late hold it back without
// losing anything: the producer's member leaves with every task acknowledged.
func TestX5_ConsumerYieldsAndFailures(t *testing.T) {
	const n = 5000
	var runs, yields, fails, oks atomic.Int64
	consumer := kernel.Module{Name: "picky",
		Handlers: []kernel.Handler{{Type: chanType, Fn: func(c *kernel.Ctx) kernel.Status {
			runs.Add(1)
			x := c.Task()
			switch {
			case x.Meta0%500 == 1:
				fails.Add(1)
				return kernel.Fail // every run: retried, then the error handler
			case x.Meta0%10 == 0 && x.Meta1 == 0:
				x.Meta1 = 1
				yields.Add(1)
				c.Yield() // once: the task runs again
				return kernel.OK
			}
			oks.Add(1)
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: chanName, Dir: kernel.Consume, Type: chanType, Guarantee: kernel.Lossless}}}

	agent := test.NewInMemAgent()
	var nodes []*node
	for _, consume := range []bool{false, true} {
		m, err := New(Config{Channels: []Channel{{Name: chanName, Type: chanType, Consume: consume}}, Logger: testLogger()})
		if err != nil {
			t.Fatal(err)
		}
		mods := []kernel.Module{m.Module()}
		if consume {
			mods = append(mods, m.Consumer(consumer))
		}
		k, err := kernel.Boot(kernelConfig(), mods...)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, &node{name: map[bool]string{false: "a", true: "b"}[consume], k: k, m: m, sys: newSystem(testLogger())})
	}
	done := make(chan error, 2)
	for _, x := range nodes {
		go func() {
			var err error
			x.c, err = Join(x.sys, x.m, clusterName, test.NewTestProvider(agent), remote.Configure("127.0.0.1", 0))
			done <- err
		}()
	}
	for range nodes {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { stopCluster(t, nodes) })

	a, b := nodes[0], nodes[1]
	id, _ := a.m.Chan(chanName)
	for i := range n {
		if err := a.k.ChanEmitWait(context.Background(), id, task.Task{Type: chanType, Meta0: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	if err := a.m.Leave(ctx); err != nil { // every task acknowledged
		cs, _ := a.k.ChanStats(id)
		t.Fatalf("%v\nA %+v, channel %+v\nB %+v", err, a.m.Stats(), cs, b.m.Stats())
	}
	sb := b.m.Stats()
	wantFail := int64(n / 500)
	if sb.Failed != uint64(wantFail) || oks.Load() != n-wantFail || yields.Load() != n/10 {
		t.Errorf("failed %d (want %d), ok %d (want %d), yields %d (want %d)",
			sb.Failed, wantFail, oks.Load(), n-wantFail, yields.Load(), n/10)
	}
	if sb.Handled != n || sb.Duplicates != 0 || a.m.Stats().Redelivered != 0 {
		t.Errorf("consumer stats %+v, producer redelivered %d", sb, a.m.Stats().Redelivered)
	}
	t.Logf("%d runs for %d tasks (%d failing runs); consumer %+v", runs.Load(), n, fails.Load(), sb)
}
