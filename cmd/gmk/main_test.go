package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const repo = "../.."

// gmk runs the command line in process.
func gmk(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

// [U5] gmk version names the build.
func TestU5_Version(t *testing.T) {
	code, out, _ := gmk(t, "version")
	if code != 0 || !strings.HasPrefix(out, "gmk ") || !strings.Contains(out, "go1.") {
		t.Fatalf("gmk version: %d %q", code, out)
	}
}

// [U5] Bad usage exits 2 with the reason; unknown commands and flags too.
func TestU5_Usage(t *testing.T) {
	for _, args := range [][]string{
		{"version", "extra"}, {"build"}, {"build", "--kernel", "--check", "--report-only"},
		{"build", "--kernel", "--arch", "sm90"}, {"new"}, {"new", "Bad"}, {"new", "x", "--target", "tpu"},
		{"new", "func"}, {"gen", "types", "--nope"},
	} {
		if code, _, errOut := gmk(t, args...); code != 2 || !strings.Contains(errOut, "gmk: usage") {
			t.Errorf("gmk %q: exit %d, stderr %q", args, code, errOut)
		}
	}
	if code, _, errOut := gmk(t, "bogus"); code == 0 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("gmk bogus: exit %d, stderr %q", code, errOut)
	}
}

// [U3], [U5] gmk gen types --check passes on the committed files.
func TestU5_GenTypesCheck(t *testing.T) {
	code, out, errOut := gmk(t, "gen", "types", "--check", "--root", repo)
	if code != 0 || !strings.Contains(out, "up to date types/types_gen.go") || !strings.Contains(out, "kernels/include/gmk_types.h") {
		t.Fatalf("gmk gen types --check: %d %q %q", code, out, errOut)
	}
}

// [U4], [U5] gmk build --kernel runs the kernel build: without nvcc it
// fails saying so; with it, it reports (writing nothing).
func TestU5_BuildKernel(t *testing.T) {
	if _, err := exec.LookPath("nvcc"); err == nil && testing.Short() {
		t.Skip("-short: the nvcc build takes a while")
	}
	code, out, errOut := gmk(t, "build", "--kernel", "--report-only", "--quiet",
		"--kernels", filepath.Join(repo, "kernels"), "--types", filepath.Join(repo, "types.toml"))
	if _, err := exec.LookPath("nvcc"); err != nil {
		if code != 1 || !strings.Contains(errOut, "CUDA toolkit") {
			t.Fatalf("gmk build without nvcc: %d %q %q", code, out, errOut)
		}
		return
	}
	if code != 0 || !strings.Contains(out, "gmk_echo") {
		// ran the real nvcc build (report only)
		t.Fatalf("gmk build --kernel: %d\n%s\n%s", code, out, errOut)
	}
}

// [U3] gmk build refuses GPU modules whose handler types types.toml does
// not declare, before compiling anything.
func TestU3_BuildChecksTypes(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "types.toml"), []byte("[[type]]\nid = 1\nname = \"a\"\nconst = \"A\"\nmodule = \"a\"\npayload = \"inline\"\n"), 0o644)
	code, _, errOut := gmk(t, "build", "--kernel", "--quiet", "--kernels", filepath.Join(repo, "kernels"), "--types", filepath.Join(dir, "types.toml"))
	if code != 1 || !strings.Contains(errOut, "type 960 is not in") {
		t.Fatalf("gmk build: %d %q", code, errOut)
	}
}
