package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"time"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/kernel"
)

// goChan carries the start from the CPU kernel to the GPU kernel's stripes.
const goChan = "sim.go"

// runFenced runs the last c.gpu stripes on the simulated GPU kernel and the
// others on the CPU kernel, the two lanes tied by tick fences. The seed
// runs on the CPU at tick 1 and starts both kernels' stripes at tick 2 —
// the CPU's by a direct emit, the GPU's over the bridge — so every stripe
// sends its first edges at the same tick, as on one kernel.
func runFenced(out io.Writer, c config, stripes []*stripe) error {
	split := len(stripes) - c.gpu
	cpuMods := []kernel.Module{starter(stripes[:split])}
	gpuMods := []gpu.Module{gpu.FromKernel(follower(stripes[split:]))}
	for _, s := range stripes[:split] {
		cpuMods = append(cpuMods, s.module())
	}
	for _, s := range stripes[split:] {
		gpuMods = append(gpuMods, gpu.FromKernel(s.module()))
	}
	kc := kernelConfig(c)
	g, err := sim.New(sim.Config{Workers: c.workers, Kernel: kc})
	if err != nil {
		return err
	}
	sys, err := system.Boot(system.Config{CPU: kc, CPUModules: cpuMods, GPU: g, GPUModules: gpuMods, Fence: true})
	if err != nil {
		return err
	}
	gk, start := g.Kernel(), time.Now() // gk: read after the halt (its counters stay)
	if err := sys.CPU().Submit(kernel.Task{Type: tSeed}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := sys.Halt(ctx); err != nil { // waits until both kernels are idle: the last generation
		return err
	}
	pop, sum, err := state(stripes)
	if err != nil {
		return err
	}
	cs, gs := sys.CPU().DetStats(), gk.DetStats()
	fmt.Fprintf(out, "life %dx%d, %d stripes (%d on %s, simulated, fenced), %d workers each: %d generations in %d ticks, %v\n",
		c.size, c.size, c.stripes, c.gpu, gk.ID(), c.workers, stripes[0].gen, cs.Tick, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(out, "population %d, grid crc32 %08x, %d + %d deterministic tasks, lanes waited %v (cpu) %v (gpu) for the fence\n",
		pop, sum, cs.Ran, gs.Ran, time.Duration(cs.FenceWaitNS).Round(time.Microsecond), time.Duration(gs.FenceWaitNS).Round(time.Microsecond))
	fmt.Fprintf(out, "trace hash %016x (%s %016x, %s %016x)\n", bothHash(cs.Hash, gs.Hash), sys.CPU().ID(), cs.Hash, gk.ID(), gs.Hash)
	return nil
}

// bothHash folds the two kernels' trace hashes into one number.
func bothHash(a, b uint64) uint64 {
	h := fnv.New64a()
	_ = binary.Write(h, binary.LittleEndian, [2]uint64{a, b})
	return h.Sum64()
}

// starter is the CPU kernel's seeder: the seed starts the GPU's stripes over
// the bridge and the CPU's by a direct emit, both for the next tick.
func starter(stripes []*stripe) kernel.Module {
	var goID kernel.ChanID
	return kernel.Module{Name: "starter",
		Channels: []kernel.ChanDecl{{Name: goChan, Dir: kernel.Produce, Type: tGo, Mode: kernel.P2P, Guarantee: kernel.Lossless}},
		Handlers: []kernel.Handler{
			{Type: tSeed, Name: "seed", Flags: kernel.DetHandler, Fn: func(c *kernel.Ctx) kernel.Status {
				if c.ChanEmit(goID, kernel.Task{Type: tGo}) != nil || c.Emit(kernel.Task{Type: tGo}) != nil {
					return kernel.Fail
				}
				return kernel.OK
			}},
			{Type: tGo, Name: "go", Flags: kernel.DetHandler, Fn: sendAll(stripes)}},
		Init: func(c *kernel.Ctx) (err error) { goID, err = c.Kernel().Chan(goChan); return err }}
}

// follower starts the GPU kernel's stripes when the start arrives.
func follower(stripes []*stripe) kernel.Module {
	return kernel.Module{Name: "follower",
		Channels: []kernel.ChanDecl{{Name: goChan, Dir: kernel.Consume, Type: tGo, Mode: kernel.P2P, Guarantee: kernel.Lossless}},
		Handlers: []kernel.Handler{{Type: tGo, Name: "go", Flags: kernel.DetHandler, Fn: sendAll(stripes)}}}
}

// sendAll makes every stripe of stripes send its first edges.
func sendAll(stripes []*stripe) kernel.HandlerFunc {
	return func(c *kernel.Ctx) kernel.Status {
		for _, s := range stripes {
			if st := s.sendEdges(c); st != kernel.OK {
				return st
			}
		}
		return kernel.OK
	}
}
