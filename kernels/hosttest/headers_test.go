package hosttest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// [G2] DESIGN.md decision 8: every header in kernels/include compiles as
// host C — alone (hdr_NAME.c: it includes what it needs) and all together
// (hdr_all.c) — with -Wall -Wextra -Werror. The compiling happens when this
// package builds; this test proves the list is complete, so a new header
// cannot skip it, and that each header is linked into this directory, so
// the go command hashes it (an edited header must not leave a cached result).
func TestG2_HeadersCompileAsC(t *testing.T) {
	skipWithoutCgo(t)
	headers, err := filepath.Glob(filepath.Join("..", "include", "*.h"))
	if err != nil || len(headers) == 0 {
		t.Fatalf("no headers in ../include (%v)", err)
	}
	all, err := os.ReadFile("hdr_all.c")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		name := filepath.Base(h)
		include := `#include "` + name + `"`
		src, err := os.ReadFile("hdr_" + strings.TrimSuffix(name, ".h") + ".c")
		if err != nil {
			t.Errorf("%s has no compile-alone file: %v", name, err)
		} else if strings.Count(string(src), "#include") != 1 || !strings.Contains(string(src), include) {
			t.Errorf("hdr_%s.c must include %s and nothing else", strings.TrimSuffix(name, ".h"), name)
		}
		if !strings.Contains(string(all), include) {
			t.Errorf("hdr_all.c does not include %s", name)
		}
		want, err1 := os.Stat(h)
		got, err2 := os.Stat(name)
		if err1 != nil || err2 != nil || !os.SameFile(want, got) {
			t.Errorf("%s is not linked into kernels/hosttest (ln -s ../include/%s): %v %v", name, name, err1, err2)
		}
	}
}
