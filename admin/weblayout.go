package admin

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Geometry of the web view's graph, in SVG user units (pixels at 100 %).
const (
	graphMargin = 16.0
	bandTitle   = 34.0  // room above a band's first row for its title
	bandFoot    = 40.0  // room below its last row for edges routed under nodes
	rowH        = 64.0  // one node per row of a column
	nodeH       = 42.0  // a node's box: its name and its rates
	minNodeW    = 124.0 // wide enough for "8.4K/s · 1.2K fail"
	charW       = 7.4   // a name character at the page's 12 px node font
	gapX        = 210.0 // between columns: room for the edges' labels
	parallelGap = 18.0  // between parallel edges' labels
)

// place sizes the nodes and gives each kernel a band and each node its box:
// x by layer, y by its order in its kernel's column.
func place(g *webGraph, snap Snapshot, nodes map[string]*webNode) {
	kernels, last := g.kernelBands(snap), 0
	for _, n := range g.Nodes {
		n.W, n.H = max(minNodeW, float64(len(n.Name))*charW+28), nodeH
		last = max(last, n.layer)
	}
	colX := make([]float64, last+1)
	colX[0] = 2 * graphMargin
	for l := range last {
		w := minNodeW
		for _, n := range g.Nodes {
			if n.layer == l {
				w = max(w, n.W)
			}
		}
		colX[l+1] = colX[l] + w + gapX
	}
	rows := map[string]int{} // per kernel: the tallest column
	cols := map[[2]any][]*webNode{}
	for _, n := range g.Nodes {
		k := [2]any{n.Kernel, n.layer}
		cols[k] = append(cols[k], n)
		rows[n.Kernel] = max(rows[n.Kernel], len(cols[k]))
	}
	skips := map[string]int{}
	for _, e := range g.Edges {
		if a, b := nodes[e.From], nodes[e.To]; skipping(a, b) {
			skips[a.Kernel]++
		}
	}
	y := graphMargin
	for i := range kernels {
		k := &g.Kernels[i]
		corridor := float64(skips[k.ID]) * parallelGap
		k.X, k.Y, k.H = graphMargin, y, bandTitle+corridor+float64(rows[k.ID])*rowH+bandFoot
		k.corridor = y + bandTitle + corridor - 4
		y += k.H + graphMargin
	}
	preds := predecessors(g.Edges, nodes)
	for l := 0; l <= last; l++ {
		for _, k := range g.Kernels {
			col := orderColumn(cols[[2]any{k.ID, l}], preds, g.Nodes)
			top := k.corridor + 4 + (float64(rows[k.ID]-len(col)))*rowH/2
			for i, n := range col {
				n.X, n.Y = colX[l], top+float64(i)*rowH+(rowH-nodeH)/2
			}
		}
	}
	for _, n := range g.Nodes {
		g.Width = max(g.Width, n.X+n.W+2*graphMargin)
	}
	g.Height = y
	for i := range g.Kernels {
		g.Kernels[i].W = g.Width - 2*graphMargin
	}
}

// kernelBands lists the kernels (the node's order, then any other a node
// names) with their summaries.
func (g *webGraph) kernelBands(snap Snapshot) []webKernel {
	add := func(id, role string) {
		if !slices.ContainsFunc(g.Kernels, func(k webKernel) bool { return k.ID == id }) {
			g.Kernels = append(g.Kernels, webKernel{ID: id, Role: role})
		}
	}
	for _, k := range snap.Node.Kernels {
		add(k.ID, k.Role)
	}
	for _, n := range g.Nodes {
		add(n.Kernel, "")
	}
	for i := range g.Kernels {
		k := &g.Kernels[i]
		for _, st := range snap.Kernels {
			if st.Kernel == k.ID {
				k.Workers, k.Completed, k.Rate, k.ErrRate, k.InFlight = st.Workers, st.Tasks.Completed,
					st.Rates.Completed, st.Rates.Errored, st.Tasks.InFlight
			}
		}
		for _, w := range snap.Workers {
			if w.Kernel == k.ID && w.State != WorkerIdle {
				k.Active++
			}
			if w.Kernel == k.ID && w.State == WorkerStalled {
				k.Stalled++
			}
		}
	}
	return g.Kernels
}

// predecessors maps each node to the nodes whose forward edges reach it.
func predecessors(es []*webEdge, nodes map[string]*webNode) map[*webNode][]*webNode {
	p := map[*webNode][]*webNode{}
	for _, e := range es {
		a, b := nodes[e.From], nodes[e.To]
		if b.layer > a.layer {
			p[b] = append(p[b], a)
		}
	}
	return p
}

// orderColumn orders a column: kernels' nodes first, then by the mean
// height of their predecessors (fewer crossings), then in snapshot order.
func orderColumn(col []*webNode, preds map[*webNode][]*webNode, all []*webNode) []*webNode {
	key := func(n *webNode) float64 {
		if n.Kind == nodeKernel {
			return math.Inf(-1)
		}
		ps := preds[n]
		if len(ps) == 0 {
			return math.Inf(1)
		}
		sum := 0.0
		for _, p := range ps {
			sum += p.Y
		}
		return sum / float64(len(ps))
	}
	index := func(n *webNode) int { return slices.Index(all, n) }
	slices.SortStableFunc(col, func(a, b *webNode) int {
		if c := cmp.Compare(key(a), key(b)); c != 0 {
			return c
		}
		return index(a) - index(b)
	})
	return col
}

// skipping reports whether an edge from a to b, in one kernel, skips
// columns: it is routed in the corridor above the kernel's rows, over the
// nodes it passes.
func skipping(a, b *webNode) bool { return a.Kernel == b.Kernel && b.layer > a.layer+1 }

// route draws each edge as a cubic Bézier: forward edges from the right
// side of the producer to the left side of the consumer, fanned out when
// parallel (through the corridor when they skip columns); edges back to an
// earlier column (or within one) under the nodes; a node's edge to itself
// as a loop out of its right side, labelled beside it.
func route(g *webGraph, nodes map[string]*webNode) {
	es := g.Edges
	band := map[string]*webKernel{}
	for i := range g.Kernels {
		band[g.Kernels[i].ID] = &g.Kernels[i]
	}
	count := map[[2]string]int{}
	idx := make([]int, len(es))
	for i, e := range es {
		k := [2]string{e.From, e.To}
		idx[i] = count[k]
		count[k]++
	}
	for i, e := range es {
		a, b := nodes[e.From], nodes[e.To]
		n, j := float64(count[[2]string{e.From, e.To}]), float64(idx[i])
		switch {
		case a == b:
			x, d := a.X+a.W, 36+parallelGap*j // a loop out of the right side
			e.curve(x, a.Y+8, x+d, a.Y-6, x+d, a.Y+a.H+6, x, a.Y+a.H-8)
			e.LX, e.LY = x+64, a.Y+8+14*j // labels stacked beside the node
		case skipping(a, b):
			k := band[a.Kernel]
			e.corridor(a, b, k.corridor-float64(k.skips)*parallelGap)
			k.skips++
		case b.layer > a.layer:
			off := (j - (n-1)/2) * parallelGap / 1.5 // the label's offset is 1.5 × the control points'
			x0, y0, x3, y3 := a.X+a.W, a.Y+a.H/2, b.X, b.Y+b.H/2
			dx := (x3 - x0) / 2
			e.curve(x0, y0, x0+dx, y0+off, x3-dx, y3+off, x3, y3)
		default:
			d := 36 + parallelGap*j
			x0, y0, x3, y3 := a.X+a.W/2+8, a.Y+a.H, b.X+b.W/2-8, b.Y+b.H
			e.curve(x0, y0, x0, y0+d, x3, y3+d, x3, y3)
		}
	}
}

// corridor routes an edge from a's right side up (or down) to the line y,
// along it, and down to b's left side; the label sits on the line.
func (e *webEdge) corridor(a, b *webNode, y float64) {
	x0, y0, x3, y3 := a.X+a.W, a.Y+a.H/2, b.X, b.Y+b.H/2
	e.Path = fmt.Sprintf("M%.1f %.1f C%.1f %.1f %.1f %.1f %.1f %.1f L%.1f %.1f C%.1f %.1f %.1f %.1f %.1f %.1f",
		x0, y0, x0+50, y0, x0+30, y, x0+90, y, x3-90, y, x3-30, y, x3-50, y3, x3, y3)
	e.LX, e.LY = (x0+x3)/2, y
}

// curve sets the edge's path to the Bézier through p0..p3 and its label to
// the curve's midpoint, (p0 + 3p1 + 3p2 + p3) / 8.
func (e *webEdge) curve(x0, y0, x1, y1, x2, y2, x3, y3 float64) {
	e.Path = fmt.Sprintf("M%.1f %.1f C%.1f %.1f %.1f %.1f %.1f %.1f", x0, y0, x1, y1, x2, y2, x3, y3)
	e.LX, e.LY = (x0+3*x1+3*x2+x3)/8, (y0+3*y1+3*y2+y3)/8
}
