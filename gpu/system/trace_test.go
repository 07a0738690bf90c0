package system_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/trace"
)

// [O4] GPU traces reach the CPU over the bridge: with Config.Trace the
// system wires sys.trace, GPU → CPU, lossy, and lists it with the other
// bridge channels; the GPU kernel's trace records (here every task's
// TASK_START and TASK_END, the GPU kernel tracing at level ALL, one
// TASK_END per host.rx delivery by its channel sequence) cross it
// and come out of System.DrainTrace labelled gpu.0, with their task type,
// worker and timestamps, next to the CPU kernel's own records — all
// kernels' traces together.
//
// [K2] Shipping traces does not feed itself: once the work is done the
// trace channel goes quiet, although each shipment makes the GPU kernel
// record its own drain, wake-up and park (gpu/sim holds such records), so
// the halt, which waits for a quiet bridge, comes at once. Shipped at
// once, they kept sys.trace busy every millisecond and halts took 5–60 s.
func TestO4_GPUTracesOverBridge(t *testing.T) {
	const n = 200
	st := &store{}
	gk := small
	gk.TraceLevel = trace.All
	s := boot(t, system.Config{CPUModules: []kernel.Module{ingest, st.module()}, GPUModules: []gpu.Module{gpuEcho(0)},
		SimConfig: sim.Config{Workers: 2, Kernel: gk}, Trace: &system.TraceConfig{}})
	sum := s.Summary().String()
	if !strings.Contains(sum, "bridge channels: 3 (host.rx, host.tx, sys.trace)") ||
		!strings.Contains(sum, "sys.trace  gpu.0 → cpu.0  p2p/lossy  type 1023  mem") {
		t.Fatalf("summary:\n%s", sum)
	}
	emitInline(t, s.CPU(), n)
	ends := map[uint64]bool{}
	starts := 0
	deadline := time.Now().Add(30 * time.Second)
	for len(ends) < n && time.Now().Before(deadline) {
		s.DrainTrace(func(r *system.TraceRecord) {
			if r.Kernel != "gpu.0" || r.Type != tRx {
				return
			}
			if r.Worker < 0 || r.Worker >= 2 || r.TS <= 0 {
				t.Errorf("GPU record %+v", r)
			}
			switch r.Event {
			case trace.TaskStart:
				starts++
			case trace.TaskEnd:
				ends[r.Arg1] = true // the channel sequence of the delivery
			}
		})
		time.Sleep(time.Millisecond)
	}
	if lost, _ := s.TraceLost(); len(ends) < n && lost == 0 {
		t.Fatalf("%d TASK_END records of the GPU's %d tasks reached the CPU, none lost on the CPU side", len(ends), n)
	}
	if starts == 0 {
		t.Fatal("no TASK_START record from the GPU")
	}
	shipped := func() (n uint64) {
		for _, l := range s.Links() {
			if l.Chan == gpu.TraceChan {
				n += l.Received
			}
		}
		return n
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		a := shipped()
		time.Sleep(20 * time.Millisecond) // 20 of the pump's ticks
		if b := shipped(); a == b {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("sys.trace still busy 10 s after the work: %d shipments in the last 20 ms", b-a)
		}
	}
	halt(t, s)
	t.Logf("%d GPU task ends, %d starts over sys.trace", len(ends), starts)
}
