//go:build cuda

package cuda

// Device tests of the CUDA backend (Backend: gpu.Backend, gpu.Bridger). Like
// kernel_cuda_test.go they need an NVIDIA GPU; on a machine without one the
// test binary cannot start (gorgonia.org/cu exits at init). On the device:
//
//	go test -c -tags cuda -o cuda.test ./gpu/cuda/
//	go build -tags cuda -o gmk-gpud ./cmd/gmk-gpud   # for TestB3_DaemonEchoOnDevice
//	GMK_GPUD=$PWD/gmk-gpud ./cuda.test -test.v -test.run 'OnDevice|Backend'
//
// $GMK_PTX overrides the embedded kernel image, as for the kernel tests.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/daemon"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/internal/gpudtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
	"github.com/gmkernel/gmk/modules/echo"
)

// No goroutine of a backend — kernel threads, the daemon's control path —
// outlives its Halt or Reset (gpudtest.Main: goleak).
func TestMain(m *testing.M) { gpudtest.Main(m) }

// newBackend returns a CUDA backend on device 0 with workers resident
// workers and the test image.
func newBackend(t *testing.T, workers int) *Backend {
	t.Helper()
	b, err := NewBackend(BackendConfig{Kernel: Config{PTX: image(t), Workers: workers}})
	if err != nil {
		t.Fatalf("NewBackend: %v", err)
	}
	t.Logf("backend %s; image modules %v", b.Info(), b.ImageModules())
	t.Cleanup(func() { // a test that failed with the kernel running: stop it, without draining
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _ = b.Halt(ctx)
	})
	return b
}

// echoPayload is task i's payload: 4 KiB for every third task, none (an
// inline task) for the next, an odd size for the one after.
func echoPayload(i int) []byte {
	size := [3]int{4096, 0, 1 + i%777}[i%3]
	if size == 0 {
		return nil
	}
	p := make([]byte, size)
	for j := range p {
		p[j] = byte(i*7 + j)
	}
	return p
}

// echoModule is the Go declaration of the device's echo module
// (kernels/modules/echo: type 960 in on echo.in, 961 out on echo.out).
func echoModule() gpu.Module { return gpu.FromKernel(echo.Module(echo.Config{})) }

// echoRig is the CPU side of the system tests: a module producing echo.in
// and one consuming echo.out that records every reply.
type echoRig struct {
	s      *system.System
	halted bool
	mu     sync.Mutex
	got    []reply
	n      atomic.Int64
	sent   atomic.Int64
}

// reply is one echo as the CPU kernel saw it.
type reply struct {
	meta0       uint64
	redelivered bool
	payload     []byte
}

var cpuConfig = kernel.BootConfig{Workers: 2, ArenaSize: 64 << 20, QueueCap: 4096, EVQCap: 1024, MaxChannels: 32}

func (r *echoRig) config(b gpu.Backend) system.Config {
	feed := kernel.Module{Name: "feed", Channels: []kernel.ChanDecl{
		{Name: "echo.in", Dir: kernel.Produce, Type: tEchoIn, Guarantee: kernel.Lossless}}}
	sink := kernel.Module{Name: "sink", Channels: []kernel.ChanDecl{
		{Name: "echo.out", Dir: kernel.Consume, Type: tEchoOut, Guarantee: kernel.Lossless}},
		Handlers: []kernel.Handler{{Type: tEchoOut, Fn: func(c *kernel.Ctx) kernel.Status {
			x := reply{meta0: c.Task().Meta0, redelivered: c.Task().Flags&task.Redelivered != 0, payload: bytes.Clone(c.Payload())}
			r.mu.Lock()
			r.got = append(r.got, x)
			r.mu.Unlock()
			r.n.Add(1)
			return kernel.OK
		}}}}
	// host.tx holds every reply of a test at once (4096 slots, 32 MiB), so
	// the device's echo never finds it full: no retry, no egress.
	return system.Config{CPU: cpuConfig, CPUModules: []kernel.Module{feed, sink}, GPU: b,
		GPUModules: []gpu.Module{echoModule()}, Bridge: bridge.Config{Capacity: 4096, Staging: 32 << 20}}
}

// boot boots the system and halts it at the test's end if the test did not.
func (r *echoRig) boot(t *testing.T, cfg system.Config) {
	t.Helper()
	s, err := system.Boot(cfg)
	if err != nil {
		t.Fatalf("system boot: %v", err)
	}
	r.s = s
	t.Log("\n" + s.Summary().String())
	t.Cleanup(func() {
		if !r.halted {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, _ = s.Halt(ctx)
		}
	})
}

// emit emits tasks [from, to) on echo.in with their payloads, in order.
func (r *echoRig) emit(t *testing.T, from, to int) {
	t.Helper()
	if err := r.emitErr(from, to); err != nil {
		t.Fatal(err)
	}
}

// emitErr is emit for another goroutine: it returns the first error.
func (r *echoRig) emitErr(from, to int) error {
	k := r.s.CPU()
	id, err := k.Chan("echo.in")
	if err != nil {
		return err
	}
	for i := from; i < to; i++ {
		x := kernel.Task{Type: tEchoIn, Meta0: uint64(i)}
		if p := echoPayload(i); p != nil {
			h, b, err := k.Alloc(0, len(p))
			if err != nil {
				return fmt.Errorf("CPU arena: payload of task %d: %w", i, err)
			}
			copy(b, p)
			x.Payload, x.PayloadLen = h, uint32(len(p))
		}
		if err := r.emitOne(k, id, x); err != nil {
			return fmt.Errorf("emit task %d on echo.in: %w", i, err)
		}
		r.sent.Add(1)
	}
	return nil
}

// emitOne emits x, waiting for room; while the GPU kernel is reset the
// channel is suspended (CHAN_CLOSED) until the reconnect resumes it, so that
// is waited out too (10 s at most) — the payload stays the emitter's until
// an emit succeeds.
func (r *echoRig) emitOne(k *kernel.Kernel, id kernel.ChanID, x kernel.Task) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := k.ChanEmitWait(context.Background(), id, x)
		if !errors.Is(err, kernel.ErrChanClosed) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(time.Millisecond)
	}
}

// wait waits until n distinct tasks were echoed, 15 s at most.
func (r *echoRig) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for r.distinct() < n {
		if time.Now().After(deadline) {
			for _, l := range r.s.Links() {
				t.Logf("link %s", l)
			}
			t.Fatalf("%d of %d tasks echoed after 15 s (%d replies, %d emitted); quiescent: gpu %v",
				r.distinct(), n, r.n.Load(), r.sent.Load(), r.s.GPU().Quiescent())
		}
		time.Sleep(time.Millisecond)
	}
}

func (r *echoRig) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[uint64]bool{}
	for _, x := range r.got {
		seen[x.meta0] = true
	}
	return len(seen)
}

// check checks the replies: each of tasks [0, n) echoed with its payload
// intact — once and in order when inOrder, else at least once, a second
// time only flagged redelivered. It returns the replies counted.
func (r *echoRig) check(t *testing.T, n int, inOrder bool) int {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	plain := make([]int, n)
	all := make([]int, n)
	for i, x := range r.got {
		switch {
		case x.meta0 >= uint64(n):
			t.Fatalf("reply %d: task %d, none was sent", i, x.meta0)
		case inOrder && x.meta0 != uint64(i):
			t.Fatalf("reply %d is task %d's: out of order", i, x.meta0)
		case !bytes.Equal(x.payload, echoPayload(int(x.meta0))):
			t.Fatalf("reply %d (task %d): payload of %d bytes differs from the %d sent", i, x.meta0, len(x.payload), len(echoPayload(int(x.meta0))))
		}
		all[x.meta0]++
		if !x.redelivered {
			plain[x.meta0]++
		}
	}
	for i := range n {
		if all[i] == 0 || plain[i] > 1 || inOrder && all[i] != 1 {
			t.Fatalf("task %d echoed %d times, %d of them not flagged redelivered", i, all[i], plain[i])
		}
	}
	return len(r.got)
}

// halt halts the system, logs and checks its report ([K2], [C9]).
func (r *echoRig) halt(t *testing.T) system.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	rep, err := r.s.Halt(ctx)
	r.halted = true
	for _, l := range rep.Links {
		t.Logf("link %s", l)
	}
	t.Logf("GPU kernel: %s, queued %d, live payloads %d, lost %v", rep.GPU.Kernel.Stats, rep.GPU.Kernel.Queued, rep.GPU.LivePayloads, rep.GPU.Lost)
	if err != nil {
		t.Fatalf("halt: %v", err)
	}
	if err := rep.Check(); err != nil {
		t.Fatalf("halt report: %v", err)
	}
	return rep
}

// checkGPUEnds checks the GPU kernel's ends of echo.in and echo.out in
// links: in received, delivered and acknowledged n, out sent n.
func checkGPUEnds(t *testing.T, ls []link.Stats, n uint64) {
	t.Helper()
	seen := 0
	for _, l := range ls {
		switch {
		case l.Kernel != "gpu.0":
		case l.Chan == "echo.in" && (l.Dir != link.In || l.Received != n || l.Delivered != n || !l.Acks || l.Acked != n):
			t.Fatalf("GPU end of echo.in: %s (acks %v): want %d received, delivered and acknowledged", l, l.Acks, n)
		case l.Chan == "echo.out" && (l.Dir != link.Out || l.Sent != n || l.Taken != n):
			t.Fatalf("GPU end of echo.out: %s: want %d taken and sent", l, n)
		default:
			seen++
		}
	}
	if seen != 2 {
		t.Fatalf("%d GPU bridge ends in %v, want echo.in and echo.out", seen, ls)
	}
}

// [B2] [B3] [B4] [G5] [K2] A system whose GPU kernel is the CUDA backend:
// the CPU kernel sends 3000 echo tasks — 4 KiB, odd-sized and inline
// payloads — over the bridge channel echo.in to the device's echo module,
// and receives every reply on echo.out, in order, with its bytes; the
// halt accounts for every task: the device took, ran, acknowledged and
// answered each, nothing is queued or holds a payload block, and the
// report's identities hold (Report.Check).
func TestB3_SystemEchoOnDevice(t *testing.T) {
	r := &echoRig{}
	r.boot(t, r.config(newBackend(t, 8)))
	const n = 3000
	start := time.Now()
	r.emit(t, 0, n)
	r.wait(t, n)
	t.Logf("%d echoes in %v", n, time.Since(start))
	rep := r.halt(t)
	r.check(t, n, true)
	g := rep.GPU.Kernel
	if g.Stats.Submitted != n || g.Stats.Emitted != n || g.Stats.Errored != 0 || g.Queued != 0 || rep.GPU.LivePayloads != 0 {
		t.Fatalf("GPU kernel report %s, queued %d, live payloads %d: want %d submitted, %d emitted (the replies), none errored, queued or live",
			g.Stats, g.Queued, rep.GPU.LivePayloads, n, n)
	}
	checkGPUEnds(t, rep.GPU.Links, n)
}

// [B3] [B4] [K1] The same echo through the GPU daemon: gmk-gpud --backend
// cuda maps the host's memfd region and status page, registers them with
// the driver and boots the device kernel on them; the host's halt ends the
// daemon process. GMK_GPUD names a gmk-gpud built with -tags cuda.
func TestB3_DaemonEchoOnDevice(t *testing.T) {
	exe := os.Getenv("GMK_GPUD")
	if exe == "" {
		t.Skip("GMK_GPUD is not set: build gmk-gpud with `go build -tags cuda -o gmk-gpud ./cmd/gmk-gpud` and set GMK_GPUD to its path")
	}
	r := &echoRig{}
	cfg := r.config(nil)
	cfg.GPUModules = nil // Modules(Daemon.Modules): the catalogue's echo, the same declaration
	cfg.Daemon = &daemon.Config{Exe: exe, Backend: "cuda", Start: time.Minute,
		Sim: sim.Config{Workers: 8, BlockThreads: 256}, Modules: []daemon.ModuleRef{{Name: "echo"}}}
	r.boot(t, cfg)
	pid := r.s.GPU().(*daemon.Backend).Pid()
	const n = 3000
	r.emit(t, 0, n)
	r.wait(t, n)
	rep := r.halt(t)
	r.check(t, n, true)
	if g := rep.GPU.Kernel; g.Stats.Submitted != n || g.Queued != 0 || rep.GPU.LivePayloads != 0 {
		t.Fatalf("GPU kernel report %s, queued %d, live payloads %d: want %d submitted, none queued or live", g.Stats, g.Queued, rep.GPU.LivePayloads, n)
	}
	checkGPUEnds(t, rep.GPU.Links, n)
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("gmk-gpud %d still runs after the halt", pid)
	}
}

// dying is a CUDA backend the test declares dead (gpu.Mortal): the
// system's watchdog then resets and reboots it at once — a healthy kernel,
// which the reset stops cleanly.
type dying struct {
	*Backend
	mu   sync.Mutex
	dead chan struct{}
}

func (d *dying) Dead() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dead
}

// kill closes the current kernel's channel; the next kernel gets a new one.
func (d *dying) kill() {
	d.mu.Lock()
	defer d.mu.Unlock()
	close(d.dead)
	d.dead = make(chan struct{})
}

// [F4] [F5] [B4] Reset and reboot of the device kernel inside a running
// system: echoes flow, the watchdog resets the CUDA backend mid-stream (the
// bridge goes down, the workers stop, the region is formatted for the next
// epoch), boots it again on the renewed region, and the CPU end reconnects
// and sends again, flagged redelivered, whatever the old kernel had not
// acknowledged. Every task is echoed at least once, a second time only as
// a redelivery; the reset's report is whole (not Lost); the halt checks.
func TestF4_SystemResetRebootOnDevice(t *testing.T) {
	r := &echoRig{}
	d := &dying{Backend: newBackend(t, 8), dead: make(chan struct{})}
	r.boot(t, r.config(d))
	events := make(chan system.WatchEvent, 16)
	stop := r.s.Watch(system.WatchConfig{OnEvent: func(e system.WatchEvent) { events <- e }})
	defer stop()
	const n1, n = 500, 3000
	r.emit(t, 0, n1)
	r.wait(t, n1)
	emitted := make(chan error, 1)
	go func() { emitted <- r.emitErr(n1, n) }()
	for r.sent.Load() < n1+(n-n1)/4 {
		select {
		case err := <-emitted:
			t.Fatalf("emitter ended before the reset: %v", err)
		default:
			time.Sleep(100 * time.Microsecond)
		}
	}
	d.kill() // mid-stream: tasks in host.rx and in the CPU's window
	for _, want := range []system.WatchKind{system.WatchDied, system.WatchReset, system.WatchRebooted} {
		select {
		case e := <-events:
			if e.Kind != want {
				t.Fatalf("watchdog event %s (%v), want %s", e.Kind, e.Err, want)
			}
			if e.Kind == system.WatchReset {
				t.Logf("reset: lost %v, kernel %s, queued %d, links %v", e.Report.Lost, e.Report.Kernel.Stats, e.Report.Kernel.Queued, e.Report.Links)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no watchdog event %s within 10 s", want)
		}
	}
	if err := <-emitted; err != nil {
		t.Fatalf("emitter: %v", err)
	}
	r.wait(t, n)
	stop()
	rep := r.halt(t)
	replies := r.check(t, n, false)
	if len(rep.Resets) != 1 || rep.Resets[0].Lost {
		t.Fatalf("resets %+v: want one, not lost (the kernel stopped)", rep.Resets)
	}
	t.Logf("%d replies for %d tasks; %d tasks redelivered", replies, n, rep.Redelivered())
	if rep.Redelivered() == 0 {
		t.Log("no task was unacknowledged at the reset this time: redelivery was not exercised")
	}
	if uint64(replies-n) > rep.Redelivered() {
		t.Fatalf("%d duplicate replies, but only %d tasks redelivered", replies-n, rep.Redelivered())
	}
}
