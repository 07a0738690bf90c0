package admin

import (
	"slices"
	"testing"
)

// clusterSnap is a hand-made snapshot of member 10.0.0.1:1 of a cluster,
// kernel k0: module shop produces the cluster channel orders.in, module
// sink consumes it (on its delivery channel), gmk.cluster is the member's
// module (the relay of orders.in, the error handler of the delivery
// channel). consumer is where the channel's consumer grain is; remote are
// the other members streaming to it when it is here.
func clusterSnap(consumer string, remote ...ClusterProducer) Snapshot {
	const self, delivery = "10.0.0.1:1", "gmk-cluster.orders.in"
	mod := func(name string) Module { return Module{Kernel: "k0", Name: name, State: ModuleRunning} }
	return Snapshot{
		Node:    NodeInfo{Kernels: []KernelInfo{{ID: "k0"}}, Member: self},
		Modules: []Module{mod("gmk.cluster"), mod("shop"), mod("sink")},
		Channels: []Channel{
			{Kernel: "k0", Name: "orders.in", Type: 3, Producers: []string{"shop"}, Emits: 100, EmitRate: 12.5,
				Subs: []Sub{{Module: "gmk.cluster"}}},
			{Kernel: "k0", Name: delivery, Type: 3, Emits: 140, EmitRate: 16.5,
				Subs: []Sub{{Module: "sink"}, {Index: -1, Module: "gmk.cluster", OnError: true}}},
		},
		Cluster: &ClusterInfo{Self: self, Kernel: "k0", Members: []string{self, "10.0.0.2:2", "10.0.0.3:3"},
			Channels: []ClusterChannel{{Name: "orders.in", Consumer: consumer, Local: consumer == self, Consumes: true,
				Produces: true, Producers: []string{"shop"}, Consumers: []string{"sink"}, Delivery: delivery,
				Emits: 100, EmitRate: 12.5, Remote: remote}}},
	}
}

// [X5] [U5] The web view's graph shows the cluster's members: a cluster
// channel whose consumer is on another member is an edge, crossing members,
// from its local producer to that member's node (labelled with its address)
// at the local channel's emit rate; one whose consumer is here is an edge
// from each other producing member's node to the local consumer, at that
// stream's rate, and a plain one from the local producer; the plumbing
// edges (to the relay, on the delivery channel) are gone; an unresolved
// channel keeps its plain edges. Every node stays inside its band, apart.
func TestX5_WebGraphMembers(t *testing.T) {
	type edge struct {
		from, to string
		members  bool
		rate     float64
	}
	for _, tc := range []struct {
		name     string
		snap     Snapshot
		members  []string // member nodes
		edges    []edge   // orders.in's edges
		delivery bool     // the delivery channel keeps its edges
	}{
		{"consumer elsewhere", clusterSnap("10.0.0.2:2"), []string{"10.0.0.2:2"},
			[]edge{{"k0/shop", "member:10.0.0.2:2", true, 12.5}}, false},
		{"consumer here", clusterSnap("10.0.0.1:1", ClusterProducer{Member: "10.0.0.3:3", Tasks: 40, Rate: 4}),
			[]string{"10.0.0.3:3"},
			[]edge{{"k0/shop", "k0/sink", false, 12.5}, {"member:10.0.0.3:3", "k0/sink", true, 4}}, false},
		{"unresolved", clusterSnap(""), nil, []edge{{"k0/shop", "k0/gmk.cluster", false, 12.5}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := buildGraph(tc.snap)
			var members []string
			for _, n := range g.Nodes {
				if n.Kind == nodeMember {
					members = append(members, n.Name)
					if n.ID != "member:"+n.Name || n.Kernel != "k0" {
						t.Errorf("member node %+v", n)
					}
				}
			}
			if !slices.Equal(members, tc.members) {
				t.Errorf("member nodes %v, want %v", members, tc.members)
			}
			var edges []edge
			delivery := false
			for _, e := range g.Edges {
				switch e.Channel {
				case "orders.in":
					edges = append(edges, edge{e.From, e.To, e.Members, e.Rate})
				case "gmk-cluster.orders.in":
					delivery = true
				}
			}
			if !slices.Equal(edges, tc.edges) || delivery != tc.delivery {
				t.Errorf("orders.in edges %+v, delivery edges %v; want %+v, %v", edges, delivery, tc.edges, tc.delivery)
			}
			if g.Cluster == nil || g.Cluster.Self != "10.0.0.1:1" || len(g.Cluster.Members) != 3 {
				t.Errorf("graph's cluster: %+v", g.Cluster)
			}
			checkBoxes(t, g)
		})
	}
}

// checkBoxes: every node inside its kernel's band, no two overlapping.
func checkBoxes(t *testing.T, g *webGraph) {
	t.Helper()
	for i, n := range g.Nodes {
		k := g.Kernels[slices.IndexFunc(g.Kernels, func(k webKernel) bool { return k.ID == n.Kernel })]
		if n.X < k.X || n.Y < k.Y || n.X+n.W > k.X+k.W || n.Y+n.H > k.Y+k.H {
			t.Errorf("node %s outside its band", n.ID)
		}
		for _, m := range g.Nodes[i+1:] {
			if n.X < m.X+m.W && m.X < n.X+n.W && n.Y < m.Y+m.H && m.Y < n.Y+n.H {
				t.Errorf("nodes %s and %s overlap", n.ID, m.ID)
			}
		}
	}
}
