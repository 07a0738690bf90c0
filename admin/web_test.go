package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/admin"
	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/trace"
)

// Types of the bridged fixture.
const (
	tImg = 30 // host.rx: cpu.0 → gpu.0 over the bridge
	tOut = 31 // img.out: xform → store, on gpu.0
)

// bridged is two kernels joined by a real bridge ([B1]): on cpu.0 "ingest"
// produces host.rx, which the bridge's relay carries to gpu.0, where
// "xform" consumes it and emits each task again on img.out, consumed by
// "store". One admin server serves both kernels, tracing everything.
type bridged struct {
	cpu, gpu *kernel.Kernel
	srv      *admin.Server
	base     string // http://host:port
	stored   atomic.Int64
}

func startBridged(t *testing.T) *bridged {
	t.Helper()
	f := &bridged{}
	decl := kernel.ChanDecl{Name: "host.rx", Type: tImg, Guarantee: kernel.Lossless}
	prod, cons := decl, decl
	prod.Dir, cons.Dir = kernel.Produce, kernel.Consume
	ingest := kernel.Module{Name: "ingest", Channels: []kernel.ChanDecl{prod}}
	xform := kernel.Module{Name: "xform", Channels: []kernel.ChanDecl{cons,
		{Name: "img.out", Dir: kernel.Produce, Type: tOut, Guarantee: kernel.Lossless}},
		Handlers: []kernel.Handler{{Type: tImg, Fn: func(c *kernel.Ctx) kernel.Status {
			id, err := c.Kernel().Chan("img.out")
			if err != nil || c.ChanEmit(id, kernel.Task{Type: tOut}) != nil {
				return kernel.FailCode(-1)
			}
			return kernel.OK
		}}}}
	store := kernel.Module{Name: "store", Channels: []kernel.ChanDecl{{Name: "img.out", Dir: kernel.Consume, Type: tOut, Guarantee: kernel.Lossless}},
		Handlers: []kernel.Handler{{Type: tOut, Fn: func(*kernel.Ctx) kernel.Status { f.stored.Add(1); return kernel.OK }}}}

	chans, err := link.Route(
		link.Side{Kernel: "cpu.0", Modules: []link.Decls{{Module: "ingest", Channels: ingest.Channels}}},
		link.Side{Kernel: "gpu.0", Modules: []link.Decls{{Module: "xform", Channels: xform.Channels}}})
	if err != nil || len(chans) != 1 {
		t.Fatalf("route: %v %v", chans, err)
	}
	ta, tb, err := bridge.NewMemPair(bridge.Config{Capacity: 64, Staging: 4096})
	if err != nil {
		t.Fatal(err)
	}
	cpuEnd, err1 := link.New("cpu.0", []link.Wire{{Chan: chans[0], T: ta}}, link.Config{})
	gpuEnd, err2 := link.New("gpu.0", []link.Wire{{Chan: chans[0], T: tb}}, link.Config{})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	t.Cleanup(func() { cpuEnd.Close(); gpuEnd.Close() }) // last: after the halts
	cfg := kernel.BootConfig{MaxTypes: 64, TraceLevel: trace.All}
	cpuCfg, gpuCfg := cfg, cfg
	cpuCfg.ID, gpuCfg.ID, gpuCfg.Role = "cpu.0", "gpu.0", kernel.RoleCompute
	f.cpu = modtest.Boot(t, cpuCfg, ingest, cpuEnd.Module())
	f.gpu = modtest.Boot(t, gpuCfg, xform, store, gpuEnd.Module())
	if err := cpuEnd.Start(f.cpu); err != nil {
		t.Fatal(err)
	}
	if err := gpuEnd.Start(f.gpu); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cpuEnd.Stop(); gpuEnd.Stop() })
	f.srv, err = admin.Start(admin.Config{Kernels: []admin.Kernel{{K: f.cpu}, {K: f.gpu}},
		Sample: 50 * time.Millisecond, Drain: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.srv.Close(context.Background()) })
	f.base = "http://" + f.srv.Addr()
	return f
}

// emit sends n tasks on cpu.0's host.rx and waits until store has them all.
func (f *bridged) emit(t *testing.T, n int) {
	t.Helper()
	id, err := f.cpu.Chan("host.rx")
	if err != nil {
		t.Fatal(err)
	}
	want := f.stored.Load() + int64(n)
	for range n {
		if err := f.cpu.ChanEmitWait(context.Background(), id, kernel.Task{Type: tImg}); err != nil {
			t.Fatal(err)
		}
	}
	modtest.WaitFor(t, "store to get every task", func() bool { return f.stored.Load() == want })
}

// graph is /ui/graph.json as the page reads it.
type graph struct {
	Width, Height float64
	Kernels       []struct {
		ID         string
		X, Y, W, H float64
	}
	Nodes []struct {
		ID, Kernel, Name, Kind string
		OK                     uint64
		X, Y, W, H             float64
	}
	Edges []struct {
		Channel, Kernel, From, To string
		Bridge, Cross, Members    bool
		Emits                     uint64
		Path                      string
	}
}

func getGraph(t *testing.T, base string) graph {
	t.Helper()
	var g graph
	if err := json.Unmarshal(get(t, base+"/ui/graph.json", "application/json"), &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// get fetches url and checks its status and content type.
func get(t *testing.T, url, ctype string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) {
		t.Fatalf("GET %s: %s %q", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	return b
}

// [U5] The web view's graph: a node per module on both kernels; an edge
// per producer→consumer pair of every channel; the bridge channel host.rx
// marked as one, with the edge from ingest on cpu.0 to xform on gpu.0
// marked as crossing kernels and carrying the emitted count; every node
// inside its kernel's band, no two nodes overlapping.
func TestU5_WebGraph(t *testing.T) {
	f := startBridged(t)
	f.emit(t, 5)
	snap, err := admin.NewClient(f.srv.Addr()).Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	g := getGraph(t, f.base)
	ids := map[string]int{}
	for i, n := range g.Nodes {
		ids[n.ID] = i
	}
	for _, m := range snap.Modules {
		if _, ok := ids[m.Kernel+"/"+m.Name]; !ok {
			t.Errorf("no node for module %s/%s", m.Kernel, m.Name)
		}
	}
	if n := g.Nodes[ids["gpu.0/xform"]]; n.OK != 5 || n.Kind != "module" {
		t.Errorf("xform node: %+v", n)
	}
	type key struct{ ch, from, to string }
	edges := map[key]int{}
	for i, e := range g.Edges {
		edges[key{e.Channel, e.From, e.To}] = i
		if !strings.HasPrefix(e.Path, "M") {
			t.Errorf("edge %v has no path", e)
		}
	}
	for _, c := range snap.Channels {
		found := false
		for _, e := range g.Edges {
			found = found || e.Channel == c.Name && e.Kernel == c.Kernel
		}
		if !found {
			t.Errorf("no edge for channel %s on %s", c.Name, c.Kernel)
		}
	}
	for _, want := range []struct {
		key
		bridge, cross bool
	}{
		{key{"host.rx", "cpu.0/ingest", "cpu.0/" + link.DefaultName}, true, false},
		{key{"host.rx", "cpu.0/ingest", "gpu.0/xform"}, true, true},
		{key{"img.out", "gpu.0/xform", "gpu.0/store"}, false, false},
	} {
		i, ok := edges[want.key]
		if !ok {
			t.Errorf("no edge %v", want.key)
			continue
		}
		if e := g.Edges[i]; e.Bridge != want.bridge || e.Cross != want.cross || e.Emits != 5 {
			t.Errorf("edge %v: bridge %v cross %v emits %d", want.key, e.Bridge, e.Cross, e.Emits)
		}
	}
	checkLayout(t, g)
}

// checkLayout: nodes inside their bands, inside the picture, apart.
func checkLayout(t *testing.T, g graph) {
	t.Helper()
	band := map[string]int{}
	for i, k := range g.Kernels {
		band[k.ID] = i
	}
	for i, n := range g.Nodes {
		k := g.Kernels[band[n.Kernel]]
		if n.X < k.X || n.Y < k.Y || n.X+n.W > k.X+k.W || n.Y+n.H > k.Y+k.H || n.X+n.W > g.Width || n.Y+n.H > g.Height {
			t.Errorf("node %s %v outside its band %v or the picture %vx%v", n.ID, n, k, g.Width, g.Height)
		}
		for _, m := range g.Nodes[i+1:] {
			if n.X < m.X+m.W && m.X < n.X+n.W && n.Y < m.Y+m.H && m.Y < n.Y+n.H {
				t.Errorf("nodes %s and %s overlap", n.ID, m.ID)
			}
		}
	}
}

// external matches a URL of another host (the SVG namespace is a name, not
// a fetch).
var external = regexp.MustCompile(`(https?:)?//[a-z0-9-]+\.[a-z0-9.-]+/?|@import|url\(http`)

// [U5] The page and its assets are served from the binary: / redirects to
// /ui/, the page loads its script and style sheet, and nothing refers to
// another host (no CDN).
func TestU5_WebAssets(t *testing.T) {
	f := startBridged(t)
	page := string(get(t, f.base+"/", "text/html")) // the client follows the redirect
	if !strings.Contains(page, `<script src="app.js">`) || !strings.Contains(page, `id="graph"`) || !strings.Contains(page, `id="timeline"`) {
		t.Errorf("page:\n%s", page)
	}
	for _, a := range []struct{ path, ctype string }{{"app.js", "text/javascript"}, {"style.css", "text/css"}, {"index.html", "text/html"}} {
		body := strings.ReplaceAll(string(get(t, f.base+"/ui/"+a.path, a.ctype)), "http://www.w3.org/2000/svg", "")
		if u := external.FindString(body); u != "" {
			t.Errorf("%s refers to another host: %s", a.path, u)
		}
	}
	resp, err := http.Get(f.base + "/ui/nope.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /ui/nope.js: %s", resp.Status)
	}
}
