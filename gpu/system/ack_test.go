package system_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// gpuSink consumes host.rx on the GPU kernel with fn and sends nothing back.
func gpuSink(fn kernel.HandlerFunc) gpu.Module {
	return gpu.FromKernel(kernel.Module{Name: "sink", Channels: []kernel.ChanDecl{
		{Name: "host.rx", Dir: kernel.Consume, Type: tRx, Guarantee: kernel.Lossless}},
		Handlers: []kernel.Handler{{Type: tRx, Fn: fn}}})
}

// haltWithin halts s, giving the halt d to find the system quiescent: a
// deadline that only detects a hang. It returns the report and the
// host.rx end of the CPU kernel.
func haltWithin(t *testing.T, s *system.System, d time.Duration) (system.Report, link.Stats) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	r, err := s.Halt(ctx)
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	for _, l := range r.Links {
		t.Log(l)
	}
	if err != nil || !r.Quiescent {
		t.Fatalf("halt: %v, quiescent %v: the bridge never settled", err, r.Quiescent)
	}
	for _, l := range r.Links {
		if l.Chan == "host.rx" && l.Dir == link.Out {
			return r, l
		}
	}
	t.Fatal("no host.rx end on the CPU kernel")
	return r, link.Stats{}
}

// [B4] [F5] [F1] [F3] [Y3] [C9] Every host.rx delivery the GPU kernel
// ends is acknowledged once, whether or not its handler ran to the end:
//   - a handler failure sends it to sys.error, and once the type is
//     poisoned (32 failures) the kernel sends the rest there without
//     calling the handler;
//   - a handler that always yields reaches the yield limit: the kernel
//     ends the delivery (sys.error), and acknowledges it then, not at any
//     of the yields before.
//
// The CPU end then holds nothing unacknowledged and the halt is quiescent.
func TestB4_AckDeliveriesEndedByTheKernel(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    uint64
		fn   kernel.HandlerFunc
	}{
		{"failed and poisoned", 100, func(*kernel.Ctx) kernel.Status { return kernel.FailCode(-3) }},
		{"yield limit", 3, func(c *kernel.Ctx) kernel.Status { c.Yield(); return kernel.OK }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := boot(t, system.Config{CPUModules: []kernel.Module{ingest}, GPUModules: []gpu.Module{gpuSink(tc.fn)}})
			emitInline(t, s.CPU(), int(tc.n))
			r, rx := haltWithin(t, s, 20*time.Second)
			if rx.Acked != tc.n || rx.Unacked != 0 {
				t.Fatalf("host.rx acked %d unacked %d, want %d and 0", rx.Acked, rx.Unacked, tc.n)
			}
			if st := r.GPU.Kernel.Stats; st.Errored != tc.n {
				t.Fatalf("gpu kernel errored %d, want %d", st.Errored, tc.n)
			}
		})
	}
}

// [B4] Backpressure never turns into a stall: deliveries the GPU kernel
// ends without their handler are acknowledged, so its pump never holds the
// most unacknowledged tasks it may (16384) and keeps taking from the ring.
// Far more tasks than that all cross.
func TestB4_FailedDeliveriesDoNotStallTheBridge(t *testing.T) {
	const n = 40_000
	s := boot(t, system.Config{CPUModules: []kernel.Module{ingest},
		GPUModules: []gpu.Module{gpuSink(func(*kernel.Ctx) kernel.Status { return kernel.FailCode(-3) })}})
	id, err := s.CPU().Chan("host.rx")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // detects the stall only
	defer cancel()
	buf := make([]kernel.Task, 128)
	for i := 0; i < n; i += len(buf) {
		m := min(len(buf), n-i)
		for j := range buf[:m] {
			buf[j] = kernel.Task{Type: tRx, Meta0: uint64(i + j)}
		}
		if err := s.CPU().ChanEmitAll(ctx, id, buf[:m]); err != nil {
			t.Fatalf("emitted %d of %d: %v", i, n, err)
		}
	}
	_, rx := haltWithin(t, s, 20*time.Second)
	if rx.Acked != n {
		t.Fatalf("host.rx acked %d, want %d", rx.Acked, n)
	}
}

// replier answers every host.rx task on host.tx; the answer to record big
// carries a payload of size bytes.
func replier(big uint64, size int) gpu.Module {
	var out sdk.Port
	return gpu.FromKernel(kernel.Module{Name: "replier", Channels: []kernel.ChanDecl{
		{Name: "host.rx", Dir: kernel.Consume, Type: tRx, Guarantee: kernel.Lossless},
		{Name: "host.tx", Dir: kernel.Produce, Type: tTx, Guarantee: kernel.Lossless}},
		Handlers: []kernel.Handler{{Type: tRx, Fn: func(c *kernel.Ctx) kernel.Status {
			m := c.Task().Meta0
			if m == big {
				return sdk.SendBytes(c, out, m, 0, []byte(strings.Repeat("x", size)))
			}
			return sdk.SendInline(c, out, m, 0)
		}}},
		Init: func(c *kernel.Ctx) (err error) {
			out, err = sdk.Dial(c.Kernel(), "host.tx")
			return err
		}})
}

// [B4] [C9] A reply the GPU kernel's relay cannot carry (a payload larger
// than the staging area takes: ALLOC_FAIL to sys.error) is counted by the
// relay's end (Failed), so the host.rx acknowledgements, which wait until
// the GPU kernel's out-lanes have accounted for every reply emitted before
// them, go on: every host.rx task is acknowledged, the other replies
// arrive, and the halt is quiescent.
func TestB4_RelayFailureDoesNotFreezeAcks(t *testing.T) {
	const n, big = 100, 5
	st := &store{}
	s := boot(t, system.Config{CPUModules: []kernel.Module{ingest, st.module()},
		GPUModules: []gpu.Module{replier(big, 3000)}, Bridge: bridge.Config{Staging: 4096}})
	emitInline(t, s.CPU(), n)
	r, rx := haltWithin(t, s, 20*time.Second)
	if rx.Acked != n || rx.Unacked != 0 {
		t.Fatalf("host.rx acked %d unacked %d, want %d and 0", rx.Acked, rx.Unacked, n)
	}
	if st.n.Load() != n-1 {
		t.Fatalf("the CPU stored %d replies, want %d", st.n.Load(), n-1)
	}
	for _, m := range st.meta {
		if m == big {
			t.Fatalf("reply %d arrived, but it cannot fit the staging", big)
		}
	}
	var tx link.Stats
	for _, l := range r.Links {
		if l.Chan == "host.tx" && l.Dir == link.Out {
			tx = l
		}
	}
	if tx.Failed != 1 || tx.Sent != n-1 {
		t.Fatalf("host.tx at the GPU: failed %d sent %d, want 1 and %d", tx.Failed, tx.Sent, n-1)
	}
	if e := r.GPU.Kernel.Stats.Errored; e != 1 {
		t.Fatalf("gpu kernel errored %d, want 1 (the reply to sys.error)", e)
	}
}
