//go:build !cuda

package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/gmkernel/gmk/gpu/daemon"
)

// [K1] --backend cuda in a build without -tags cuda is refused with a
// clear error (DESIGN.md decision 7: only gmk-gpud links CUDA, and only in
// the cuda build); nothing starts.
func TestK1_BackendCUDANotBuiltIn(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run([]string{"--backend", "cuda"}, strings.NewReader(""), &out, &errOut)
	if !errors.Is(err, daemon.ErrNoCUDA) || !strings.Contains(err.Error(), "cuda backend: built with -tags cuda only") {
		t.Fatalf("--backend cuda: %v, want daemon.ErrNoCUDA", err)
	}
	if out.Len() != 0 {
		t.Fatalf("--backend cuda printed %q", out.String())
	}
}
