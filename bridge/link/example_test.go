package link_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/kernel"
)

// Two kernels joined by one bridge channel: "cpu.0" declares that it
// produces host.rx, "gpu.0" that it consumes it. Route finds the bridge
// channel; each kernel boots with its endpoint's relay module; the payload
// crosses by copy into gpu.0's arena.
func ExampleRoute() {
	decl := kernel.ChanDecl{Name: "host.rx", Type: 5, Guarantee: kernel.Lossless}
	prod, cons := decl, decl
	prod.Dir, cons.Dir = kernel.Produce, kernel.Consume
	var seen atomic.Int64
	ingest := kernel.Module{Name: "ingest", Channels: []kernel.ChanDecl{prod}}
	xform := kernel.Module{Name: "xform", Channels: []kernel.ChanDecl{cons},
		Handlers: []kernel.Handler{{Type: 5, Fn: func(c *kernel.Ctx) kernel.Status {
			fmt.Printf("%s got %q\n", c.Kernel().ID(), c.Payload())
			seen.Add(1)
			return kernel.OK
		}}}}

	chans, _ := link.Route(
		link.Side{Kernel: "cpu.0", Modules: []link.Decls{{Module: "ingest", Channels: ingest.Channels}}},
		link.Side{Kernel: "gpu.0", Modules: []link.Decls{{Module: "xform", Channels: xform.Channels}}})
	fmt.Println("bridge:", chans[0])

	ta, tb, _ := bridge.NewMemPair(bridge.Config{Capacity: 64, Staging: 4096})
	cpuEnd, _ := link.New("cpu.0", []link.Wire{{Chan: chans[0], T: ta}}, link.Config{})
	gpuEnd, _ := link.New("gpu.0", []link.Wire{{Chan: chans[0], T: tb}}, link.Config{})
	small := kernel.BootConfig{Workers: 1, ArenaSize: 1 << 20, QueueCap: 1024, EVQCap: 1024, MaxTypes: 16, MaxChannels: 8}
	cpuCfg, gpuCfg := small, small
	cpuCfg.ID, gpuCfg.ID, gpuCfg.Role = "cpu.0", "gpu.0", kernel.RoleCompute
	cpu, _ := kernel.Boot(cpuCfg, ingest, cpuEnd.Module())
	gpu, _ := kernel.Boot(gpuCfg, xform, gpuEnd.Module())
	_ = cpuEnd.Start(cpu)
	_ = gpuEnd.Start(gpu)

	id, _ := cpu.Chan("host.rx")
	for _, s := range []string{"hello", "gpu"} {
		h, b, _ := cpu.Alloc(0, len(s))
		copy(b, s)
		_ = cpu.ChanEmitWait(context.Background(), id, kernel.Task{Type: 5, Payload: h, PayloadLen: uint32(len(s))})
	}
	for seen.Load() < 2 || !cpu.Quiescent() { // both delivered, the cpu side idle
		runtime.Gosched()
	}
	cpuEnd.Stop()
	gpuEnd.Stop()
	_ = gpu.Halt(context.Background())
	_ = cpu.Halt(context.Background())
	cpuEnd.Close()
	gpuEnd.Close()
	out := cpuEnd.Stats()[0]
	fmt.Printf("sent %d, live payloads cpu %d gpu %d\n", out.Sent, cpu.LivePayloads(), gpu.LivePayloads())
	// Output:
	// bridge: host.rx cpu.0→gpu.0 p2p/lossless
	// gpu.0 got "hello"
	// gpu.0 got "gpu"
	// sent 2, live payloads cpu 0 gpu 0
}
