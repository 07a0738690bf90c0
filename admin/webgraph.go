package admin

import (
	"cmp"
	"slices"
	"time"

	"github.com/gmkernel/gmk/kernel"
)

// The web view's graph ([U5]): modules as nodes, channels as edges from
// their producers to their consumers, laid out in layers from left to
// right, one horizontal band per kernel. buildGraph is a pure function of a
// Snapshot; the page (web/app.js) only draws what it returns.
//
// Edges. A channel's producers are the modules that declare it Produce;
// its consumers are its subscribers. A channel with no producing module
// (tasks submitted, emitted by the kernel, gmk emit) starts at its kernel's
// node; one with no subscriber ends there. A channel declared on several
// kernels is a bridge channel ([B1]): where it has producers, they feed
// its subscribers (the bridge's relay module among them); where it has
// none, its subscribers are fed by the producers on the other kernels,
// over an edge that crosses kernels. (The untyped system channels, sys.*,
// are every kernel's own.) A cluster channel's edges go to and from the
// nodes of the other members of the node's cluster (webcluster.go).

// webGraph is the body of GET /ui/graph.json.
type webGraph struct {
	Time    time.Time   `json:"time"`
	Width   float64     `json:"width"`
	Height  float64     `json:"height"`
	Kernels []webKernel `json:"kernels"`
	Nodes   []*webNode  `json:"nodes"`
	Edges   []*webEdge  `json:"edges"`
	Cluster *webCluster `json:"cluster,omitempty"` // the node's cluster membership ([X5], webcluster.go)
}

// webKernel is a kernel's band and its summary.
type webKernel struct {
	ID        string  `json:"id"`
	Role      string  `json:"role"`
	Workers   int     `json:"workers"`
	Active    int     `json:"active"`
	Stalled   int     `json:"stalled"`
	Completed uint64  `json:"completed"`
	Rate      float64 `json:"rate"`
	ErrRate   float64 `json:"err_rate"`
	InFlight  uint64  `json:"in_flight"`
	X         float64 `json:"x"`
	Y         float64 `json:"y"`
	W         float64 `json:"w"`
	H         float64 `json:"h"`

	corridor float64 // y of the lowest line of the corridor above its rows (edges that skip columns)
	skips    int     // edges routed in the corridor so far
}

// Node kinds.
const (
	nodeModule = "module"
	nodeKernel = "kernel" // the kernel itself: source or sink of channels no module produces or consumes
	// nodeMember (webcluster.go): another member of the node's cluster
)

// webNode is a module (or a kernel's own node) and its box.
type webNode struct {
	ID       string  `json:"id"` // kernel/module ("kernel/" for the kernel's node, "member:addr" for a member's)
	Kernel   string  `json:"kernel"`
	Name     string  `json:"name"`
	Kind     string  `json:"kind"`
	State    string  `json:"state,omitempty"`
	OK       uint64  `json:"ok"`
	Fail     uint64  `json:"fail"`
	Rate     float64 `json:"rate"`
	FailRate float64 `json:"fail_rate"`
	X        float64 `json:"x"`
	Y        float64 `json:"y"`
	W        float64 `json:"w"`
	H        float64 `json:"h"`

	layer int
}

// webEdge is one producer→consumer pair of a channel, with its route.
type webEdge struct {
	Channel  string  `json:"channel"`
	Kernel   string  `json:"kernel"` // the kernel whose subscribers it feeds
	From     string  `json:"from"`
	To       string  `json:"to"`
	Bridge   bool    `json:"bridge"`  // the channel is declared on several kernels
	Cross    bool    `json:"cross"`   // the edge crosses kernels
	Members  bool    `json:"members"` // the edge crosses members of the cluster ([X5], webcluster.go)
	Emits    uint64  `json:"emits"`
	Rate     float64 `json:"rate"` // emits per second on the producing side
	Depth    int     `json:"depth"`
	Drops    uint64  `json:"drops"`
	DropRate float64 `json:"drop_rate"`
	Path     string  `json:"path"` // SVG path data
	LX       float64 `json:"lx"`   // label position
	LY       float64 `json:"ly"`
}

// buildGraph turns a snapshot into the laid-out graph.
func buildGraph(snap Snapshot) *webGraph {
	g := &webGraph{Time: snap.Time}
	nodes := map[string]*webNode{}
	for _, m := range snap.Modules {
		n := &webNode{ID: m.Kernel + "/" + m.Name, Kernel: m.Kernel, Name: m.Name, Kind: nodeModule, State: m.State,
			OK: m.OK, Fail: m.Fail, Rate: m.Rate, FailRate: m.FailRate}
		nodes[n.ID] = n
		g.Nodes = append(g.Nodes, n)
	}
	node := func(kernel, module string) string {
		id := kernel + "/" + module
		if nodes[id] == nil { // the kernel's own node, or a module the snapshot lacks
			kind := nodeKernel
			if module != "" {
				kind = nodeModule
			}
			nodes[id] = &webNode{ID: id, Kernel: kernel, Name: cmp.Or(module, kernel), Kind: kind}
			g.Nodes = append(g.Nodes, nodes[id])
		}
		return id
	}
	for _, group := range channelGroups(snap.Channels) {
		g.Edges = append(g.Edges, channelEdges(group, node)...)
	}
	g.clusterEdges(snap.Cluster, nodes, node)
	layer(g.Nodes, g.Edges, nodes)
	place(g, snap, nodes)
	route(g, nodes)
	return g
}

// channelGroups groups the channels by name (a bridge channel has a row
// per kernel), in the order of their first rows.
func channelGroups(chans []Channel) [][]Channel {
	var groups [][]Channel
	at := map[string]int{}
	for _, c := range chans {
		i, ok := at[c.Name]
		if !ok {
			i = len(groups)
			at[c.Name] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], c)
	}
	return groups
}

// channelEdges returns a channel's edges (see the file comment); node
// returns the id of a kernel's module ("" = the kernel's own node).
func channelEdges(group []Channel, node func(kernel, module string) string) []*webEdge {
	bridge := len(group) > 1 && group[0].Type != kernel.AnyType // every kernel has its own system channels
	var out []*webEdge
	for _, c := range group {
		from := []Channel{c} // the rows whose producers feed c's subscribers
		if len(c.Producers) == 0 && bridge {
			from = slices.DeleteFunc(slices.Clone(group), func(o Channel) bool { return len(o.Producers) == 0 })
			if len(from) == 0 {
				from = []Channel{c}
			}
		}
		var to []string
		for _, s := range c.Subs {
			if id := node(c.Kernel, s.Module); !slices.Contains(to, id) {
				to = append(to, id)
			}
		}
		if len(to) == 0 {
			to = []string{node(c.Kernel, "")}
		}
		for _, p := range from {
			prods := p.Producers
			if len(prods) == 0 {
				prods = []string{""}
			}
			for _, mod := range prods {
				for _, t := range to {
					out = append(out, &webEdge{Channel: c.Name, Kernel: c.Kernel, From: node(p.Kernel, mod), To: t,
						Bridge: bridge, Cross: p.Kernel != c.Kernel, Emits: p.Emits, Rate: p.EmitRate,
						Depth: c.Depth, Drops: c.Drops, DropRate: c.DropRate})
				}
			}
		}
	}
	return out
}

// layer assigns each node its column: the longest path to it from a
// source, once the edges that close cycles are set aside (found by a
// depth-first search from the kernels' nodes, then from the nodes nothing
// feeds, then from the rest, each in snapshot order: deterministic).
func layer(ns []*webNode, es []*webEdge, nodes map[string]*webNode) {
	adj := map[string][]string{}
	fed := map[string]bool{}
	for _, e := range es {
		if e.From != e.To {
			adj[e.From] = append(adj[e.From], e.To)
			fed[e.To] = true
		}
	}
	const (
		unseen = iota
		open
		done
	)
	state := map[string]int{}
	var order []string // reverse post-order: a topological order of the forward edges
	var visit func(string)
	visit = func(n string) {
		state[n] = open
		for _, m := range adj[n] {
			if state[m] == unseen {
				visit(m)
			}
		}
		state[n] = done
		order = append(order, n)
	}
	for pass := range 3 {
		for _, n := range ns {
			first := pass == 0 && n.Kind == nodeKernel || pass == 1 && !fed[n.ID] || pass == 2
			if first && state[n.ID] == unseen {
				visit(n.ID)
			}
		}
	}
	rank := map[string]int{}
	for i, n := range order {
		rank[n] = len(order) - i
	}
	for i := len(order) - 1; i >= 0; i-- { // sources first
		n := order[i]
		for _, m := range adj[n] {
			if rank[m] > rank[n] { // a forward edge (back edges close cycles)
				nodes[m].layer = max(nodes[m].layer, nodes[n].layer+1)
			}
		}
	}
}
