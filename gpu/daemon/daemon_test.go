//go:build !race

// The tests in this file start the GPU daemon and talk to it over
// protoactor remote on 127.0.0.1, whose own code trips the race detector
// (see the actor issue); they run in the plain `go test` build.

package daemon_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gmkernel/gmk/gpu/daemon"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/internal/gpudtest"
	"github.com/gmkernel/gmk/kernel"
)

// [F4] Heartbeats travel over the control path: a daemon frozen as a whole
// (SIGSTOP) answers no sample, and every worker then counts as stalled —
// what a heartbeat array in shared memory, left as the frozen process
// wrote it last, would not show; thawed (SIGCONT), its workers beat again.
// Telemetry comes with each sample; Halt ends the daemon process.
func TestF4_FrozenDaemonMissesHeartbeats(t *testing.T) {
	small := kernel.BootConfig{Workers: 2, ArenaSize: 8 << 20, QueueCap: 1024, EVQCap: 1024}
	s, err := system.Boot(system.Config{CPU: small,
		CPUModules: []kernel.Module{{Name: "ingest", Channels: []kernel.ChanDecl{{Name: "host.rx", Dir: kernel.Produce, Type: 990, Guarantee: kernel.Lossless}}}},
		Daemon: &daemon.Config{Exe: gpudtest.Exe(t), Sim: sim.Config{Workers: 3, Kernel: small}, Request: 50 * time.Millisecond,
			Modules: []daemon.ModuleRef{{Name: "xform", Args: map[string]string{"out": "gpu.out"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	d := s.GPU().(*daemon.Backend)
	h1 := d.Heartbeat()
	if h2 := d.Heartbeat(); len(h2.Beats) != 3 || len(h2.Stalled(h1)) != 0 {
		t.Fatalf("idle daemon: beats %v → %v, want 3 workers beating", h1.Beats, h2.Beats)
	}
	pid := d.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitStopped(t, pid)
	f1 := d.Heartbeat()
	if got := d.Heartbeat().Stalled(f1); len(got) != 3 {
		_ = syscall.Kill(pid, syscall.SIGCONT)
		t.Fatalf("frozen daemon: stalled %v, want all 3 workers", got)
	}
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		a := d.Heartbeat()
		if len(d.Heartbeat().Stalled(a)) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the thawed daemon does not beat")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := s.Halt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("daemon %d still running after Halt", pid)
	}
}

// waitStopped waits until every thread of process pid is stopped: kill
// returns before a group stop has reached them all, and a thread still
// running could answer a sample (a loaded CI machine showed it).
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !allStopped(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGCONT)
			t.Fatalf("daemon %d: not every thread stopped 10 s after SIGSTOP", pid)
		}
		time.Sleep(time.Millisecond)
	}
}

// allStopped reads each thread's state from /proc (the field after the
// parenthesised command name: T when stopped by a signal).
func allStopped(pid int) bool {
	stats, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "stat"))
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			return false
		}
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i < 0 || i+2 >= len(s) || s[i+2] != 'T' {
			return false
		}
	}
	return len(stats) > 0
}
