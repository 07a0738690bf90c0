//go:build !race

// Helpers of the cluster tests; they start protoactor remote (see
// cluster_test.go for why this file is excluded under -race).

package cluster

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"github.com/asynkron/protoactor-go/remote"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	"github.com/gmkernel/gmk/kernel"
)

const (
	chanName     = "orders.in"
	chanType     = 3
	testDeadline = 60 * time.Second
	clusterName  = "gmk-test"
)

// testLogger logs to stderr when GMK_CLUSTER_LOG is set, else nowhere.
func testLogger() *zap.Logger {
	if os.Getenv("GMK_CLUSTER_LOG") == "" {
		return zap.NewNop()
	}
	l, _ := zap.NewDevelopment()
	return l
}

// newSystem is an ActorSystem whose slog output goes to l.
func newSystem(l *zap.Logger) *actor.ActorSystem {
	h := zapslog.NewHandler(l.Core(), zapslog.WithName("protoactor"))
	return actor.NewActorSystemWithConfig(actor.Configure(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(h) })))
}

type nodeSpec struct {
	name    string
	consume bool
}

// node is one cluster member of a test: system, kernel, member, cluster.
type node struct {
	name string
	sys  *actor.ActorSystem
	k    *kernel.Kernel
	m    *Member
	c    *cluster.Cluster
	rec  *recorder
	down bool
}

func kernelConfig() kernel.BootConfig {
	return kernel.BootConfig{Workers: 2, ArenaSize: 4 << 20, QueueCap: 4096, EVQCap: 4096, MaxTypes: 16, MaxChannels: 16}
}

// bootNode boots a kernel with a member for orders.in (a consumer module
// recording into h when spec.consume).
func bootNode(t *testing.T, spec nodeSpec, h *history, cfg Config) *node {
	t.Helper()
	log := testLogger().Named(spec.name)
	cfg.Channels = []Channel{{Name: chanName, Type: chanType, Consume: spec.consume}}
	cfg.Logger = log
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{name: spec.name, m: m, sys: newSystem(log)}
	mods := []kernel.Module{m.Module()}
	if spec.consume {
		n.rec = &recorder{h: h}
		mods = append(mods, m.Consumer(kernel.Module{Name: "sink",
			Handlers: []kernel.Handler{{Type: chanType, Fn: n.rec.handle}},
			Channels: []kernel.ChanDecl{{Name: chanName, Dir: kernel.Consume, Type: chanType, Guarantee: kernel.Lossless}}}))
	} else {
		n.rec = &recorder{h: h}
	}
	kc := kernelConfig()
	kc.Logger = log
	if n.k, err = kernel.Boot(kc, mods...); err != nil {
		t.Fatal(err)
	}
	return n
}

// startCluster boots the nodes and joins them to one in-memory cluster, in
// parallel (StartMember sleeps a second), then waits until every member sees
// the same topology of all of them.
func startCluster(t *testing.T, agent *test.InMemAgent, specs []nodeSpec, h *history) []*node {
	t.Helper()
	nodes := make([]*node, len(specs))
	for i, s := range specs {
		nodes[i] = bootNode(t, s, h, Config{})
	}
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.c, errs[i] = Join(n.sys, n.m, clusterName, test.NewTestProvider(agent), remote.Configure("127.0.0.1", 0))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { stopCluster(t, nodes) })
	waitFor(t, "the topology", func() bool {
		h0 := nodes[0].c.MemberList.Members().TopologyHash()
		for _, n := range nodes {
			ms := n.c.MemberList.Members()
			if ms.Len() != len(nodes) || ms.TopologyHash() != h0 {
				return false
			}
		}
		return true
	})
	return nodes
}

// crash simulates the loss of n's process in the worst case for
// duplicates: its member stops at once (nothing is acknowledged any more),
// its consumer still handles every task already delivered (handled, never
// acknowledged: the producer must send them again), then remote goes down
// without the graceful path and the in-memory provider forgets it (it never
// notices by itself).
func (n *node) crash(t *testing.T, agent *test.InMemAgent) {
	t.Helper()
	now, cancel := context.WithCancel(context.Background())
	cancel()
	_ = n.m.Leave(now)
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	if err := n.k.Halt(ctx); err != nil {
		t.Errorf("%s: halt: %v", n.name, err)
	}
	n.c.Shutdown(false)
	agent.DeregisterService(n.sys.ID)
	n.down = true
}

// stopCluster stops the nodes still up: members leave (every relayed task
// acknowledged), clusters shut down, kernels halt with the accounting
// identity holding.
func stopCluster(t *testing.T, nodes []*node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	for _, n := range nodes {
		if !n.down {
			if err := n.m.Leave(ctx); err != nil {
				t.Errorf("%s: leave: %v", n.name, err)
			}
		}
	}
	for _, n := range nodes {
		if n.down {
			continue
		}
		n.down = true
		n.c.Shutdown(false)
		if err := n.k.Halt(ctx); err != nil {
			t.Errorf("%s: halt: %v", n.name, err)
		}
		r, _ := n.k.Halted()
		s := r.Stats
		if s.Completed+s.Errored+s.Dropped+r.Queued != s.Created() {
			t.Errorf("%s: accounting: %v, queued %d", n.name, s, r.Queued)
		}
	}
}

// waitFor polls cond until it holds or testDeadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(testDeadline); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
