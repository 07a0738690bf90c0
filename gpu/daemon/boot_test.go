//go:build !race

// The test in this file starts protoactor remote on 127.0.0.1, whose own
// code trips the race detector (see daemon_test.go); it runs in the plain
// `go test` build.

package daemon_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/daemon"
	"github.com/gmkernel/gmk/internal/gpudtest"
	"github.com/gmkernel/gmk/internal/leaktest"
)

// [K1] [K2] A Boot that fails — the daemon exits before its ready line —
// leaves nothing running: no process, and not the control path it started
// (protoactor remote's gRPC server, the host's ActorSystem). A second
// failure leaves nothing either; a Boot after them starts the control path
// again and boots the daemon, and Halt ends it all.
func TestK2_FailedBootLeavesNothingRunning(t *testing.T) {
	// The executable fails until the file beside it exists, then runs gmk-gpud.
	exe := filepath.Join(t.TempDir(), "gpud")
	script := "#!/bin/sh\n[ -e \"$0.ok\" ] || exit 1\nexec " + gpudtest.Exe(t) + " \"$@\"\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := daemon.New(daemon.Config{Exe: exe, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.NewBridge(bridge.Config{}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := b.Boot(gpu.BootSpec{}); err == nil {
			t.Fatalf("boot %d of a daemon that exits: no error", i+1)
		}
		if err := goleak.Find(leaktest.Protoactor()...); err != nil {
			t.Fatalf("goroutines after failed boot %d: %v", i+1, err)
		}
	}
	if err := os.WriteFile(exe+".ok", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.Boot(gpu.BootSpec{}); err != nil {
		t.Fatalf("boot after two failed ones: %v", err)
	}
	if b.Pid() == 0 {
		t.Fatal("booted, but no daemon runs")
	}
	if _, err := b.Halt(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Halt(t.Context()); !errors.Is(err, gpu.ErrNotBooted) {
		t.Fatalf("second halt: %v, want ErrNotBooted", err)
	}
}
