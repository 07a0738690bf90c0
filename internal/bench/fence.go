package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/kernel"
)

// The cost of a tick fence (issue 7: "the cost per tick is measured and
// reported"): fenceEntities entities on each of two kernels send a value to
// an entity on the other kernel every tick, over deterministic bridge
// channels, for FenceTicks ticks — on the CPU kernel and the simulated GPU
// kernel tied by tick fences (gpu/system Config.Fence), and, for
// comparison, the same exchange between two modules of one kernel (no
// bridge, no fence). The difference per tick is what crossing the bridge
// in lockstep costs; the fence waits are the part of it each kernel spent
// waiting for the other.

// FenceTicks is the number of ticks per measurement.
const FenceTicks = 2000

const (
	fenceA        = 1 // runs on the first kernel
	fenceB        = 2 // runs on the second
	fenceEntities = 8
)

// FenceResult is one tick-fence measurement (medians).
type FenceResult struct {
	FencedNS, LocalNS  float64 // wall ns per tick: two fenced kernels; one kernel
	CPUWaitNS, GPUWait float64 // ns per tick each kernel's lane waited for the other
}

// FenceCost measures the tick fence count times and writes the medians.
func FenceCost(w io.Writer, count int) (FenceResult, error) {
	if count < 1 {
		count = DefaultCount
	}
	var fenced, local, cw, gw []float64
	for range count {
		f, c, g, err := fenceRun(true)
		if err != nil {
			return FenceResult{}, err
		}
		l, _, _, err := fenceRun(false)
		if err != nil {
			return FenceResult{}, err
		}
		fenced, local, cw, gw = append(fenced, f), append(local, l), append(cw, c), append(gw, g)
	}
	r := FenceResult{FencedNS: medianF(fenced), LocalNS: medianF(local), CPUWaitNS: medianF(cw), GPUWait: medianF(gw)}
	_, err := fmt.Fprintf(w, "tick fence cpu.0 ⇄ gpu.0 (simulated): %.1f µs/tick fenced, %.1f µs/tick on one kernel (%d entities each way); lanes waited %.1f µs/tick (cpu), %.1f µs/tick (gpu)\n",
		r.FencedNS/1e3, r.LocalNS/1e3, fenceEntities, r.CPUWaitNS/1e3, r.GPUWait/1e3)
	return r, err
}

// fenceSide is one side's deterministic module: each task adds to its
// entity's value and sends it on, until the last tick.
func fenceSide(name string, in, out uint32, inCh, outCh string, done chan<- struct{}) kernel.Module {
	var id kernel.ChanID
	vals := make([]uint64, fenceEntities)
	return kernel.Module{Name: name,
		Channels: []kernel.ChanDecl{{Name: inCh, Dir: kernel.Consume, Type: in, Guarantee: kernel.Lossless, Slots: 256},
			{Name: outCh, Dir: kernel.Produce, Type: out, Guarantee: kernel.Lossless, Slots: 256}},
		Handlers: []kernel.Handler{{Type: in, Flags: kernel.DetHandler, Fn: func(c *kernel.Ctx) kernel.Status {
			x := c.Task()
			i := x.Meta1 % fenceEntities
			vals[i] = vals[i]*31 + x.Meta0
			if c.Tick() >= FenceTicks {
				if i == 0 {
					done <- struct{}{}
				}
				return kernel.OK
			}
			if c.ChanEmit(id, kernel.Task{Type: out, Meta0: vals[i], Meta1: i}) != nil {
				return kernel.Fail
			}
			return kernel.OK
		}}},
		Init: func(c *kernel.Ctx) (err error) { id, err = c.Kernel().Chan(outCh); return err }}
}

// fenceRun runs the exchange for FenceTicks ticks and returns the wall ns
// per tick and, fenced, each lane's fence wait per tick.
func fenceRun(fenced bool) (nsPerTick, cpuWait, gpuWait float64, err error) {
	done := make(chan struct{}, 2)
	types := []kernel.TypeInfo{{ID: fenceA, Deterministic: true}, {ID: fenceB, Deterministic: true}}
	kc := kernel.BootConfig{Workers: 2, ArenaSize: 16 << 20, MaxTypes: 64, MaxChannels: 32, Types: types}
	a := fenceSide("a", fenceA, fenceB, "fence.ba", "fence.ab", done)
	b := fenceSide("b", fenceB, fenceA, "fence.ab", "fence.ba", done)
	seeds := func(typ uint32) []kernel.Task {
		ts := make([]kernel.Task, fenceEntities)
		for i := range ts {
			ts[i] = kernel.Task{Type: typ, Meta1: uint64(i)}
		}
		return ts
	}
	if !fenced {
		k, err := kernel.Boot(kc, a, b)
		if err != nil {
			return 0, 0, 0, err
		}
		start := time.Now()
		_, err = k.SubmitBatch(append(seeds(fenceA), seeds(fenceB)...))
		if err == nil {
			<-done
			<-done
		}
		ns := float64(time.Since(start).Nanoseconds()) / FenceTicks
		return ns, 0, 0, errors.Join(err, k.Halt(context.Background()))
	}
	g, err := sim.New(sim.Config{Workers: 2, Kernel: kc})
	if err != nil {
		return 0, 0, 0, err
	}
	s, err := system.Boot(system.Config{CPU: kc, CPUModules: []kernel.Module{a}, GPU: g,
		GPUModules: []gpu.Module{gpu.FromKernel(b)}, Fence: true})
	if err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	_, err = s.CPU().SubmitBatch(seeds(fenceA))
	if err == nil {
		_, err = g.Kernel().SubmitBatch(seeds(fenceB))
	}
	if err == nil {
		<-done
		<-done
	}
	ns := float64(time.Since(start).Nanoseconds()) / FenceTicks
	cs, gs := s.DetStats()
	_, herr := s.Halt(context.Background())
	return ns, float64(cs.FenceWaitNS) / FenceTicks, float64(gs.FenceWaitNS) / FenceTicks, errors.Join(err, herr)
}
