package main

import (
	"bytes"
	"context"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gmkernel/gmk/internal/kbuild"
	"github.com/gmkernel/gmk/internal/types"
)

// copyTree copies the regular files under src to dst (links are skipped).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// [U4] gmk new counter --target cpu scaffolds a module that builds and
// whose generated test passes: generated into a module outside the tree
// whose go.mod points at this repository, then `go test` run on it. The
// input type is registered in that module's types.toml.
func TestU4_NewCPUModuleTestPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and runs the scaffolded module's test")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	abs, _ := filepath.Abs(repo)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/app\n\ngo 1.26.8\n\nrequire github.com/gmkernel/gmk v0.0.0\n\nreplace github.com/gmkernel/gmk => "+abs+"\n"), 0o644)
	copyFile(t, filepath.Join(repo, "go.sum"), filepath.Join(dir, "go.sum"))
	copyFile(t, filepath.Join(repo, "types.toml"), filepath.Join(dir, "types.toml"))

	code, out, errOut := gmk(t, "new", "counter", "--target", "cpu", "--dir", dir, "--root", dir)
	if code != 0 {
		t.Fatalf("gmk new: %d %s %s", code, out, errOut)
	}
	for _, f := range []string{"module.go", "module_test.go", "module.toml"} {
		if !strings.Contains(out, filepath.Join(dir, "counter", f)) {
			t.Errorf("gmk new did not report %s: %s", f, out)
		}
	}
	for _, f := range []string{"module.go", "module_test.go"} {
		src, _ := os.ReadFile(filepath.Join(dir, "counter", f))
		if fmtd, err := format.Source(src); err != nil || !bytes.Equal(fmtd, src) {
			t.Errorf("scaffolded %s is not gofmt-clean (%v)", f, err)
		}
	}
	spec, err := types.Load(filepath.Join(dir, "types.toml"))
	if err != nil {
		t.Fatal(err)
	}
	ty, ok := spec.Lookup(1000)
	if !ok || ty.Name != "counter.in" || ty.Module != "counter" || ty.Const != "CounterIn" {
		t.Fatalf("types.toml: type 1000 = %+v", ty)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "counter", "module.toml"))
	m, err := kbuild.ParseModule(data, "module.toml")
	if err != nil || m.Target != "cpu" || len(m.Handlers) != 1 || m.Handlers[0].Type != 1000 {
		t.Fatalf("module.toml: %+v %v", m, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "test", "-count=1", "-v", "./counter")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	res, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(res), "--- PASS: TestHandlerRuns") {
		t.Fatalf("go test of the scaffolded module: %v\n%s", err, res)
	}

	// A second new of the same name overwrites nothing.
	if code, _, errOut := gmk(t, "new", "counter", "--dir", dir, "--root", dir); code != 1 || !strings.Contains(errOut, "already declares") {
		t.Fatalf("second gmk new: %d %q", code, errOut)
	}
}

// [U4] gmk new --target gpu writes kernels/modules/NAME/{module.toml,
// NAME.cuh} that the kernel build accepts: in a copy of kernels/ and
// types.toml the module loads, its type is in types.toml, the dispatch
// header dispatches it — and with nvcc the whole kernel compiles.
func TestU4_NewGPUModuleBuilds(t *testing.T) {
	dir := t.TempDir()
	kernels := filepath.Join(dir, "kernels")
	for _, sub := range []string{"include", "src", "gen", "modules"} {
		copyTree(t, filepath.Join(repo, "kernels", sub), filepath.Join(kernels, sub))
	}
	copyFile(t, filepath.Join(repo, "types.toml"), filepath.Join(dir, "types.toml"))

	code, out, errOut := gmk(t, "new", "blink", "--target", "gpu", "--dir", kernels, "--root", dir, "--type", "1010")
	if code != 0 || !strings.Contains(out, "added type 1010 (blink.in)") {
		t.Fatalf("gmk new: %d %s %s", code, out, errOut)
	}
	mods, err := kbuild.LoadModules(kernels)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := types.Load(filepath.Join(dir, "types.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := types.CheckModules(spec, mods); err != nil {
		t.Fatal(err)
	}
	hs := kbuild.Handlers(mods)
	src := string(kbuild.GenerateDispatch(mods, kbuild.Place(hs, nil, kbuild.DefaultInlineRegLimit), kbuild.DefaultInlineRegLimit))
	if !strings.Contains(src, "case 1010u: return gmk_blink(ctx, t);") {
		t.Fatalf("dispatch header does not dispatch blink:\n%s", src)
	}
	if _, err := exec.LookPath("nvcc"); err != nil {
		t.Log("no nvcc: the CUDA compile of the scaffolded module is not checked")
		return
	}
	if testing.Short() {
		t.Skip("-short: the nvcc build takes a while")
	}
	code, out, errOut = gmk(t, "build", "--kernel", "--report-only", "--quiet", "--kernels", kernels, "--types", filepath.Join(dir, "types.toml"))
	if code != 0 || !strings.Contains(out, "gmk_blink") {
		t.Fatalf("gmk build --kernel with the scaffolded module: %d\n%s\n%s", code, out, errOut)
	}
}
