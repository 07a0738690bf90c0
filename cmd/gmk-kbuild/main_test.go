package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--arch", "90"},
		{"--check", "--report-only"},
		{"--inline-reg-limit", "0"},
		{"--no-such-flag"},
		{"extra"},
	} {
		if code, _, stderr := runCmd(args...); code != 2 || stderr == "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a message", args, code, stderr)
		}
	}
}

// TestNoToolkitSaysWhat: without nvcc the command fails with the way to
// install it, not a stack of exec errors.
func TestNoToolkitSaysWhat(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	code, _, stderr := runCmd("--quiet")
	if code != 1 || !strings.Contains(stderr, "scripts/install-cuda.sh") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// fixture lays out a kernels directory from internal/kbuild's test
// fixtures and the repository's headers.
func fixture(t *testing.T, modules ...string) (kernels, out string) {
	t.Helper()
	if _, err := exec.LookPath("nvcc"); err != nil {
		t.Skip("nvcc not on PATH: install the CUDA toolkit (scripts/install-cuda.sh) to run the kernel-build tests")
	}
	root := t.TempDir()
	kernels = filepath.Join(root, "kernels")
	testdata := filepath.Join("..", "..", "internal", "kbuild", "testdata")
	copies := map[string]string{
		filepath.Join("..", "..", "kernels", "include"): filepath.Join(kernels, "include"),
		filepath.Join(testdata, "kernel"):               kernels,
	}
	for _, m := range modules {
		copies[filepath.Join(testdata, "modules", m)] = filepath.Join(kernels, "modules", m)
	}
	for src, dst := range copies {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
	}
	return kernels, filepath.Join(root, "ptx")
}

// TestG4_BuildThenCheck: a build writes and reports; --check then passes;
// progress goes to stderr, one line per step off a terminal.
func TestG4_BuildThenCheck(t *testing.T) {
	t.Parallel()
	kernels, out := fixture(t, "fxecho", "fxblock")
	code, stdout, stderr := runCmd("--kernels", kernels, "--out", out, "--arch", "sm_90")
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"fx_echo", "fx_block", "kernel image", "wrote " + filepath.Join(out, "gmk_sm90.ptx")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "[1/4] reading modules") {
		t.Errorf("no progress lines on stderr:\n%s", stderr)
	}
	code, stdout, stderr = runCmd("--kernels", kernels, "--out", out, "--arch", "sm_90", "--check", "--quiet")
	if code != 0 || !strings.Contains(stdout, "up to date") || stderr != "" {
		t.Fatalf("check: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestG4_PlantedSpillExitsNonZero is acceptance item 2 at the command
// line: the report is printed and the failure names the handler.
func TestG4_PlantedSpillExitsNonZero(t *testing.T) {
	t.Parallel()
	kernels, out := fixture(t, "fxecho", "fxstack")
	code, stdout, stderr := runCmd("--kernels", kernels, "--out", out, "--arch", "sm_90", "--quiet")
	if code != 1 || !strings.Contains(stderr, "handler fx_stack") || !strings.Contains(stdout, "fx_stack") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("failed build created %s", out)
	}
}
