package actors

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/actors/config"
	"github.com/gmkernel/gmk/kernel"
)

// TestMain checks that no goroutine of GMK's outlives the tests. protoactor
// starts a dead-letter throttle goroutine that ends on its own a moment
// later (messages to stopped actors — a Terminated, a late Stop — are dead
// letters); it is ignored by name, nothing else is.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"))
}

// Types of the test trees: the i-th probe module handles type i+1; the sink
// consumes sys.error with tReport.
const (
	tReport = 9
)

// probe is a test module whose handler does what the test says and which
// counts its lifecycle calls; tests find it by its key param.
type probe struct {
	key                  string
	typ                  uint32 // the task type it handles
	inits, finis, ok, nr atomic.Int64
	act                  atomic.Pointer[func(*kernel.Ctx) kernel.Status]
	initErr              atomic.Pointer[func(n int64) error] // Init's result, given its call count
	rec                  *recorderLog
}

// recorderLog keeps the order of lifecycle events across probes.
type recorderLog struct {
	mu     sync.Mutex
	events []string
}

func (r *recorderLog) add(ev string) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorderLog) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

var probes sync.Map // key → *probe

func init() {
	config.Register("probe", func(p config.Params) (kernel.Module, error) {
		var ps struct {
			Key  string `yaml:"key"`
			Type uint32 `yaml:"type"`
		}
		if err := p.Decode(&ps); err != nil {
			return kernel.Module{}, err
		}
		v, ok := probes.Load(ps.Key)
		if !ok {
			return kernel.Module{}, fmt.Errorf("no probe %q", ps.Key)
		}
		pr := v.(*probe)
		return kernel.Module{Handlers: []kernel.Handler{{Type: ps.Type, Fn: pr.handle}},
			Init: func(*kernel.Ctx) error {
				n := pr.inits.Add(1)
				pr.rec.add("init " + pr.key)
				if f := pr.initErr.Load(); f != nil {
					return (*f)(n)
				}
				return nil
			},
			Fini: func(*kernel.Ctx) error { pr.finis.Add(1); pr.rec.add("fini " + pr.key); return nil }}, nil
	})
}

func (p *probe) handle(c *kernel.Ctx) kernel.Status {
	p.nr.Add(1)
	st := kernel.OK
	if f := p.act.Load(); f != nil {
		st = (*f)(c)
	}
	if st == kernel.OK {
		p.ok.Add(1)
	}
	return st
}

func (p *probe) set(f func(*kernel.Ctx) kernel.Status) {
	if f == nil {
		p.act.Store(nil)
		return
	}
	p.act.Store(&f)
}

// fixture is a booted node whose modules are probes named by the test.
type fixture struct {
	t      *testing.T
	n      *Node
	probes map[string]*probe
	log    *recorderLog
	sink   []kernel.Task
	sinkMu sync.Mutex
}

// boot boots supervision YAML (the supervisor section, indented two spaces)
// over probe modules mods plus a sink module on sys.error.
func boot(t *testing.T, supervisor string, mods []string, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{t: t, probes: map[string]*probe{}, log: &recorderLog{}}
	var b strings.Builder
	b.WriteString("kernel: {workers: 2, poison: {failures: 1000, window: 1000}}\n")
	b.WriteString("types:\n  - {id: 9, name: report}\n")
	for i := range mods {
		fmt.Fprintf(&b, "  - {id: %d, name: t%d, retry_limit: 50}\n", i+1, i+1)
	}
	b.WriteString("modules:\n")
	for i, m := range append(mods, "sink") {
		key := t.Name() + "/" + m
		p := &probe{key: m, rec: f.log}
		probes.Store(key, p)
		t.Cleanup(func() { probes.Delete(key) })
		f.probes[m] = p
		typ := i + 1
		if m == "sink" {
			typ = tReport
		}
		p.typ = uint32(typ)
		fmt.Fprintf(&b, "  - name: %s\n    module: probe\n    params: {key: %q, type: %d}\n", m, key, typ)
		if m == "sink" {
			b.WriteString("    channels: [{channel: sys.error, dir: consume, type: report}]\n")
		}
	}
	b.WriteString("supervisor:\n" + supervisor)
	f.probes["sink"].set(func(c *kernel.Ctx) kernel.Status {
		f.sinkMu.Lock()
		f.sink = append(f.sink, *c.Task())
		f.sinkMu.Unlock()
		return kernel.OK
	})
	tree, err := config.Parse(t.Name()+".yaml", []byte(b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	n, err := Boot(nil, tree, opts...)
	if err != nil {
		t.Fatal(err)
	}
	f.n = n
	t.Cleanup(func() {
		if _, halted := n.k.Halted(); !halted {
			_ = n.Halt(context.Background())
		}
	})
	return f
}

func (f *fixture) submit(typ uint32, meta uint64) {
	f.t.Helper()
	if err := f.n.Kernel().Submit(kernel.Task{Type: typ, Meta0: meta}); err != nil {
		f.t.Fatal(err)
	}
}

// reports returns the sys.error reports with code st.
func (f *fixture) reports(st kernel.Status) int {
	f.sinkMu.Lock()
	defer f.sinkMu.Unlock()
	n := 0
	for _, r := range f.sink {
		if kernel.Status(int16(r.Aux)) == st {
			n++
		}
	}
	return n
}

// halt halts the node and checks the accounting identity.
func (f *fixture) halt() kernel.HaltReport {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.n.Halt(ctx); err != nil {
		f.t.Fatal(err)
	}
	r, _ := f.n.Kernel().Halted()
	s := r.Stats
	if got := s.Completed + s.Errored + s.Dropped + r.Queued; got != s.Created() {
		f.t.Fatalf("accounting: completed %d + errored %d + dropped %d + queued %d != created %d",
			s.Completed, s.Errored, s.Dropped, r.Queued, s.Created())
	}
	for name, p := range f.probes {
		if p.inits.Load() != p.finis.Load() {
			f.t.Fatalf("module %s: %d inits, %d finis after halt", name, p.inits.Load(), p.finis.Load())
		}
	}
	return r
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
