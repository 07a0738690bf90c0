package gpumod_test

import (
	"context"
	"fmt"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/gpumod"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/kernel"
)

// Xform on the simulated GPU kernel: a record in, the same record upper-cased
// out, meta1 = meta0 × Scale.
func ExampleXform() {
	printer := gpu.FromKernel(kernel.Module{Name: "print",
		Channels: []kernel.ChanDecl{{Name: "x.out", Dir: kernel.Consume, Type: gpumod.XformOutType, Guarantee: kernel.Lossless}},
		Handlers: []kernel.Handler{{Type: gpumod.XformOutType, Fn: func(c *kernel.Ctx) kernel.Status {
			fmt.Printf("%s meta1=%d\n", c.Payload(), c.Task().Meta1)
			return kernel.OK
		}}}})
	s, _ := sim.New(sim.Config{Workers: 1, Kernel: kernel.BootConfig{ArenaSize: 4 << 20, QueueCap: 1024, EVQCap: 1024}})
	_ = s.Boot(gpu.BootSpec{Modules: []gpu.Module{gpumod.Xform(gpumod.XformConfig{In: "x.in", Out: "x.out", Scale: 10}), printer}})
	k := s.Kernel()
	id, _ := k.Chan("x.in")
	h, b, _ := k.Alloc(0, 14)
	copy(b, "hello, warp 32")
	_ = k.ChanEmitWait(context.Background(), id, kernel.Task{Type: gpumod.XformInType, Meta0: 7, Payload: h, PayloadLen: 14})
	_, _ = s.Halt(context.Background())
	// Output: HELLO, WARP 32 meta1=70
}
