//go:build cuda

package cuda

// Device tests of the CUDA backend on its own, without a system: reset and
// boot again on a renewed region, and the boots it refuses. See
// backend_cuda_test.go for how to run them.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// [F4] [B4] The backend on its own, through its bridge's host end: a boot
// serves the bridge — 4 KiB echoes come back intact, every worker beats,
// the kernel acknowledges what it ran and turns quiescent — and a Reset
// stops it and reports it whole; RenewBridge formats the region for the
// next epoch (sequences continue, the Ack cell back at 0) and a Boot on it
// serves the bridge again. Four boots and three resets, then a Halt that
// leaves nothing.
func TestF4_BackendResetBootAgain(t *testing.T) {
	b := newBackend(t, 4)
	bc := bridge.Config{Capacity: 1024, Staging: 8 << 20}
	br, err := b.NewBridge(bc)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = br.Host.Close() }()
	in := link.Chan{Spec: kernel.ChanSpec{Name: "echo.in", Type: tEchoIn}, From: "cpu.0", To: "gpu.0"}
	out := link.Chan{Spec: kernel.ChanSpec{Name: "echo.out", Type: tEchoOut}, From: "gpu.0", To: "cpu.0"}
	const n = 300
	for round := range 4 {
		spec := gpu.BootSpec{Modules: []gpu.Module{echoModule()},
			Bridge: []link.Wire{{Chan: in, T: br.Dev, Ack: br.Ack}, {Chan: out, T: br.Dev}}}
		if err := b.Boot(spec); err != nil {
			t.Fatalf("round %d: boot: %v", round, err)
		}
		echoThrough(t, b, br, round, n)
		if round == 3 {
			break
		}
		resetBackend(t, b, round, n)
		st0, _ := bridge.States(br.Host)
		if br, err = b.RenewBridge(br, bc); err != nil {
			t.Fatalf("round %d: renew: %v", round, err)
		}
		st1, _ := bridge.States(br.Host)
		if st1[bridge.RingAB].StartSeq != st0[bridge.RingAB].Published || st1[bridge.RingBA].StartSeq != st0[bridge.RingBA].Published ||
			st1[bridge.RingAB].Epoch != st0[bridge.RingAB].Epoch+1 || br.Ack.Load() != 0 {
			t.Fatalf("round %d: renewed region %+v after %+v, ack %d: want the next epoch, sequences continuing, ack 0", round, st1, st0, br.Ack.Load())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := b.Halt(ctx)
	if err != nil {
		t.Fatalf("halt: %v", err)
	}
	if r.Kernel.Stats.Submitted != n || r.Kernel.Queued != 0 || r.LivePayloads != 0 {
		t.Fatalf("halt: %s, queued %d, live payloads %d: want %d submitted, nothing left", r.Kernel.Stats, r.Kernel.Queued, r.LivePayloads, n)
	}
	if _, err := b.Halt(ctx); !errors.Is(err, gpu.ErrNotBooted) {
		t.Fatalf("second halt: %v, want ErrNotBooted", err)
	}
}

// echoThrough sends n echo tasks (every third 4 KiB) on br's host end and
// checks the replies, the heartbeats, the acknowledgements and quiescence.
func echoThrough(t *testing.T, b *Backend, br gpu.Bridge, round, n int) {
	t.Helper()
	ts := make([]task.Task, n)
	ps := make([][]byte, n)
	for i := range ts {
		ps[i] = echoPayload(i)
		ts[i] = task.Task{Type: tEchoIn, Meta0: uint64(round*n + i), PayloadLen: uint32(len(ps[i]))}
	}
	go send(t, br.Host.Sender(), ts, ps)
	for i, m := range collect(t, br.Host.Receiver(), n) {
		if m.Task.Type != tEchoOut || m.Task.Meta0 != uint64(round*n+i) || !bytes.Equal(m.Payload, ps[i]) {
			t.Fatalf("round %d, reply %d: type %d meta0 %d, %d bytes; want type %d, meta0 %d, the %d bytes sent",
				round, i, m.Task.Type, m.Task.Meta0, len(m.Payload), tEchoOut, round*n+i, len(ps[i]))
		}
	}
	waitUntil(t, func() bool { return br.Ack.Load() == uint64(n) && b.Quiescent() }, func() string {
		return fmt.Sprintf("round %d: %d of %d tasks acknowledged, quiescent %v", round, br.Ack.Load(), n, b.Quiescent())
	})
	h0 := b.Heartbeat()
	var h gpu.Heartbeat
	waitUntil(t, func() bool { h = b.Heartbeat(); return len(h.Beats) == b.Info().Workers && len(h.Stalled(h0)) == 0 }, func() string {
		return fmt.Sprintf("round %d: heartbeats %v, then %v: want all %d workers beating", round, h0.Beats, h.Beats, b.Info().Workers)
	})
}

// resetBackend resets b and checks the report: whole, n tasks taken,
// delivered, acknowledged and echoed, nothing queued, the bridge down.
func resetBackend(t *testing.T, b *Backend, round, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r, err := b.Reset(ctx)
	if err != nil {
		t.Fatalf("round %d: reset: %v", round, err)
	}
	t.Logf("round %d: reset report: %s, queued %d, live %d, links %v", round, r.Kernel.Stats, r.Kernel.Queued, r.LivePayloads, r.Links)
	if r.Lost || r.Kernel.Stats.Submitted != uint64(n) || r.Kernel.Queued != 0 || r.LivePayloads != 0 {
		t.Fatalf("round %d: reset report lost %v, %s, queued %d, live %d: want a whole report of %d tasks", round, r.Lost, r.Kernel.Stats, r.Kernel.Queued, r.LivePayloads, n)
	}
	checkGPUEnds(t, r.Links, uint64(n))
	for _, l := range r.Links {
		if !l.Down {
			t.Fatalf("round %d: %s not down after the reset", round, l)
		}
	}
	if _, err := b.Reset(ctx); !errors.Is(err, gpu.ErrNotBooted) {
		t.Fatalf("round %d: second reset: %v, want ErrNotBooted", round, err)
	}
}

// waitUntil polls cond for up to 5 s; then it fails, saying what.
func waitUntil(t *testing.T, cond func() bool, what func() string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s: %s", what())
		}
		time.Sleep(time.Millisecond)
	}
}

// [G5] [B1] Boot refuses what the device kernel cannot serve, with errors
// that say what to change: a GPU module the kernel image lacks, bridge
// channels over two transports (the device serves one host.rx/host.tx
// pair), a transport that is not a shared-memory region. Nothing runs
// afterwards.
func TestG5_BackendBootRefusals(t *testing.T) {
	b := newBackend(t, 2)
	br1, err := b.NewBridge(bridge.Config{})
	if err != nil {
		t.Fatal(err)
	}
	br2, err := b.NewBridge(bridge.Config{})
	if err != nil {
		t.Fatal(err)
	}
	mem, err := gpu.MemBridge(bridge.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, br := range []gpu.Bridge{br1, br2, mem} {
			_ = br.Host.Close()
			_ = br.Dev.Close()
		}
	}()
	in := link.Chan{Spec: kernel.ChanSpec{Name: "echo.in", Type: tEchoIn}, From: "cpu.0", To: "gpu.0"}
	out := link.Chan{Spec: kernel.ChanSpec{Name: "echo.out", Type: tEchoOut}, From: "gpu.0", To: "cpu.0"}
	for _, c := range []struct {
		spec gpu.BootSpec
		want string
	}{
		{gpu.BootSpec{Modules: []gpu.Module{{Name: "nope"}}}, `GPU module "nope" is not in the kernel image`},
		{gpu.BootSpec{Modules: []gpu.Module{echoModule()}, Bridge: []link.Wire{{Chan: in, T: br1.Dev, Ack: br1.Ack}, {Chan: out, T: br2.Dev}}},
			"channels echo.in and echo.out are on two bridge transports"},
		{gpu.BootSpec{Modules: []gpu.Module{echoModule()}, Bridge: []link.Wire{{Chan: in, T: mem.Dev, Ack: mem.Ack}}},
			"channel echo.in: its transport (mem) is not a shared-memory bridge region"},
	} {
		err := b.Boot(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("boot: %v, want %q", err, c.want)
		}
		t.Logf("boot refused: %v", err)
		if !b.Quiescent() || b.Links() != nil || len(b.Heartbeat().Beats) != 0 {
			t.Fatal("a refused boot left a kernel running")
		}
	}
	if _, err := b.Halt(context.Background()); !errors.Is(err, gpu.ErrNotBooted) {
		t.Fatalf("halt: %v, want ErrNotBooted", err)
	}
}

// [F4] A Reset of a kernel whose handler never returns (the device's fault
// module, type 997, on worker 0) cannot stop it: the report is Lost — what
// the kernel took from host.rx counted lost, and the hung task
// unacknowledged, so its host sends it again — the error says the process
// must end (ErrBroken, ErrHung), and Boot refuses from then on. It runs in a
// child process (TestF4_BackendHangChild), which the parent then kills, as
// the GPU daemon's host kills the daemon; a new backend in this process
// then boots and serves the bridge.
func TestF4_BackendHungResetIsLost(t *testing.T) {
	v := runChild(t, "TestF4_BackendHangChild", "GMK_BACKEND_HANG_CHILD=1", "VERDICT ")
	if !strings.HasPrefix(v, "VERDICT confirmed") {
		t.Fatalf("child: %s", v)
	}
	t.Logf("child: %s", v)
	b := newBackend(t, 4)
	br, err := b.NewBridge(bridge.Config{Capacity: 256, Staging: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = br.Host.Close() }()
	in := link.Chan{Spec: kernel.ChanSpec{Name: "echo.in", Type: tEchoIn}, From: "cpu.0", To: "gpu.0"}
	out := link.Chan{Spec: kernel.ChanSpec{Name: "echo.out", Type: tEchoOut}, From: "gpu.0", To: "cpu.0"}
	if err := b.Boot(gpu.BootSpec{Modules: []gpu.Module{echoModule()},
		Bridge: []link.Wire{{Chan: in, T: br.Dev, Ack: br.Ack}, {Chan: out, T: br.Dev}}}); err != nil {
		t.Fatalf("boot after the hung process ended: %v", err)
	}
	echoThrough(t, b, br, 0, 30)
	if _, err := b.Halt(context.Background()); err != nil {
		t.Fatalf("halt: %v", err)
	}
}

// TestF4_BackendHangChild is TestF4_BackendHungResetIsLost's child: it
// hangs worker 0, resets, tries to boot again, prints its verdict and waits
// to be killed.
func TestF4_BackendHangChild(t *testing.T) {
	if os.Getenv("GMK_BACKEND_HANG_CHILD") == "" {
		t.Skip("runs only as the child process of TestF4_BackendHungResetIsLost")
	}
	verdict := func(format string, args ...any) {
		fmt.Printf("VERDICT "+format+"\n", args...)
		time.Sleep(time.Hour) // killed by the parent
	}
	b, err := NewBackend(BackendConfig{Kernel: Config{PTX: image(t), Workers: 4}})
	if err != nil {
		verdict("NewBackend: %v", err)
	}
	br, err := b.NewBridge(bridge.Config{Capacity: 256, Staging: 1 << 20})
	if err != nil {
		verdict("NewBridge: %v", err)
	}
	in := link.Chan{Spec: kernel.ChanSpec{Name: "fault.in", Type: tHang}, From: "cpu.0", To: "gpu.0"}
	spec := gpu.BootSpec{Modules: []gpu.Module{{Name: "fault", Channels: []kernel.ChanDecl{{Name: "fault.in", Dir: kernel.Consume, Type: tHang}}}},
		Bridge: []link.Wire{{Chan: in, T: br.Dev, Ack: br.Ack}}}
	if err := b.Boot(spec); err != nil {
		verdict("boot: %v", err)
	}
	send(t, br.Host.Sender(), []task.Task{{Type: tHang}}, [][]byte{nil})
	var beats []int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		a := b.Heartbeat()
		time.Sleep(20 * time.Millisecond) // 20 heartbeat periods
		if beats = b.Heartbeat().Stalled(a); len(beats) == 1 && beats[0] == 0 {
			break
		}
	}
	if len(beats) != 1 || beats[0] != 0 {
		verdict("stalled workers %v, want worker 0 alone", beats)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r, err := b.Reset(ctx)
	if !r.Lost || !errors.Is(err, ErrBroken) || !errors.Is(err, ErrHung) {
		verdict("reset: lost %v, %v; want lost, ErrBroken and ErrHung", r.Lost, err)
	}
	// The hung task is never acknowledged, so the host sends it again after
	// the restart; whether the device had released its slot is not known
	// (it releases after the round that runs a task, which never ends):
	// released, it counts lost, else it is still in the ring.
	if l := r.Links; len(l) != 1 || l[0].Received > 1 || l[0].Lost != l[0].Received || l[0].Acked != 0 || l[0].Check() != nil {
		verdict("reset links %v: want fault.in with the task unacknowledged (and lost if taken)", r.Links)
	}
	if err := b.Boot(spec); !errors.Is(err, ErrBroken) {
		verdict("boot after the hung reset: %v, want ErrBroken", err)
	}
	verdict("confirmed: reset said %q", err)
}

// runChild runs this test binary's test name in a child process with env
// added, and returns the first line it prints starting with prefix (60 s
// at most); the child is killed then.
func runChild(t *testing.T, name, env, prefix string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.v")
	cmd.Env = append(os.Environ(), env)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	verdict := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, prefix) {
				verdict <- line
				return
			}
		}
		verdict <- "the child ended without a verdict"
	}()
	select {
	case v := <-verdict:
		return v
	case <-time.After(60 * time.Second):
		return "no verdict from the child in 60 s"
	}
}
