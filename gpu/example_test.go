package gpu_test

import (
	"fmt"
	"time"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/kernel"
)

// A watchdog compares two heartbeat samples: worker 1 did not advance.
func ExampleHeartbeat_Stalled() {
	t0 := time.Unix(0, 0)
	prev := gpu.Heartbeat{At: t0, Beats: []uint64{10, 7, 3}}
	now := gpu.Heartbeat{At: t0.Add(100 * time.Millisecond), Beats: []uint64{14, 7, 4}}
	fmt.Println("stalled:", now.Stalled(prev))
	// Output: stalled: [1]
}

// The lanes a handler runs as, per task, in a block of 128 threads ([G3]).
func ExampleHandler_Granularity() {
	noop := func(*kernel.Ctx, gpu.Lane) kernel.Status { return kernel.OK }
	for _, h := range []gpu.Handler{
		{Name: "scalar", Fn: noop},
		{Name: "warp", Flags: kernel.Warp, Fn: noop},
		{Name: "block", Flags: kernel.Block, Fn: noop},
	} {
		fmt.Printf("%s: %d\n", h.Name, h.Granularity(128))
	}
	fmt.Println(gpu.Lane{ID: 70, Width: 128}.Warp())
	// Output:
	// scalar: 1
	// warp: 32
	// block: 128
	// 2 6
}
