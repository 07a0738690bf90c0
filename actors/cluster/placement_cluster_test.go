//go:build !race

// These tests start protoactor cluster members (remote on 127.0.0.1); see
// cluster_test.go for why they are left out of the -race build.

package cluster

import (
	"context"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"

	"github.com/gmkernel/gmk/actors/cluster/clusterview"
)

// TestX5_PlacementNamesTheConsumerMember: in a 2-member cluster where only B
// can consume orders.in, after A's tasks reached B's consumer, A's Placement
// names B as the channel's consumer member, and B's names itself and A as
// the one producer whose stream it accepted every task from ([X5]; the
// admin endpoint's members view reads it). After Leave the consumer is
// unknown again.
func TestX5_PlacementNamesTheConsumerMember(t *testing.T) {
	const n = 1000
	h := newHistory(n)
	nodes := startCluster(t, test.NewInMemAgent(), []nodeSpec{{name: "a"}, {name: "b", consume: true}}, h)
	a, b := nodes[0], nodes[1]
	id, err := a.m.Chan(chanName)
	if err != nil {
		t.Fatal(err)
	}
	if err := produce(a.k, id, n, new(atomic.Int64)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every task handled", func() bool { return h.total.Load() == n })
	addrA, addrB := a.sys.Address(), b.sys.Address()
	waitFor(t, "B's consumer to have acknowledged everything", func() bool {
		return a.m.Placement().Channels[0].Acked == n
	})

	pa := a.m.Placement()
	want := clusterview.Channel{Name: chanName, Produces: true, Consumer: addrB, Relayed: n, Acked: n}
	if pa.Self != addrA || pa.Kernel != a.k.ID() || !slices.Equal(pa.Members, sorted(addrA, addrB)) {
		t.Errorf("A: self %q kernel %q members %v; want %q %q %v", pa.Self, pa.Kernel, pa.Members, addrA, a.k.ID(), sorted(addrA, addrB))
	}
	if len(pa.Channels) != 1 || !equalChan(pa.Channels[0], want) {
		t.Errorf("A's channels: %+v\nwant [%+v]", pa.Channels, want)
	}

	pb := b.m.Placement()
	want = clusterview.Channel{Name: chanName, Delivery: DeliveryName(chanName), Consumes: true, Consumer: addrB,
		Producers: []clusterview.Producer{{Member: addrA, Accepted: n}}}
	if pb.Self != addrB || len(pb.Channels) != 1 || !equalChan(pb.Channels[0], want) {
		t.Errorf("B: self %q, channels %+v\nwant self %q, [%+v]", pb.Self, pb.Channels, addrB, want)
	}

	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	if err := a.m.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if c := a.m.Placement().Channels[0].Consumer; c != "" {
		t.Errorf("A left: consumer %q, want none", c)
	}
}

func sorted(s ...string) []string { slices.Sort(s); return s }

func equalChan(a, b clusterview.Channel) bool { return reflect.DeepEqual(a, b) }
