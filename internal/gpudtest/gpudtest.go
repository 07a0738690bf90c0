// Package gpudtest is the test fixture of the packages that start the GPU
// daemon (gpu/daemon, gpu/system): it builds cmd/gmk-gpud once per test
// binary and runs the tests under goleak. Its functions are for tests and
// TestMain only; Exe is safe from parallel tests.
package gpudtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Exe builds cmd/gmk-gpud into a temporary directory the first time it is
// asked for and returns its path; Main removes it after the tests.
func Exe(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "gmk-gpud-test")
		if err != nil {
			built.err = err
			return
		}
		built.dir, built.path = dir, filepath.Join(dir, "gmk-gpud")
		if out, err := exec.Command("go", "build", "-o", built.path, "github.com/gmkernel/gmk/cmd/gmk-gpud").CombinedOutput(); err != nil {
			built.err, built.path = err, string(out)
		}
	})
	if built.err != nil {
		t.Fatalf("go build gmk-gpud: %v\n%s", built.err, built.path)
	}
	return built.path
}

// Main runs the tests, removes the daemon built for them, and fails the run
// if a goroutine outlives them ([K2]). protoactor's dead-letter throttle (a
// late answer to a timed-out request) runs a timer goroutine that ends on
// its own a period later: the only one ignored, by name.
func Main(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1")); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
