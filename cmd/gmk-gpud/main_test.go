package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/gpu/daemon"
)

// --backend cuda in a build without -tags cuda is refused with a clear
// error (DESIGN.md decision 7: only gmk-gpud links CUDA, and only in the
// cuda build); an unknown backend and a bad flag are errors too. Nothing
// starts: no ready line is printed.
func TestBackendFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--backend", "cuda"}, "cuda backend: built with -tags cuda only"},
		{[]string{"--backend", "tpu"}, `unknown backend "tpu"`},
		{[]string{"--nope"}, "flag provided but not defined"},
	} {
		var out, errOut bytes.Buffer
		err := run(c.args, strings.NewReader(""), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%v: %v, want %q", c.args, err, c.want)
		}
		if strings.Contains(c.want, "cuda") && !errors.Is(err, daemon.ErrNoCUDA) {
			t.Fatalf("%v: %v is not ErrNoCUDA", c.args, err)
		}
		if out.Len() != 0 {
			t.Fatalf("%v printed %q", c.args, out.String())
		}
	}
}

// Nothing run starts outlives it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
