package kbuild

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gmkernel/gmk/gpu"
)

// TestU4_ParseModule: a module.toml with every key, and the defaults.
func TestU4_ParseModule(t *testing.T) {
	src := `
name = "echo"
version = "1.2.0"
target = "gpu"
source = "echo.cuh"

[[handlers]]
fn = "gmk_echo"
type = 960
name = "echo"
granularity = "scalar"
shared = 0

[[handlers]]
fn = "gmk_sum"   # name defaults to fn, granularity to scalar
type = 961

[[handlers]]
fn = "gmk_tile"
type = 962
granularity = "block"
shared = 4096
deterministic = true

[[channels]]          # boot's business: carried, not checked here
name = "echo.out"
direction = "out"
`
	m, err := ParseModule([]byte(src), "echo/module.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := &Module{Name: "echo", Version: "1.2.0", Target: "gpu", Source: "echo.cuh", File: "echo/module.toml",
		Handlers: []Handler{
			{Fn: "gmk_echo", Type: 960, Name: "echo", Granularity: Scalar, Module: "echo"},
			{Fn: "gmk_sum", Type: 961, Name: "gmk_sum", Granularity: Scalar, Module: "echo"},
			{Fn: "gmk_tile", Type: 962, Name: "gmk_tile", Granularity: Block, Shared: 4096, Deterministic: true, Module: "echo"},
		}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v\nwant %+v", m, want)
	}
}

// TestU4_ParseModuleErrors: bad input gets a clear error naming the file,
// the place and the problem; all wrap ErrModule.
func TestU4_ParseModuleErrors(t *testing.T) {
	head := "name = \"m\"\ntarget = \"gpu\"\nsource = \"m.cuh\"\n"
	for _, tc := range []struct {
		name, src, want string
	}{
		{"missing fn", head + "[[handlers]]\ntype = 1\n", "m.toml: invalid module: module m: line 4: handlers[0]: missing fn"},
		{"missing type", head + "[[handlers]]\nfn = \"f\"\n", "fn f: missing type"},
		{"unknown granularity", head + "[[handlers]]\nfn = \"f\"\ntype = 1\ngranularity = \"team\"\n",
			`fn f: unknown granularity "team" (want scalar, warp or block)`},
		{"duplicate type", head + "[[handlers]]\nfn = \"f\"\ntype = 7\n\n[[handlers]]\nfn = \"g\"\ntype = 7\n",
			"duplicate type 7: m.f and m.g"},
		{"duplicate fn", head + "[[handlers]]\nfn = \"f\"\ntype = 7\n[[handlers]]\nfn = \"f\"\ntype = 8\n",
			"duplicate fn f: types 7 (m) and 8 (m)"},
		{"second handler's line", head + "[[handlers]]\nfn = \"f\"\ntype = 7\n\n[[handlers]]\nfn = \"g\"\ntype = 0\n",
			"line 8: handlers[1]: fn g: type 0 out of range 1..4294967295"},
		{"type too big", head + "[[handlers]]\nfn = \"f\"\ntype = 4294967296\n", "type 4294967296 out of range"},
		{"type not a number", head + "[[handlers]]\nfn = \"f\"\ntype = \"960\"\n", `m.toml: invalid module: line 6 (last key "handlers.type"): incompatible types`},
		{"fn not an identifier", head + "[[handlers]]\nfn = \"gmk-echo\"\ntype = 1\n", `fn "gmk-echo" is not a C identifier`},
		{"shared too big", head + "[[handlers]]\nfn = \"f\"\ntype = 1\nshared = 1048576\n", "shared 1048576 out of range"},
		{"misspelt key", head + "[[handlers]]\nfn = \"f\"\ntype = 1\ngranularty = \"warp\"\n", `unknown key "handlers.granularty"`},
		{"unknown module key", head + "targets = \"gpu\"\n", `unknown key "targets"`},
		{"syntax", head + "[[handlers]\n", "m.toml:5: invalid module: expected end of table array name"},
		{"missing name", "target = \"gpu\"\nsource = \"m.cuh\"\n", "missing name"},
		{"bad name", "name = \"Echo Module\"\ntarget = \"gpu\"\n", `name "Echo Module"`},
		{"missing target", "name = \"m\"\nsource = \"m.cuh\"\n", "module m: missing target (gpu or cpu)"},
		{"bad target", "name = \"m\"\ntarget = \"fpga\"\n", `target "fpga": want gpu or cpu`},
		{"missing source", "name = \"m\"\ntarget = \"gpu\"\n", "module m: source: missing"},
		{"source outside", "name = \"m\"\ntarget = \"gpu\"\nsource = \"../other/x.cuh\"\n", "want a plain relative path"},
		{"source not CUDA", "name = \"m\"\ntarget = \"gpu\"\nsource = \"m.go\"\n", "want a .cuh, .cu or .h file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseModule([]byte(tc.src), "m.toml")
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrModule) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant it to wrap ErrModule and contain %q", err, tc.want)
			}
		})
	}
}

// writeModule lays out kernels/modules/NAME with a module.toml and sources.
func writeModule(t *testing.T, kernels, name, toml string, files map[string]string) {
	t.Helper()
	dir := filepath.Join(kernels, "modules", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files["module.toml"] = toml
	for f, body := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestU4_LoadModules reads the fixture modules as one set, sorted, with
// sources relative to the kernels directory.
func TestU4_LoadModules(t *testing.T) {
	mods, err := LoadModules("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var names, srcs []string
	for _, m := range mods {
		names = append(names, m.Name)
		srcs = append(srcs, m.SourcePath())
	}
	if want := []string{"fxblock", "fxecho", "fxheavy", "fxstack"}; !reflect.DeepEqual(names, want) {
		t.Errorf("modules %v, want %v", names, want)
	}
	if srcs[1] != "modules/fxecho/fxecho.cuh" {
		t.Errorf("fxecho source %q", srcs[1])
	}
	hs := Handlers(mods)
	for i := 1; i < len(hs); i++ {
		if hs[i-1].Type >= hs[i].Type {
			t.Errorf("Handlers not sorted by type: %d before %d", hs[i-1].Type, hs[i].Type)
		}
	}
}

// TestU4_LoadModulesErrors: the checks that need more than one file.
func TestU4_LoadModulesErrors(t *testing.T) {
	const decl = "GMK_HANDLER(f) { return GMK_OK; }\n"
	mod := func(name, fn string, typ string) string {
		return "name = \"" + name + "\"\ntarget = \"gpu\"\nsource = \"s.cuh\"\n[[handlers]]\nfn = \"" + fn + "\"\ntype = " + typ + "\n"
	}
	for _, tc := range []struct {
		name  string
		setup func(k string)
		want  string
	}{
		{"duplicate type across modules", func(k string) {
			writeModule(t, k, "a", mod("a", "f", "960"), map[string]string{"s.cuh": decl})
			writeModule(t, k, "b", mod("b", "g", "960"), map[string]string{"s.cuh": "GMK_HANDLER(g) { return GMK_OK; }\n"})
		}, "duplicate type 960: a.f and b.g"},
		{"duplicate module name", func(k string) {
			writeModule(t, k, "a", mod("x", "f", "1"), map[string]string{"s.cuh": decl})
			writeModule(t, k, "b", mod("x", "g", "2"), map[string]string{"s.cuh": "GMK_HANDLER(g) { return GMK_OK; }\n"})
		}, "module name x used by"},
		{"registered, not declared", func(k string) {
			writeModule(t, k, "a", mod("a", "f", "1"), map[string]string{"s.cuh": "/* nothing */\n"})
		}, "fn f is registered but no GMK_HANDLER(f) is declared"},
		{"declared, not registered", func(k string) {
			writeModule(t, k, "a", mod("a", "f", "1"), map[string]string{"s.cuh": decl, "more.cuh": "GMK_HANDLER(h2) {}\n"})
		}, "GMK_HANDLER(h2) declared in"},
		{"missing source", func(k string) {
			writeModule(t, k, "a", mod("a", "f", "1"), map[string]string{"other.cuh": decl})
		}, "module a: source:"},
		{"cpu module", func(k string) {
			writeModule(t, k, "a", "name = \"a\"\ntarget = \"cpu\"\n", map[string]string{})
		}, "target cpu, but kernels/modules holds GPU modules"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := t.TempDir()
			tc.setup(k)
			_, err := LoadModules(k)
			if !errors.Is(err, ErrModule) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant it to wrap ErrModule and contain %q", err, tc.want)
			}
		})
	}
}

func TestGranularityNames(t *testing.T) {
	for g, want := range map[Granularity][2]string{
		Scalar: {"scalar", "GMK_SCALAR"}, Warp: {"warp", "GMK_WARP"}, Block: {"block", "GMK_BLOCK"},
	} {
		if g.String() != want[0] || g.Macro() != want[1] {
			t.Errorf("%d: %s %s, want %v", g, g, g.Macro(), want)
		}
	}
}

// TestMaxSharedMatchesGPU: a module.toml accepts the shared memory the GPU
// module registration (gpu.Handler.SharedBytes) accepts.
func TestMaxSharedMatchesGPU(t *testing.T) {
	if MaxShared != gpu.MaxShared {
		t.Errorf("kbuild.MaxShared %d, gpu.MaxShared %d", MaxShared, gpu.MaxShared)
	}
}
