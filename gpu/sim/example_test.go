package sim_test

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/kernel"
)

// The simulated GPU kernel runs a WARP handler as 32 lanes per task and a
// BLOCK handler as a block of 128; each task here is submitted straight to
// the kernel (a host reaches it through the bridge: see gpu/system).
func ExampleNew() {
	var warpLanes, blockLanes atomic.Int64
	count := func(n *atomic.Int64) gpu.LaneFunc {
		return func(_ *kernel.Ctx, _ gpu.Lane) kernel.Status { n.Add(1); return kernel.OK }
	}
	m := gpu.Module{Name: "lanes", Handlers: []gpu.Handler{
		{Type: 1, Name: "warp", Flags: kernel.Warp, Fn: count(&warpLanes)},
		{Type: 2, Name: "block", Flags: kernel.Block, Fn: count(&blockLanes)},
	}}
	s, err := sim.New(sim.Config{Workers: 2, Kernel: kernel.BootConfig{ArenaSize: 4 << 20, QueueCap: 1024, EVQCap: 1024}})
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Info())
	if err := s.Boot(gpu.BootSpec{Modules: []gpu.Module{m}}); err != nil {
		panic(err)
	}
	_ = s.Kernel().Submit(kernel.Task{Type: 1})
	_ = s.Kernel().Submit(kernel.Task{Type: 2})
	r, err := s.Halt(context.Background()) // drains the two tasks first
	fmt.Println("lanes:", warpLanes.Load(), blockLanes.Load(), "completed:", r.Kernel.Stats.Completed, err)
	// Output:
	// gpu.0 (sim: simulated GPU (Go worker blocks)) | 2 workers × 128 threads | batch 32 | 4 MiB
	// lanes: 32 128 completed: 2 <nil>
}
