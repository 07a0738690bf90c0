package kbuild

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// needToolkit skips a test that compiles CUDA when nvcc is not on PATH. CI
// runs these from `make cuda-check`, after scripts/install-cuda.sh.
func needToolkit(t *testing.T) *Toolchain {
	t.Helper()
	if _, err := exec.LookPath("nvcc"); err != nil {
		t.Skip("nvcc not on PATH: install the CUDA toolkit (scripts/install-cuda.sh) to run the kernel-build tests")
	}
	tc, err := FindToolchain(context.Background())
	if err != nil {
		t.Skipf("CUDA toolkit incomplete: %v", err)
	}
	return &tc
}

// fixtureTree lays out a kernels directory in a temporary directory: the
// repository's real headers (kernels/include), the fixture kernel
// (testdata/kernel) and the named fixture modules (testdata/modules/NAME).
// Builds write into it, never into testdata.
func fixtureTree(t *testing.T, modules ...string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "kernels")
	copyDir(t, filepath.Join("..", "..", "kernels", "include"), filepath.Join(root, "include"))
	copyDir(t, filepath.Join("testdata", "kernel"), root)
	for _, m := range modules {
		copyDir(t, filepath.Join("testdata", "modules", m), filepath.Join(root, "modules", m))
	}
	return root
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

// fixtureOptions builds tree's kernel into a PTX directory of its own, for
// sm_90 only unless the test asks for more.
func fixtureOptions(t *testing.T, tc *Toolchain, tree string) Options {
	return Options{
		Kernels:   tree,
		Out:       filepath.Join(filepath.Dir(tree), "ptx"),
		Archs:     []string{"sm_90"},
		Toolchain: tc,
	}
}

func handlerReport(t *testing.T, res *Result, fn string) HandlerReport {
	t.Helper()
	for _, h := range res.Handlers {
		if h.Fn == fn {
			return h
		}
	}
	t.Fatalf("no handler %s in the report", fn)
	return HandlerReport{}
}
