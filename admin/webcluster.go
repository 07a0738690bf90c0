package admin

import "slices"

// The members of the node's protoactor cluster in the web view's graph
// ([X5]). A cluster channel's local end is a kernel channel whose one
// subscriber is the member module's relay, and on the consumer's member the
// consumer module reads a delivery channel that the member's pump emits on:
// both are plumbing. Once the channel's consumer is resolved, clusterEdges
// replaces their edges with what they carry:
//
//   - consumer on another member: an edge from each local producer (the
//     kernel's node when tasks are emitted here and no module declares the
//     channel) to that member's node, at the local channel's emit rate;
//   - consumer here: an edge from each local producer to each local
//     consumer, at the local channel's emit rate, and one from the node of
//     each other member whose stream the consumer received to each local
//     consumer, at that stream's rate.
//
// Edges from or to a member's node cross members (webEdge.Members). A
// member's node sits in the band of the kernel the node's member runs in. A
// channel whose consumer is not resolved yet keeps its plain edges.

// nodeMember is another member of the cluster.
const nodeMember = "member"

// webCluster is the node's cluster membership, for the page's summary.
type webCluster struct {
	Self    string   `json:"self"`
	Members []string `json:"members"`
}

// clusterEdges replaces the plain edges of cl's resolved channels (see the
// comment above); node is buildGraph's, nodes its index.
func (g *webGraph) clusterEdges(cl *ClusterInfo, nodes map[string]*webNode, node func(kernel, module string) string) {
	if cl == nil {
		return
	}
	g.Cluster = &webCluster{Self: cl.Self, Members: cl.Members}
	for _, c := range cl.Channels {
		if c.Consumer == "" {
			continue
		}
		g.Edges = slices.DeleteFunc(g.Edges, func(e *webEdge) bool {
			return e.Kernel == cl.Kernel && (e.Channel == c.Name || c.Delivery != "" && e.Channel == c.Delivery)
		})
		from := modules(cl.Kernel, c.Producers, c.Produces, node)
		if !c.Local {
			to := g.memberNode(nodes, cl.Kernel, c.Consumer)
			for _, f := range from {
				g.addMemberEdge(nodes, c, cl.Kernel, f, to, c.Emits, c.EmitRate)
			}
			continue
		}
		to := modules(cl.Kernel, c.Consumers, true, node)
		for _, t := range to {
			for _, f := range from {
				g.addMemberEdge(nodes, c, cl.Kernel, f, t, c.Emits, c.EmitRate)
			}
			for _, p := range c.Remote {
				g.addMemberEdge(nodes, c, cl.Kernel, g.memberNode(nodes, cl.Kernel, p.Member), t, p.Tasks, p.Rate)
			}
		}
	}
}

// modules returns the nodes of kernel's modules names; with no names, the
// kernel's own node when orKernel, else none.
func modules(kernel string, names []string, orKernel bool, node func(kernel, module string) string) []string {
	var out []string
	for _, m := range names {
		out = append(out, node(kernel, m))
	}
	if len(out) == 0 && orKernel {
		out = append(out, node(kernel, ""))
	}
	return out
}

// memberNode returns the id of the node of the member at addr, adding it.
func (g *webGraph) memberNode(nodes map[string]*webNode, kernel, addr string) string {
	id := "member:" + addr
	if nodes[id] == nil {
		nodes[id] = &webNode{ID: id, Kernel: kernel, Name: addr, Kind: nodeMember}
		g.Nodes = append(g.Nodes, nodes[id])
	}
	return id
}

// addMemberEdge adds channel c's edge from → to carrying tasks at rate; one
// from or to a member's node crosses members, and adds to that node's
// counts.
func (g *webGraph) addMemberEdge(nodes map[string]*webNode, c ClusterChannel, kernel, from, to string, tasks uint64, rate float64) {
	e := &webEdge{Channel: c.Name, Kernel: kernel, From: from, To: to, Emits: tasks, Rate: rate, Depth: c.Depth}
	for _, id := range []string{from, to} {
		if n := nodes[id]; n.Kind == nodeMember {
			e.Members = true
			n.OK += tasks
			n.Rate += rate
		}
	}
	g.Edges = append(g.Edges, e)
}
