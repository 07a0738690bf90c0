package types_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gmkernel/gmk/internal/kbuild"
	"github.com/gmkernel/gmk/internal/types"
	gtypes "github.com/gmkernel/gmk/types"
)

const root = "../.."

func load(t *testing.T) *types.File {
	t.Helper()
	f, err := types.Load(filepath.Join(root, types.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// [U3] The committed types/types_gen.go and kernels/include/gmk_types.h
// are what types.toml generates (run gmk gen types after editing it), and
// generating twice gives the same bytes.
func TestU3_GeneratedFilesCurrent(t *testing.T) {
	if _, err := types.Generate(root, true); err != nil {
		t.Fatal(err)
	}
	_, a, err := types.Outputs(root)
	if err != nil {
		t.Fatal(err)
	}
	_, b, _ := types.Outputs(root)
	for i := range a {
		if !bytes.Equal(a[i].Data, b[i].Data) {
			t.Errorf("%s: two generations differ", a[i].Path)
		}
		if !bytes.HasPrefix(a[i].Data, []byte("// Code generated")) && !bytes.HasPrefix(a[i].Data, []byte("/* Code generated")) {
			t.Errorf("%s: no generated-code header", a[i].Path)
		}
	}
}

// A stale file is reported by name and nothing is written.
func TestU3_GenerateCheckStale(t *testing.T) {
	dir := t.TempDir()
	spec, _ := os.ReadFile(filepath.Join(root, types.SpecFile))
	os.WriteFile(filepath.Join(dir, types.SpecFile), spec, 0o644)
	if _, err := types.Generate(dir, true); !errors.Is(err, types.ErrStale) || !strings.Contains(err.Error(), types.GoFile) {
		t.Fatalf("check of a tree without generated files: %v", err)
	}
	if _, err := types.Generate(dir, false); err != nil {
		t.Fatal(err)
	}
	if _, err := types.Generate(dir, true); err != nil {
		t.Fatalf("check after generate: %v", err)
	}
}

// [U3] Round trip: types.toml → the generated Go table → types.Default
// holds every type with the same id, name, module, payload and policies.
func TestU3_RoundTripGo(t *testing.T) {
	f := load(t)
	all := gtypes.Default.All()
	if len(all) != len(f.Types) {
		t.Fatalf("Default has %d types, types.toml %d", len(all), len(f.Types))
	}
	for i, want := range f.Types {
		got := all[i]
		if got.ID != want.ID || got.Name != want.Name || got.Module != want.Module || got.Payload.String() != want.Payload.String() ||
			int(got.MaxPayload) != want.MaxPayload || got.Lossless == want.Lossy || got.Deterministic != want.Deterministic ||
			got.Idempotent != want.Idempotent || got.MaxYields != want.MaxYields || len(got.Fields) != len(want.Fields) {
			t.Errorf("type %d: generated %+v, types.toml %+v", want.ID, got, want)
		}
	}
}

// [U3] The C header compiles as C11 and C++17 next to gmk_task.h, and its
// static assertions (struct sizes and offsets) hold.
func TestU3_CHeaderCompiles(t *testing.T) {
	inc := filepath.Join(root, "kernels", "include")
	src := "#include \"gmk_task.h\"\n#include \"gmk_types.h\"\n" +
		"int f(void) { gmk_timer_spec_t s = {0}; return (int)sizeof s + (int)GMK_TYPE_ECHO_IN + (int)GMK_TYPE_LOG_WRITE_POLICY; }\n"
	for _, c := range []struct{ cc, lang, std string }{{"cc", "c", "-std=c11"}, {"c++", "c++", "-std=c++17"}} {
		if _, err := exec.LookPath(c.cc); err != nil {
			t.Logf("no %s: %s not checked", c.cc, c.lang)
			continue
		}
		cmd := exec.Command(c.cc, c.std, "-Wall", "-Werror", "-fsyntax-only", "-I", inc, "-x", c.lang, "-")
		cmd.Stdin = strings.NewReader(src)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", c.cc, err, out)
		}
	}
}

// [U3] Every type id a CUDA module defines (#define GMK_X_Y_TYPE Nu) is the
// types.toml type named x.y.
func TestU3_CUDADefinesMatch(t *testing.T) {
	f := load(t)
	files, _ := filepath.Glob(filepath.Join(root, "kernels", "modules", "*", "*.cuh"))
	re := regexp.MustCompile(`#define GMK_([A-Z0-9_]+)_TYPE ([0-9]+)u`)
	n := 0
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(src, -1) {
			n++
			name := strings.ToLower(strings.ReplaceAll(string(m[1]), "_", "."))
			id, _ := strconv.Atoi(string(m[2]))
			ty, ok := f.Lookup(uint32(id))
			if !ok || ty.Name != name {
				t.Errorf("%s: GMK_%s_TYPE %d: types.toml has %+v", p, m[1], id, ty)
			}
		}
	}
	if n == 0 {
		t.Fatal("no type defines found in kernels/modules")
	}
}

// [U3], [U4] Every handler of kernels/modules/*/module.toml handles a type
// types.toml declares for that module; a handler of an undeclared type or
// of another module's type is reported.
func TestU3_KernelModuleTypes(t *testing.T) {
	f := load(t)
	mods, err := kbuild.LoadModules(filepath.Join(root, "kernels"))
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) == 0 {
		t.Fatal("no GPU modules")
	}
	if err := types.CheckModules(f, mods); err != nil {
		t.Fatal(err)
	}
	bad := []*kbuild.Module{{Name: "echo", File: "echo/module.toml", Handlers: []kbuild.Handler{
		{Fn: "a", Type: 5}, {Fn: "b", Type: 990}, {Fn: "c", Type: 960}}}}
	err = types.CheckModules(f, bad)
	if !errors.Is(err, types.ErrModuleType) {
		t.Fatalf("CheckModules = %v", err)
	}
	for _, want := range []string{"fn a: type 5 is not in", "fn b: type 990 is xform.in, owned by module xform"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("CheckModules = %q, want %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "fn c") {
		t.Errorf("CheckModules reported echo's own type: %v", err)
	}
}

// Parse rejects what would make the generated code wrong, naming the type.
func TestU3_ParseErrors(t *testing.T) {
	const ok = "[[type]]\nid = 1\nname = \"a.in\"\nconst = \"AIn\"\nmodule = \"a\"\npayload = \"inline\"\n"
	for _, c := range []struct{ name, src, want string }{
		{"unknown key", ok + "determinstic = true\n", `unknown key "type.determinstic"`},
		{"duplicate id", ok + strings.ReplaceAll(ok, "a.in", "b.in"), "duplicate id 1"},
		{"duplicate name", ok + strings.ReplaceAll(ok, "id = 1", "id = 2"), `name "a.in" used by types 1 and 2`},
		{"id range", strings.ReplaceAll(ok, "id = 1", "id = 1048576"), "out of range"},
		{"bad name", strings.ReplaceAll(ok, "a.in", "A.in"), "want dotted lower-case"},
		{"bytes without max", strings.ReplaceAll(ok, "inline", "bytes"), "needs max_payload"},
		{"inline with payload", ok + "max_payload = 8\n", "max_payload 8: a inline payload's is 0"},
		{"too big", strings.ReplaceAll(ok, "inline", "bytes") + "max_payload = 131073\n", "out of range 0..131072"},
		{"padding", strings.ReplaceAll(ok, `"inline"`, `"struct"`) + "struct = \"S\"\nfields = [{name = \"a\", type = \"u8\"}, {name = \"b\", type = \"u32\"}]\n", "not aligned"},
		{"tail padding", strings.ReplaceAll(ok, `"inline"`, `"struct"`) + "struct = \"S\"\nfields = [{name = \"a\", type = \"u64\"}, {name = \"b\", type = \"u32\"}]\n", "not a multiple of its alignment"},
		{"guarantee", ok + "guarantee = \"maybe\"\n", "want lossless or lossy"},
		{"syntax", "[[type]]\nid = = 1\n", "types.toml:2:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := types.Parse([]byte(c.src), "types.toml")
			if !errors.Is(err, types.ErrSpec) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Parse = %v, want %q", err, c.want)
			}
		})
	}
}
