package system_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/gpumod"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/modules/echo"
)

const (
	tRx = gpumod.XformInType  // host.rx
	tTx = gpumod.XformOutType // host.tx
)

var small = kernel.BootConfig{Workers: 2, ArenaSize: 16 << 20, QueueCap: 4096, EVQCap: 1024, MaxChannels: 32}

// ingest declares host.rx as produced on the CPU (the test emits on it).
var ingest = kernel.Module{Name: "ingest", Channels: []kernel.ChanDecl{
	{Name: "host.rx", Dir: kernel.Produce, Type: tRx, Guarantee: kernel.Lossless}}}

// store consumes host.tx on the CPU and records it in order.
type store struct {
	mu   sync.Mutex
	meta []uint64
	data []string
	n    atomic.Int64
	slow int
}

func (s *store) module() kernel.Module {
	return kernel.Module{Name: "store", Channels: []kernel.ChanDecl{
		{Name: "host.tx", Dir: kernel.Consume, Type: tTx, Guarantee: kernel.Lossless}},
		Handlers: []kernel.Handler{{Type: tTx, Fn: func(c *kernel.Ctx) kernel.Status {
			for range s.slow {
				runtime.Gosched()
			}
			s.mu.Lock()
			s.meta = append(s.meta, c.Task().Meta0)
			if p := c.Payload(); p != nil {
				s.data = append(s.data, string(p))
			}
			s.mu.Unlock()
			s.n.Add(1)
			return kernel.OK
		}}}}
}

// gpuEcho is the standard echo module on the GPU kernel (modules/echo,
// run as SCALAR through gpu.FromKernel): host.rx back out on host.tx.
func gpuEcho(slots int) gpu.Module {
	return gpu.FromKernel(echo.Module(echo.Config{In: "host.rx", Out: "host.tx", InType: tRx, OutType: tTx, Slots: slots}))
}

func boot(t testing.TB, cfg system.Config) *system.System {
	t.Helper()
	if cfg.CPU.Workers == 0 {
		cfg.CPU = small
	}
	if cfg.SimConfig.Workers == 0 {
		cfg.SimConfig = sim.Config{Workers: 2, Kernel: small}
	}
	s, err := system.Boot(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func halt(t testing.TB, s *system.System) system.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := s.Halt(ctx)
	if err != nil {
		t.Fatalf("halt: %v", err)
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	return r
}

func emitInline(t testing.TB, k *kernel.Kernel, n int) {
	t.Helper()
	id, err := k.Chan("host.rx")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]kernel.Task, 128)
	for i := 0; i < n; i += len(buf) {
		m := min(len(buf), n-i)
		for j := range buf[:m] {
			buf[j] = kernel.Task{Type: tRx, Meta0: uint64(i + j)}
		}
		if err := k.ChanEmitAll(context.Background(), id, buf[:m]); err != nil {
			t.Fatal(err)
		}
	}
}

// [K1] Boot brings up both kernels and wires the declared channels across
// them by locality; the summary names the kernels, their roles and workers,
// and each bridge channel with its direction, guarantee and transport.
func TestK1_BootSummary(t *testing.T) {
	st := &store{}
	s := boot(t, system.Config{CPUModules: []kernel.Module{ingest, st.module()}, GPUModules: []gpu.Module{gpumod.Xform(gpumod.XformConfig{})}})
	sum := s.Summary().String()
	halt(t, s)
	for _, want := range []string{
		"GMK/cpu.0 booted | peripheral | 2 workers | 2 modules | rq, batch 32\n",
		"GMK/gpu.0 booted (sim) | compute | 2 workers × 128 threads | 1 module | grq, batches of 32 sorted by type\n",
		"bridge channels: 2 (host.rx, host.tx)\n",
		"host.rx    cpu.0 → gpu.0  p2p/lossless  type 990  mem\n",
		"host.tx    gpu.0 → cpu.0  p2p/lossless  type 991  mem\n",
	} {
		if !strings.Contains(sum, want) {
			t.Fatalf("summary lacks %q:\n%s", want, sum)
		}
	}
	t.Log("\n" + sum)
}

// [K1] Acceptance 16: a cross-kernel mismatch fails boot with a message
// naming both sides, and leaves nothing running (goleak checks).
func TestK1_MismatchFailsBoot(t *testing.T) {
	xf := gpumod.Xform(gpumod.XformConfig{InType: 999}) // the CPU side produces type 990
	_, err := system.Boot(system.Config{CPU: small, SimConfig: sim.Config{Workers: 2, Kernel: small},
		CPUModules: []kernel.Module{ingest}, GPUModules: []gpu.Module{xf}})
	if err == nil || !errors.Is(err, kernel.ErrDecl) {
		t.Fatalf("boot: %v, want a declaration error", err)
	}
	for _, want := range []string{"host.rx", "cpu.0 module ingest declares type 990", "gpu.0 module xform declares type 999", "CHAN_TYPE_MISMATCH"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("%q does not name %q", err, want)
		}
	}
}

// [B4] Acceptance 15: CPU → GPU → CPU, 100k inline tasks through the
// simulated GPU kernel's echo arrive in order and complete; small rings and
// pause marks keep the backpressure path busy in both bridge directions
// (the slow-consumer case is bridge/link's TestB4_LosslessInOrderUnderBackpressure);
// the halt is quiescent and every identity holds.
func TestB4_RoundTripInOrder(t *testing.T) {
	const n = 100_000
	st := &store{}
	s := boot(t, system.Config{CPUModules: []kernel.Module{ingest, st.module()}, GPUModules: []gpu.Module{gpuEcho(256)},
		Bridge: bridge.Config{Capacity: 256}, Link: link.Config{PauseAt: 256}})
	start := time.Now()
	emitInline(t, s.CPU(), n)
	for st.n.Load() < n {
		time.Sleep(time.Millisecond)
	}
	el := time.Since(start)
	r := halt(t, s)
	if !r.Quiescent {
		t.Fatal("halt was not quiescent")
	}
	for i, v := range st.meta {
		if v != uint64(i) {
			t.Fatalf("task %d came back as %d", i, v)
		}
	}
	var transfers, moved uint64
	for _, l := range r.Links {
		if l.Dir == link.Out {
			transfers += l.Transfers
			moved += l.Sent
		}
		t.Log(l)
	}
	t.Logf("%d round trips in %v (%.0f/s), %.4f transfers per task", n, el, float64(n)/el.Seconds(), float64(transfers)/float64(moved))
}

// [B3] Acceptance 18: 4 KiB payloads cross to the GPU kernel, are
// transformed there by a WARP handler and come back intact; no payload is
// live on either kernel after halt (Report.Check).
func TestB3_PayloadsThroughGPU(t *testing.T) {
	const n, size = 500, 4096
	st := &store{}
	s := boot(t, system.Config{CPUModules: []kernel.Module{ingest, st.module()}, GPUModules: []gpu.Module{gpumod.Xform(gpumod.XformConfig{Slots: 64})},
		Bridge: bridge.Config{Capacity: 256, Staging: 256 << 10}})
	payloadsRoundTrip(t, s, st, n, size, 256)
}

// payloadsRoundTrip sends n payloads of size bytes through the system's
// host.rx, at most window in flight, and checks that each came back from
// the GPU module transformed (upper case), in order, after a clean halt.
func payloadsRoundTrip(t *testing.T, s *system.System, st *store, n, size, window int) {
	t.Helper()
	k := s.CPU()
	id, err := k.Chan("host.rx")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("the quick brown fox jumps over the lazy dog. ", size/45+1)[:size]
	for i := range n {
		for int64(i)-st.n.Load() >= int64(window) { // a window of round trips, like any client
			time.Sleep(50 * time.Microsecond)
		}
		h, b, err := k.Alloc(0, size)
		if err != nil {
			t.Fatal(err)
		}
		copy(b, text)
		if err := k.ChanEmitWait(context.Background(), id, kernel.Task{Type: tRx, Meta0: uint64(i), Payload: h, PayloadLen: uint32(size)}); err != nil {
			t.Fatal(err)
		}
	}
	for st.n.Load() < int64(n) {
		time.Sleep(time.Millisecond)
	}
	halt(t, s)
	want := strings.ToUpper(text)
	if len(st.data) != n {
		t.Fatalf("%d payloads came back, want %d", len(st.data), n)
	}
	for i, d := range st.data {
		if d != want || st.meta[i] != uint64(i) {
			t.Fatalf("record %d (meta %d) came back changed", i, st.meta[i])
		}
	}
}

// [B4] Disconnecting the bridge (a GPU reset's first step) shows
// CHAN_CLOSED on both kernels; the halt still accounts for everything.
func TestB4_SystemDisconnect(t *testing.T) {
	st := &store{}
	s := boot(t, system.Config{CPUModules: []kernel.Module{ingest, st.module()}, GPUModules: []gpu.Module{gpuEcho(0)}})
	emitInline(t, s.CPU(), 1000)
	for st.n.Load() < 1000 {
		time.Sleep(time.Millisecond)
	}
	s.Disconnect()
	gk := s.GPU().(*sim.Sim).Kernel()
	for _, c := range []struct {
		k    *kernel.Kernel
		name string
	}{{s.CPU(), "host.rx"}, {s.CPU(), "host.tx"}, {gk, "host.rx"}, {gk, "host.tx"}} {
		id, _ := c.k.Chan(c.name)
		deadline := time.Now().Add(30 * time.Second)
		for !c.k.ChanSuspended(id) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Microsecond)
		}
		if !c.k.ChanSuspended(id) {
			t.Fatalf("%s %s: not CHAN_CLOSED after the disconnect", c.k.ID(), c.name)
		}
	}
	id, _ := s.CPU().Chan("host.rx")
	if err := s.CPU().ChanEmit(id, kernel.Task{Type: tRx}); !errors.Is(err, kernel.ErrChanClosed) {
		t.Fatalf("emit after disconnect: %v, want CHAN_CLOSED", err)
	}
	halt(t, s)
}

// [K2] A halt whose context ends while tasks are in flight cuts the rest
// short — ErrBusy — and still counts every task: on a kernel (queued,
// dropped), or on the bridge (abandoned, in a ring).
func TestK2_HaltCutShortCountsEverything(t *testing.T) {
	st := &store{slow: 50}
	s := boot(t, system.Config{CPUModules: []kernel.Module{ingest, st.module()}, GPUModules: []gpu.Module{gpuEcho(0)}})
	emitInline(t, s.CPU(), 5000) // the channels, outboxes and rings buffer them: most are in flight
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	r, err := s.Halt(ctx)
	if !errors.Is(err, system.ErrBusy) {
		t.Skipf("the system drained within the deadline (%v): nothing was cut short", err)
	}
	if err := r.Check(); err != nil {
		for _, l := range r.Links { // what the failure's numbers come from
			t.Log(l)
		}
		t.Fatal(err)
	}
	t.Logf("cut short: cpu queued %d, gpu queued %d, stored %d", r.CPU.Queued, r.GPU.Kernel.Queued, st.n.Load())
}

// [K1] Boot discovers GPUs through NVML when it picks the simulated GPU
// kernel itself, and says why: no GPU (with NVML's reason) or one found whose
// CUDA backend lives in the daemon. A backend given by the caller needs no
// reason.
func TestK1_BootSaysWhySimulated(t *testing.T) {
	s, err := system.Boot(system.Config{})
	if err != nil {
		t.Fatal(err)
	}
	why := s.Summary().Kernels[1].Why
	if !strings.HasPrefix(why, "no GPU: ") && !strings.Contains(why, " found; ") {
		t.Fatalf("why the simulated kernel: %q", why)
	}
	if _, err := s.Halt(context.Background()); err != nil {
		t.Fatal(err)
	}
	g, err := sim.New(sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err = system.Boot(system.Config{GPU: g})
	if err != nil {
		t.Fatal(err)
	}
	if why := s.Summary().Kernels[1].Why; why != "" {
		t.Fatalf("a caller's backend got a reason: %q", why)
	}
	if _, err := s.Halt(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Log(why)
}
