package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scaffoldApp makes a Go module outside the tree whose go.mod points at
// this repository, as a user's project would, and scaffolds counter in it.
func scaffoldApp(t *testing.T) string {
	t.Helper()
	abs, _ := filepath.Abs(repo)
	dir := t.TempDir()
	gomod := "module example.com/app\n\ngo 1.26.8\n\nrequire github.com/gmkernel/gmk v0.0.0\n\nreplace github.com/gmkernel/gmk => " + abs + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(repo, "go.sum"), filepath.Join(dir, "go.sum"))
	copyFile(t, filepath.Join(repo, "types.toml"), filepath.Join(dir, "types.toml"))
	if code, out, errOut := gmk(t, "new", "counter", "--dir", dir, "--root", dir); code != 0 {
		t.Fatalf("gmk new: %d %s %s", code, out, errOut)
	}
	return dir
}

// [U4] Acceptance 4 of issue 6: `gmk new counter` then `gmk test counter`
// passes — the scaffolded test runs in the sdktest sandbox (it captures
// the trace and the allocation stats it checks) — and a module whose test
// fails makes `gmk test` exit 1 with go test's report.
func TestU4_NewThenTestCounter(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and runs the scaffolded module's test")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := scaffoldApp(t)
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOWORK", "off")
	t.Chdir(dir) // gmk test counter, from the directory gmk new wrote into

	code, out, errOut := gmk(t, "test", "counter", "--", "-v", "-run", "TestHandlerRuns")
	if code != 0 || !strings.Contains(out, "--- PASS: TestHandlerRuns") || !strings.Contains(out, "ok  \texample.com/app/counter") {
		t.Fatalf("gmk test counter: %d\n%s\n%s", code, out, errOut)
	}
	src, _ := os.ReadFile("counter/module_test.go")
	if !strings.Contains(string(src), "sdktest.Boot") {
		t.Fatal("the scaffolded test does not use the sdktest sandbox")
	}

	// Break the handler: the sum is off by one per task.
	path := filepath.Join("counter", "module.go")
	mod, _ := os.ReadFile(path)
	broken := strings.Replace(string(mod), "m.sum.Add(c.Task().Meta0)", "m.sum.Add(c.Task().Meta0 + 1)", 1)
	if broken == string(mod) {
		t.Fatal("the scaffolded handler changed: update this test's edit")
	}
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = gmk(t, "test", "counter", "--dir", dir)
	if code != 1 || !strings.Contains(out, "--- FAIL: TestHandlerRuns") || !strings.Contains(errOut, "tests failed") {
		t.Fatalf("gmk test of a failing module: %d\n%s\n%s", code, out, errOut)
	}
}

// [U4] gmk test finds modules where gmk new puts them, and says so when
// there is none; a bad name is bad usage.
func TestU4_TestResolvesModule(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"test"}, 2, "requires at least 1 arg"},
		{[]string{"test", "Bad"}, 2, "want a module name"},
		{[]string{"test", "nothere", "--dir", dir}, 1, "no module nothere"},
	} {
		code, _, errOut := gmk(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("gmk %v: %d %q, want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	gpu := filepath.Join(dir, "blink")
	os.MkdirAll(gpu, 0o755)
	os.WriteFile(filepath.Join(gpu, "module.toml"), []byte("name = \"blink\"\ntarget = \"gpu\"\nsource = \"blink.cuh\"\n\n[[handlers]]\nfn = \"gmk_blink\"\ntype = 1010\nname = \"blink\"\n"), 0o644)
	if code, _, errOut := gmk(t, "test", "blink", "--dir", dir); code != 1 || !strings.Contains(errOut, "targets gpu") {
		t.Errorf("gmk test of a GPU module: %d %q", code, errOut)
	}
}
