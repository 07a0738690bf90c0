package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/gmkernel/gmk/actors/cluster/clusterview"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// TestX5_PlacementBeforeStart: a member whose kernel booted but which has
// not joined a cluster reports its channels — what it produces (a module's
// Produce declaration, or tasks emitted on the local channel) and can
// consume — with no address, no members and no consumer yet ([X5]).
func TestX5_PlacementBeforeStart(t *testing.T) {
	const tOrder, tAudit = 3, 4
	m, err := New(Config{Channels: []Channel{{Name: "orders.in", Type: tOrder},
		{Name: "audit.log", Type: tAudit, Consume: true}, {Name: "idle.out", Type: tOrder}}})
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Placement(); p.Kernel != "" || len(p.Channels) != 3 || p.Channels[0].Produces {
		t.Fatalf("before boot: %+v", p)
	}
	ok := func(*kernel.Ctx) kernel.Status { return kernel.OK }
	shop := kernel.Module{Name: "shop", Handlers: []kernel.Handler{{Type: 9, Fn: ok}},
		Channels: []kernel.ChanDecl{{Name: "orders.in", Dir: kernel.Produce, Type: tOrder, Guarantee: kernel.Lossless}}}
	audit := m.Consumer(kernel.Module{Name: "audit", Handlers: []kernel.Handler{{Type: tAudit, Fn: ok}},
		Channels: []kernel.ChanDecl{{Name: "audit.log", Dir: kernel.Consume, Type: tAudit, Guarantee: kernel.Lossless}}})
	k, err := kernel.Boot(kernel.BootConfig{Workers: 1, ArenaSize: 1 << 20, MaxTypes: 16, MaxChannels: 16},
		m.Module(), shop, audit)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = k.Halt(t.Context()) }()
	id, _ := m.Chan("audit.log")
	if err := k.ChanEmit(id, task.Task{Type: tAudit}); err != nil {
		t.Fatal(err)
	}
	waitRelayed(t, m, 1)

	p := m.Placement()
	want := []clusterview.Channel{
		{Name: "orders.in", Produces: true},
		{Name: "audit.log", Delivery: DeliveryName("audit.log"), Produces: true, Consumes: true, Relayed: 1},
		{Name: "idle.out"},
	}
	if p.Self != "" || p.Members != nil || p.Kernel != k.ID() {
		t.Errorf("self %q, members %v, kernel %q; want none, none, %q", p.Self, p.Members, p.Kernel, k.ID())
	}
	for i, c := range p.Channels {
		if c.Name != want[i].Name || c.Delivery != want[i].Delivery || c.Produces != want[i].Produces ||
			c.Consumes != want[i].Consumes || c.Consumer != "" || c.Relayed != want[i].Relayed || c.Producers != nil {
			t.Errorf("channel %d: %+v, want %+v", i, c, want[i])
		}
	}
}

// waitRelayed polls until the member's relays took n tasks.
func waitRelayed(t *testing.T, m *Member, n uint64) {
	t.Helper()
	for range 100_000 {
		if m.Stats().Relayed >= n {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
	t.Fatalf("relayed %d, want %d", m.Stats().Relayed, n)
}

// ExampleMember_Placement shows a member's report before it joins a
// cluster: the channels it can consume, and no consumer resolved yet.
func ExampleMember_Placement() {
	m, _ := New(Config{Channels: []Channel{{Name: "orders.in", Type: 3, Consume: true}}})
	for _, c := range m.Placement().Channels {
		fmt.Printf("%s: consumes %v, delivery %s, consumer %q\n", c.Name, c.Consumes, c.Delivery, c.Consumer)
	}
	// Output:
	// orders.in: consumes true, delivery gmk-cluster.orders.in, consumer ""
}
