package system_test

import (
	"context"
	"fmt"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/gpumod"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/kernel"
)

// A CPU kernel and the simulated GPU kernel: the CPU side produces host.rx
// and consumes host.tx, the GPU side runs the Xform module between them.
// The modules only declare channels; Boot wires the two that cross.
func ExampleBoot() {
	got := make(chan string, 1)
	store := kernel.Module{Name: "store",
		Channels: []kernel.ChanDecl{{Name: "host.tx", Dir: kernel.Consume, Type: gpumod.XformOutType, Guarantee: kernel.Lossless}},
		Handlers: []kernel.Handler{{Type: gpumod.XformOutType, Fn: func(c *kernel.Ctx) kernel.Status {
			got <- fmt.Sprintf("%s (meta1 %d) on %s", c.Payload(), c.Task().Meta1, c.Kernel().ID())
			return kernel.OK
		}}}}
	ingest := kernel.Module{Name: "ingest",
		Channels: []kernel.ChanDecl{{Name: "host.rx", Dir: kernel.Produce, Type: gpumod.XformInType, Guarantee: kernel.Lossless}}}
	small := kernel.BootConfig{Workers: 2, ArenaSize: 4 << 20, QueueCap: 1024, EVQCap: 1024}

	s, err := system.Boot(system.Config{CPU: small, SimConfig: sim.Config{Workers: 2, Kernel: small},
		CPUModules: []kernel.Module{ingest, store}, GPUModules: []gpu.Module{gpumod.Xform(gpumod.XformConfig{})}})
	if err != nil {
		panic(err)
	}
	fmt.Print(s.Summary())

	k := s.CPU()
	id, _ := k.Chan("host.rx")
	h, b, _ := k.Alloc(0, 9)
	copy(b, "hello gpu")
	_ = k.ChanEmitWait(context.Background(), id, kernel.Task{Type: gpumod.XformInType, Meta0: 21, Payload: h, PayloadLen: 9})
	fmt.Println(<-got)

	r, err := s.Halt(context.Background()) // waits until both kernels and the bridge are idle
	fmt.Println("halt:", err, "check:", r.Check())
	// Output:
	// GMK/cpu.0 booted | peripheral | 2 workers | 2 modules | rq, batch 32
	// GMK/gpu.0 booted (sim) | compute | 2 workers × 128 threads | 1 module | grq, batches of 32 sorted by type
	// bridge channels: 2 (host.rx, host.tx)
	//   host.rx    cpu.0 → gpu.0  p2p/lossless  type 990  mem
	//   host.tx    gpu.0 → cpu.0  p2p/lossless  type 991  mem
	// HELLO GPU (meta1 42) on cpu.0
	// halt: <nil> check: <nil>
}
