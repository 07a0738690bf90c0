//go:build !race

// These tests start protoactor cluster members (remote on 127.0.0.1), whose
// own code trips the race detector (see actors/cluster/cluster_test.go);
// they run in the plain `go test` build. The cluster section's and the
// graph's logic is tested under -race on hand-made snapshots
// (webcluster_test.go).

package admin_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os/exec"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/gmkernel/gmk/actors/cluster"
	"github.com/gmkernel/gmk/admin"
	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
)

const tOrder = 40 // orders.in: produced by "shop" on member A, consumed by "sink" on member B

// member is one member of a 2-member in-memory cluster with its kernel and
// an admin server over it.
type member struct {
	k    *kernel.Kernel
	m    *cluster.Member
	c    *pcluster.Cluster
	sink *modtest.Sink
	srv  *admin.Server
	base string
}

// startMembers boots A (module shop declares Produce on the cluster channel
// orders.in) and B (module sink consumes it; only B registers its kind, so
// the consumer grain is placed there), joins them to one cluster and
// serves each over an admin endpoint with Config.Cluster set.
func startMembers(t *testing.T) (a, b *member) {
	t.Helper()
	a, b = bootMember(t, "a.0", false), bootMember(t, "b.0", true)
	agent := test.NewInMemAgent()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, x := range []*member{a, b} {
		wg.Go(func() {
			sys := actor.NewActorSystemWithConfig(actor.Configure(actor.WithLoggerFactory(
				func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) })))
			x.c, errs[i] = cluster.Join(sys, x.m, "gmk-admin-test", test.NewTestProvider(agent), remote.Configure("127.0.0.1", 0))
		})
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	t.Cleanup(func() { stopMembers(t, a, b) }) // before the kernels halt (modtest.Boot's cleanups)
	for _, x := range []*member{a, b} {
		srv, err := admin.Start(admin.Config{Kernels: []admin.Kernel{{K: x.k}}, Cluster: x.m, Sample: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		x.srv, x.base = srv, "http://"+srv.Addr()
	}
	modtest.WaitFor(t, "both members to see both", func() bool {
		return len(a.m.Placement().Members) == 2 && len(b.m.Placement().Members) == 2
	})
	return a, b
}

func bootMember(t *testing.T, id string, consume bool) *member {
	t.Helper()
	m, err := cluster.New(cluster.Config{Channels: []cluster.Channel{{Name: "orders.in", Type: tOrder, Consume: consume}}})
	if err != nil {
		t.Fatal(err)
	}
	x := &member{m: m, sink: &modtest.Sink{}}
	mods := []kernel.Module{m.Module(), {Name: "shop", Channels: []kernel.ChanDecl{
		{Name: "orders.in", Dir: kernel.Produce, Type: tOrder, Guarantee: kernel.Lossless}}}}
	if consume {
		mods = append(mods, m.Consumer(x.sink.Module("sink", "orders.in", tOrder, kernel.ChanSpec{Guarantee: kernel.Lossless})))
	}
	x.k = modtest.Boot(t, kernel.BootConfig{ID: id, MaxTypes: 64}, mods...)
	return x
}

// stopMembers: admin servers close, members leave (every task
// acknowledged), clusters shut down; the kernels halt afterwards.
func stopMembers(t *testing.T, ms ...*member) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, x := range ms {
		if x.srv != nil {
			_ = x.srv.Close(ctx)
		}
		if err := x.m.Leave(ctx); err != nil {
			t.Errorf("leave: %v", err)
		}
	}
	for _, x := range ms {
		x.c.Shutdown(false)
	}
}

// [X5] [U5] An admin endpoint over a cluster member's kernel reports the
// member in its node info and snapshot: on A, whose shop emitted n tasks
// of orders.in, the Cluster section names B as the channel's consumer
// member, with shop as its local producer and the n emits; on B, the
// consumer is local (sink), fed by A's stream of n tasks. The web view's
// graph on A has B's node and an edge crossing members from shop to it; on
// B, A's node and an edge crossing members from it to sink.
func TestX5_AdminClusterMembers(t *testing.T) {
	const n = 200
	a, b := startMembers(t)
	id, err := a.m.Chan("orders.in")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := a.k.ChanEmitWait(context.Background(), id, kernel.Task{Type: tOrder, Meta0: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	b.sink.Wait(t, n)
	addrA, addrB := a.m.Placement().Self, b.m.Placement().Self
	modtest.WaitFor(t, "B's stream from A in B's snapshot", func() bool {
		cl := snapshot(t, b).Cluster
		return cl != nil && len(cl.Channels) == 1 && len(cl.Channels[0].Remote) == 1 && cl.Channels[0].Remote[0].Tasks == n
	})

	modtest.WaitFor(t, "B's acks of the stream in A's snapshot", func() bool { // they come back asynchronously
		cl := snapshot(t, a).Cluster
		return cl != nil && len(cl.Channels) == 1 && cl.Channels[0].Acked == n
	})
	sa := snapshot(t, a)
	if sa.Node.Member != addrA || sa.Cluster == nil || sa.Cluster.Self != addrA || !slices.Contains(sa.Cluster.Members, addrB) {
		t.Fatalf("A's snapshot: member %q, cluster %+v; want self %s, members with %s", sa.Node.Member, sa.Cluster, addrA, addrB)
	}
	if c := sa.Cluster.Channels[0]; c.Name != "orders.in" || c.Consumer != addrB || c.Local || c.Consumes ||
		!slices.Equal(c.Producers, []string{"shop"}) || c.Emits != n || c.Acked != n {
		t.Errorf("A's orders.in: %+v; want consumer %s, producer shop, %d emits acked", c, addrB, n)
	}
	sb := snapshot(t, b)
	if c := sb.Cluster.Channels[0]; c.Consumer != addrB || !c.Local || !slices.Equal(c.Consumers, []string{"sink"}) ||
		c.Delivered != n || c.Remote[0].Member != addrA {
		t.Errorf("B's orders.in: %+v; want local consumer sink, %d delivered from %s", c, n, addrA)
	}
	checkMemberEdge(t, a, "a.0/shop", "member:"+addrB)
	checkMemberEdge(t, b, "member:"+addrA, "b.0/sink")
	var ci admin.ClusterInfo
	if err := json.Unmarshal(get(t, a.base+"/api/v1/cluster", "application/json"), &ci); err != nil || ci.Channels[0].Consumer != addrB {
		t.Errorf("GET /api/v1/cluster on A: %+v %v", ci, err)
	}
}

func snapshot(t *testing.T, x *member) admin.Snapshot {
	t.Helper()
	s, err := admin.NewClient(x.srv.Addr()).Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkMemberEdge: x's graph has an orders.in edge from → to that crosses
// members, a member's node at one end, and its boxes laid out apart.
func checkMemberEdge(t *testing.T, x *member, from, to string) {
	t.Helper()
	g := getGraph(t, x.base)
	kinds := map[string]string{}
	for _, n := range g.Nodes {
		kinds[n.ID] = n.Kind
	}
	if kinds[from] == "" || kinds[to] == "" || kinds[from] != "member" && kinds[to] != "member" {
		t.Errorf("graph nodes %v: want %s and %s, one a member", kinds, from, to)
	}
	found := false
	for _, e := range g.Edges {
		found = found || e.Channel == "orders.in" && e.From == from && e.To == to && e.Members
	}
	if !found {
		t.Errorf("no orders.in edge %s → %s crossing members in %+v", from, to, g.Edges)
	}
	checkLayout(t, g)
}

// [X5] [U5] The web view in headless Chromium on member A: the page draws
// B's node (labelled with its address), an edge of orders.in from shop to it
// in the "crosses members" style, the legend's entry for that style and
// the cluster card naming both members.
func TestX5_WebChromiumMembers(t *testing.T) {
	if _, err := exec.LookPath("chromium"); err != nil {
		t.Skip("chromium is not installed (scripts/install-chromium.sh installs it): the web view's browser test does not run")
	}
	a, b := startMembers(t)
	id, err := a.m.Chan("orders.in")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.k.ChanEmitWait(context.Background(), id, kernel.Task{Type: tOrder}); err != nil {
		t.Fatal(err)
	}
	b.sink.Wait(t, 1)
	addrA, addrB := a.m.Placement().Self, b.m.Placement().Self
	dom := string(chromium(t, a.base+"/ui/", "--dump-dom"))
	count := func(re string) int { return len(regexp.MustCompile(re).FindAllString(dom, -1)) }
	for _, want := range []string{
		`<g class="node member[^"]*" data-id="member:` + regexp.QuoteMeta(addrB) + `"[^>]*data-member="` + regexp.QuoteMeta(addrB) + `"`,
		`>` + regexp.QuoteMeta(addrB) + `</text>`,
		`<g class="edge members[^"]*" data-channel="orders.in" data-kernel="a.0" data-from="a.0/shop" data-to="member:` + regexp.QuoteMeta(addrB) + `"`,
		`<span class="key members">crosses members</span>`,
		`<div class="kcard cluster" data-member="` + regexp.QuoteMeta(addrA) + `">`,
	} {
		if count(want) != 1 {
			t.Errorf("the page has %d of %s, want 1", count(want), want)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}
