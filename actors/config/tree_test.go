package config

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/sched"
	"github.com/gmkernel/gmk/kernel/trace"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// exampleConfigs are the shipped configs of examples/configs.
func exampleConfigs(t testing.TB) []string {
	files, err := filepath.Glob("../../examples/configs/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("example configs: %v, %v", files, err)
	}
	return files
}

// [X4] Every shipped example parses (with the modules registered by this
// test) and prints as its golden file: Parse → Print is deterministic.
func TestX4_ExamplesGolden(t *testing.T) {
	for _, f := range exampleConfigs(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			tr, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			tr.Print(&out)
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if out.String() != string(want) {
				t.Errorf("Print differs from %s (go test -update rewrites it):\n%s", golden, out.String())
			}
			var again bytes.Buffer
			tr.Print(&again)
			if again.String() != out.String() {
				t.Error("Print is not deterministic")
			}
		})
	}
}

// The pipeline example's tree: nested supervisors with two strategies, start
// order depth first, channel shapes merged into the modules' declarations.
func TestX4_PipelineTree(t *testing.T) {
	tr, err := Load("../../examples/configs/pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	root := tr.Root
	stages := root.Children[0].Supervisor
	if root.Strategy != OneForOne || stages == nil || stages.Strategy != RestForOne {
		t.Fatalf("strategies: root %v, stages %+v", root.Strategy, stages)
	}
	if stages.MaxRestarts != 5 || stages.Within != 10*time.Second ||
		stages.Backoff != (Backoff{Min: 10 * time.Millisecond, Max: time.Second, RandomFactor: 0.2, ResetAfter: 30 * time.Second}) {
		t.Errorf("stages intensity/backoff: %+v", stages)
	}
	if c := root.Children[1]; c.Name() != "errors" || c.Restart != Transient {
		t.Errorf("root's second child: %s %v", c.Name(), c.Restart)
	}
	mods, err := tr.Modules()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range mods {
		names = append(names, m.Name)
	}
	if !slices.Equal(names, []string{"transform", "store", "errors"}) {
		t.Errorf("start order %v", names)
	}
	// transform declared ingest.raw without slots; the config's shape wins.
	want := kernel.ChanDecl{Name: "ingest.raw", Dir: kernel.Consume, Type: 1, Mode: channel.P2P, Guarantee: channel.Lossless, Slots: 4096}
	if len(mods[0].Channels) != 2 || mods[0].Channels[0] != want {
		t.Errorf("transform's channels %+v, want first %+v", mods[0].Channels, want)
	}
	if mods[0].Version != "true 1000" {
		t.Errorf("transform params reached the factory as %q", mods[0].Version)
	}
	if d := mods[1].Channels[0]; !d.Pin || d.Worker != 1 || d.Replay != 4096 {
		t.Errorf("store's declaration %+v", d)
	}
}

func TestX4_BootConfig(t *testing.T) {
	tr, err := Load("../../examples/configs/fanout.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfgs := tr.BootConfigs()
	if len(cfgs) != 2 || cfgs[0].ID != "cpu.0" || cfgs[0].ArenaSize != 8<<20 || cfgs[0].Workers != 2 {
		t.Fatalf("kernels %+v", cfgs)
	}
	if c := cfgs[1]; c.Role != kernel.RoleCompute || c.Policy != sched.PolicyGRQ || c.TraceLevel != trace.Info {
		t.Errorf("sim.0: %+v", c)
	}
	bc := tr.BootConfig()
	if bc.ID != "cpu.0" || len(bc.Types) != 2 || !bc.Types[0].Deterministic || bc.Types[0].ID != 10 {
		t.Errorf("BootConfig %+v", bc)
	}
	if err := bc.WithDefaults().Validate(); err != nil {
		t.Error(err)
	}
}

// [X4] The kernel accepts what the config produces: the pipeline's
// BootConfig and merged modules boot and halt cleanly.
func TestX4_PipelineBootsKernel(t *testing.T) {
	tr, err := Load("../../examples/configs/pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	mods, err := tr.Modules()
	if err != nil {
		t.Fatal(err)
	}
	k, err := kernel.Boot(tr.BootConfig(), mods...)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Halt(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestX4_ModulesErrors(t *testing.T) {
	doc := strings.Replace(valid, "  - name: store\n", "  - name: store\n    module: failing\n", 1)
	tr, err := Parse("m.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.Modules()
	if !errors.Is(err, errBoom) || !errors.Is(err, ErrModule) || !strings.HasPrefix(err.Error(), "m.yaml:12: module store: failing: boom") {
		t.Errorf("factory error: %v", err)
	}
	// store (type 2, 10) cannot consume ingest.raw (type 1).
	doc = strings.Replace(valid, "  - name: store\n", "  - name: store\n    channels: [{channel: ingest.raw, dir: consume}]\n", 1)
	doc = strings.Replace(doc, "      - {channel: ingest.raw, dir: consume}", "      - {channel: ingest.raw, dir: produce}", 1)
	if tr, err = Parse("m.yaml", []byte(doc)); err != nil {
		t.Fatal(err)
	}
	if _, err = tr.Modules(); !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "m.yaml:13: module store: consumes ingest.raw as type 1") {
		t.Errorf("handler check: %v", err)
	}
	// A bad parameter is the factory's error, at the module's line.
	doc = strings.Replace(valid, "  - name: transform\n", "  - name: transform\n    params: {uper: true}\n", 1)
	if tr, err = Parse("m.yaml", []byte(doc)); err != nil {
		t.Fatal(err)
	}
	if _, err = tr.Modules(); err == nil || !strings.HasPrefix(err.Error(), "m.yaml:9: module transform: transform: ") || !strings.Contains(err.Error(), "uper") {
		t.Errorf("params error: %v", err)
	}
}

func TestX4_LoadMissingFile(t *testing.T) {
	if _, err := Load("testdata/nope.yaml"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
}

func TestX4_EdgeDocuments(t *testing.T) {
	for _, doc := range []string{"", "# only a comment\n", "---\n", "[1, 2]", "a: *x", valid + "---\n" + valid,
		"supervisor: {name: r, strategy: one_for_one, children: [{module: a, supervisor: {name: b}}]}",
		"modules: [{name: store, params: {a: &a [x, x, x, x, x, x, x, x], b: &b [*a, *a, *a, *a, *a, *a, *a, *a], " +
			"c: &c [*b, *b, *b, *b, *b, *b, *b, *b], d: &d [*c, *c, *c, *c, *c, *c, *c, *c], e: &e [*d, *d, *d, *d, *d, *d, *d, *d], " +
			"f: [*e, *e, *e, *e, *e, *e, *e, *e]}}]"} { // the last: excessive aliasing
		_, err := Parse("e.yaml", []byte(doc))
		var ce *Error
		if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), "e.yaml:") {
			t.Errorf("%q: err = %v, want an *Error naming e.yaml", doc, err)
		}
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	Register("store", storeModule)
}
