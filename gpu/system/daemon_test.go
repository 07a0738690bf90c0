//go:build !race

// The tests in this file run the GPU kernel in the GPU daemon (gmk-gpud),
// driven over protoactor remote on 127.0.0.1, whose own code trips the race
// detector (see the actor issue); they run in the plain `go test` build.
// The same system code is covered under -race by the in-process tests.

package system_test

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/gpu/daemon"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/internal/gpudtest"
	"github.com/gmkernel/gmk/kernel"
)

// daemonConfig runs the fault setup's GPU side in the daemon: the
// catalogue's hang module, between host.rx and host.tx.
func (f *fault) daemonConfig(t *testing.T, hangAt uint64) system.Config {
	args := map[string]string{"in": "host.rx", "out": "host.tx", "in_type": strconv.Itoa(int(tRx)),
		"out_type": strconv.Itoa(int(tTx)), "hang_at": strconv.FormatUint(hangAt, 10)}
	return system.Config{CPU: small, CPUModules: f.cpuModules(), Bridge: bridge.Config{Capacity: 256},
		Daemon: &daemon.Config{Exe: gpudtest.Exe(t), Sim: sim.Config{Workers: 2, Kernel: small},
			Modules: []daemon.ModuleRef{{Name: "hang", Args: args}}}}
}

// [F4] [F5] [B4] Acceptance 17, with the GPU kernel in the GPU daemon: a
// handler that never returns hangs it; the watchdog's heartbeat samples go
// over the control path. Two stalled samples raise a warning, five reset
// it — the daemon is killed (SIGKILL) — and the same sample restarts it on
// the same shared-memory regions, formatted for the next epoch; the CPU
// end reconnects and sends again, flagged redelivered, every task the dead
// kernel had not acknowledged. The CPU kernel runs its own tasks
// throughout; every task handed to host.rx ends acknowledged as handled;
// Halt's report checks (the killed kernel's own counts died with it: its
// bridge ends are read from the rings).
func TestF4_DaemonHangResetRebootRedeliver(t *testing.T) {
	f := newFault(t, 3000, 700)
	s, err := system.Boot(f.daemonConfig(t, 700))
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + s.Summary().String())
	hung := func() bool { return stalled(s) }
	r := f.run(t, s, hung, f.samples(t, s), []system.WatchKind{system.WatchWarning, system.WatchReset, system.WatchRebooted}, false)
	if !r.Resets[0].Lost || r.GPU.Lost {
		t.Fatalf("reports: reset lost %v, final lost %v; want the killed daemon's lost and the final one whole", r.Resets[0].Lost, r.GPU.Lost)
	}
}

// [F4] [B4] The GPU daemon killed mid-stream (SIGKILL from outside): its
// death is seen at once — no heartbeat sample needed — and the GPU kernel
// is reset, restarted and reconnected; every task handed to host.rx ends
// acknowledged as handled, and the report checks.
func TestF4_DaemonKilledMidStream(t *testing.T) {
	f := newFault(t, 6000, 1<<62) // nothing hangs
	s, err := system.Boot(f.daemonConfig(t, 1<<62))
	if err != nil {
		t.Fatal(err)
	}
	d := s.GPU().(*daemon.Backend)
	midStream := func() bool { return f.stored.distinct(f.n) >= f.n/4 }
	kill := func(w *watcher) {
		pid := d.Pid()
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the restart", func() bool { return len(w.kinds()) >= 3 })
		if d.Pid() == pid || d.Pid() == 0 {
			t.Fatalf("daemon pid %d after the restart, was %d: %s", d.Pid(), pid, w.describe())
		}
		f.localTask(t, s.CPU())
	}
	r := f.run(t, s, midStream, kill, []system.WatchKind{system.WatchDied, system.WatchReset, system.WatchRebooted}, false)
	if !r.Resets[0].Lost {
		t.Fatal("the killed daemon's kernel report is not marked lost")
	}
}

// [K1] The daemon backend by configuration: the boot summary names it and
// the shared-memory transport; an inline round trip through the daemon's
// xform comes back in order; Halt stops the daemon process.
func TestK1_DaemonBootSummary(t *testing.T) {
	st := &store{}
	s, err := system.Boot(system.Config{CPU: small, CPUModules: []kernel.Module{ingest, st.module()},
		Daemon: &daemon.Config{Exe: gpudtest.Exe(t), Sim: sim.Config{Workers: 2, Kernel: small},
			Modules: []daemon.ModuleRef{{Name: "xform", Args: map[string]string{"scale": "3"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	d := s.GPU().(*daemon.Backend)
	pid := d.Pid()
	sum := s.Summary().String()
	emitInline(t, s.CPU(), 5000)
	waitFor(t, "the round trips", func() bool { return st.n.Load() == 5000 })
	halt(t, s)
	for i, v := range st.meta {
		if v != uint64(i) {
			t.Fatalf("task %d came back as %d", i, v)
		}
	}
	for _, want := range []string{"GMK/gpu.0 booted (daemon) | compute | 2 workers × 128 threads | 1 module",
		"host.rx    cpu.0 → gpu.0  p2p/lossless  type 990  shm", "host.tx    gpu.0 → cpu.0  p2p/lossless  type 991  shm"} {
		if !strings.Contains(sum, want) {
			t.Fatalf("summary lacks %q:\n%s", want, sum)
		}
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("daemon %d still running after Halt", pid)
	}
}

// [X6] The GPU kernel in the GPU daemon, addressed as a remote actor: a
// plain actor on another ActorSystem sends to actor.NewPID(host address,
// "gpu.0") through protoactor remote; its tasks cross the shared-memory
// bridge to the daemon's Xform, and the outputs come back to it as
// messages, over remote again.
func TestX6_DaemonGPUKernelAsRemoteActor(t *testing.T) {
	host, other := newActorSystem(), newActorSystem()
	remHost := remote.NewRemote(host, remote.Configure("127.0.0.1", 0))
	remHost.Start()
	remClient := remote.NewRemote(other, remote.Configure("127.0.0.1", 0))
	remClient.Start()
	s, err := system.Boot(system.Config{CPU: small, Actor: &system.ActorConfig{System: host},
		Daemon: &daemon.Config{Exe: gpudtest.Exe(t), Sim: sim.Config{Workers: 2, Kernel: small},
			Modules: []daemon.ModuleRef{{Name: "xform", Args: map[string]string{"scale": "3"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	c := &client{gpu: actor.NewPID(host.Address(), "gpu.0"), n: n, out: make(chan kernel.Task, n), data: make(chan string, n),
		results: make(chan *wire.EmitResult, 2)}
	pid := other.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return c }))
	for i := range n {
		select {
		case x := <-c.out:
			if p := <-c.data; x.Meta1 != 3*x.Meta0 || p != fmt.Sprintf("ITEM %d", x.Meta0) {
				t.Fatalf("reply %d: %+v %q", i, x, p)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%d of %d replies over remote", i, n)
		}
	}
	if err := other.Root.StopFuture(pid).Wait(); err != nil {
		t.Fatal(err)
	}
	halt(t, s)
	remClient.Shutdown(false)
	remHost.Shutdown(false)
	other.Shutdown()
	host.Shutdown()
	if st := s.ActorStats(); st.Requests != n || st.Replies != n {
		t.Fatalf("actor stats %+v", st)
	}
}

// [K1] Issue 5 acceptance 3: asking for the CUDA backend from a daemon that
// has none (a build without -tags cuda, as on every machine without the
// toolkit) fails the boot with the daemon's own reason — its death is seen
// and reported — well inside the start bound: never a hang.
func TestK1_DaemonCUDAWithoutItFailsClearly(t *testing.T) {
	var stderr strings.Builder
	start := time.Now()
	_, err := system.Boot(system.Config{CPU: small, CPUModules: []kernel.Module{ingest},
		Daemon: &daemon.Config{Exe: gpudtest.Exe(t), Backend: "cuda", Stderr: &stderr, Start: 30 * time.Second,
			Sim: sim.Config{Workers: 2, Kernel: small}, Modules: []daemon.ModuleRef{{Name: "xform"}}}})
	if err == nil {
		t.Fatal("a CUDA daemon booted without CUDA")
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("the failure took %v: the daemon's death was not noticed", took)
	}
	if !strings.Contains(err.Error(), "cuda backend: built with -tags cuda only") {
		t.Fatalf("boot error does not say why: %v\nstderr: %s", err, stderr.String())
	}
	t.Logf("boot: %v", err)
}
