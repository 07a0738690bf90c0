package system_test

import (
	"sync"
	"testing"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/gpumod"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/kernel"
)

// llSim is the simulated GPU kernel making its own in-memory transports
// (gpu.Bridger), so a test sees the ring configuration each one got.
type llSim struct {
	*sim.Sim
	mu   sync.Mutex
	cfgs []bridge.Config
}

func (b *llSim) NewBridge(c bridge.Config) (gpu.Bridge, error) {
	b.mu.Lock()
	b.cfgs = append(b.cfgs, c)
	b.mu.Unlock()
	return gpu.MemBridge(c)
}

func (b *llSim) RenewBridge(old gpu.Bridge, c bridge.Config) (gpu.Bridge, error) {
	return gpu.RenewMemBridge(old, c)
}

// bootLL boots cfg with the simulated GPU kernel over LL rings
// (bridge.Config.LL) and checks that every transport was made with them.
func bootLL(t *testing.T, cfg system.Config) *system.System {
	t.Helper()
	g, err := sim.New(sim.Config{Workers: 2, Kernel: small})
	if err != nil {
		t.Fatal(err)
	}
	b := &llSim{Sim: g}
	cfg.GPU, cfg.Bridge.LL = b, true
	s := boot(t, cfg)
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.cfgs) == 0 {
		t.Fatal("no transport made by the backend")
	}
	for _, c := range b.cfgs {
		if !c.LL {
			t.Fatalf("transport made with %+v: not LL", c)
		}
	}
	return s
}

// [B4] The round trip of TestB4_RoundTripInOrder over LL rings
// (gmk_bridge.h LL RINGS): inline tasks through the simulated GPU kernel's
// echo come back in order, with small rings and pause marks keeping the
// backpressure path busy both ways (slots reused for many laps, so a stale
// or misread tag would show as a lost, repeated or reordered task); the
// halt is quiescent and its identities hold.
func TestB4_RoundTripInOrderLL(t *testing.T) {
	const n = 20_000
	st := &store{}
	s := bootLL(t, system.Config{CPUModules: []kernel.Module{ingest, st.module()}, GPUModules: []gpu.Module{gpuEcho(256)},
		Bridge: bridge.Config{Capacity: 64}, Link: link.Config{PauseAt: 64}})
	emitInline(t, s.CPU(), n)
	waitFor(t, "the round trips", func() bool { return st.n.Load() == n })
	if r := halt(t, s); !r.Quiescent {
		t.Fatal("halt was not quiescent")
	}
	if len(st.meta) != n {
		t.Fatalf("%d tasks came back, want %d", len(st.meta), n)
	}
	for i, v := range st.meta {
		if v != uint64(i) {
			t.Fatalf("task %d came back as %d", i, v)
		}
	}
}

// [B3] [B4] 4 KiB payloads over LL rings: each crosses to the simulated GPU
// kernel in staging (an LL slot's extension line names it), is transformed
// there and comes back intact, in order; no payload is live after halt.
func TestB3_PayloadsThroughGPULL(t *testing.T) {
	const n, size = 300, 4096
	st := &store{}
	s := bootLL(t, system.Config{CPUModules: []kernel.Module{ingest, st.module()},
		GPUModules: []gpu.Module{gpumod.Xform(gpumod.XformConfig{Slots: 64})},
		Bridge:     bridge.Config{Capacity: 64, Staging: 128 << 10}})
	payloadsRoundTrip(t, s, st, n, size, 64)
}
