package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gmkernel/gmk/internal/gpudtest"
)

// An unknown backend and a bad flag are errors, and nothing starts: no
// ready line is printed. (--backend cuda: nocuda_test.go, cudadaemon_test.go.)
func TestBackendFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--backend", "tpu"}, `unknown backend "tpu"`},
		{[]string{"--nope"}, "flag provided but not defined"},
	} {
		var out, errOut bytes.Buffer
		err := run(c.args, strings.NewReader(""), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%v: %v, want %q", c.args, err, c.want)
		}
		if out.Len() != 0 {
			t.Fatalf("%v printed %q", c.args, out.String())
		}
	}
}

// Nothing run starts outlives it, nor do the daemons and control paths
// the tests start (gpudtest.Main: goleak, with protoactor's one timer).
func TestMain(m *testing.M) { gpudtest.Main(m) }
