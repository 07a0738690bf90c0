package system_test

// Tick fences across the CPU kernel and the simulated GPU kernel ([D1],
// [D2]; issue 7 acceptance 1): deterministic tasks ping-pong over bridge
// channels with 64-byte payloads, and every run — 20 of them for each of
// 1, 2 and 4 workers per kernel — gives the same outputs, the same ticks
// and the same trace hashes on both kernels.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/kernel"
)

const (
	tUp   = 20 // runs on the CPU: seeds, and det.up from the GPU
	tDown = 21 // runs on the GPU: det.down from the CPU
)

// pingPong is one kernel's deterministic module: it records what it runs
// and sends a task with a payload derived from the input to the other
// kernel until the hop count runs out.
type pingPong struct {
	name     string
	in, out  uint32
	inCh     string
	outCh    string
	outID    kernel.ChanID
	mu       sync.Mutex
	log      []string
	lateHops int // tasks that ran at a tick other than their emit tick + 1
}

func (p *pingPong) module() kernel.Module {
	decls := []kernel.ChanDecl{{Name: p.outCh, Dir: kernel.Produce, Type: p.out, Guarantee: kernel.Lossless, Slots: 512}}
	if p.inCh != "" {
		decls = append(decls, kernel.ChanDecl{Name: p.inCh, Dir: kernel.Consume, Type: p.in, Guarantee: kernel.Lossless, Slots: 512})
	}
	return kernel.Module{Name: p.name, Channels: decls,
		Handlers: []kernel.Handler{{Type: p.in, Fn: p.handle, Flags: kernel.DetHandler}},
		Init:     func(c *kernel.Ctx) (err error) { p.outID, err = c.Kernel().Chan(p.outCh); return err }}
}

func (p *pingPong) handle(c *kernel.Ctx) kernel.Status {
	x := c.Task()
	emitTick, hops := x.Meta1>>32, x.Meta1&0xffff
	h := fnv.New64a()
	_, _ = h.Write(c.Payload())
	p.mu.Lock()
	if x.Flags&kernel.ChannelMsg != 0 && c.Tick() != emitTick+1 {
		p.lateHops++
	}
	p.log = append(p.log, fmt.Sprintf("tick=%d m0=%d hops=%d sum=%x", c.Tick(), x.Meta0, hops, h.Sum64()))
	p.mu.Unlock()
	if hops == 0 {
		return kernel.OK
	}
	ref, buf, err := c.Alloc(64)
	if err != nil {
		p.mu.Lock()
		p.log = append(p.log, "alloc: "+err.Error())
		p.mu.Unlock()
		return kernel.Retry
	}
	for i := 0; i < len(buf); i += 8 {
		binary.LittleEndian.PutUint64(buf[i:], h.Sum64()+x.Meta0*uint64(i+1)+c.Tick())
	}
	next := kernel.Task{Type: p.out, Meta0: x.Meta0*7 + c.Tick(), Meta1: c.Tick()<<32 | (hops - 1), Payload: ref, PayloadLen: 64}
	if err := c.ChanEmit(p.outID, next); err != nil {
		p.mu.Lock()
		p.log = append(p.log, "emit: "+err.Error())
		p.mu.Unlock()
		return kernel.FailCode(-1)
	}
	return kernel.OK
}

func (p *pingPong) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.log)
}

type fencedRun struct {
	cpu, gpu         []string
	cpuHash, gpuHash uint64
}

// runFencedSystem boots the CPU kernel and the simulated GPU kernel with
// workers each, fenced, seeds the CPU kernel, and waits for every hop.
func runFencedSystem(t *testing.T, workers int) fencedRun {
	t.Helper()
	types := []kernel.TypeInfo{{ID: tUp, Deterministic: true}, {ID: tDown, Deterministic: true}}
	kc := small
	kc.Workers, kc.Types = workers, types
	cpu := &pingPong{name: "host", in: tUp, out: tDown, inCh: "det.up", outCh: "det.down"}
	dev := &pingPong{name: "dev", in: tDown, out: tUp, inCh: "det.down", outCh: "det.up"}
	s := boot(t, system.Config{CPU: kc, CPUModules: []kernel.Module{cpu.module()},
		SimConfig: sim.Config{Workers: workers, Kernel: kc}, GPUModules: []gpu.Module{gpu.FromKernel(dev.module())},
		Fence: true})
	var seeds []kernel.Task
	want := 0
	for i := range 6 {
		hops := 10 + i%4
		seeds = append(seeds, kernel.Task{Type: tUp, Meta0: uint64(i), Meta1: uint64(hops)})
		want += hops + 1
	}
	if _, err := s.CPU().SubmitBatch(seeds); err != nil {
		t.Fatal(err)
	}
	// Every hop runs once, and every hop but the seeds is relayed once: the
	// lanes are done (and their hashes final) when they ran that many.
	runs := uint64(want + want - len(seeds))
	cs, gs := s.DetStats()
	for deadline := time.Now().Add(30 * time.Second); cs.Ran+gs.Ran < runs && time.Now().Before(deadline); cs, gs = s.DetStats() {
		time.Sleep(200 * time.Microsecond)
	}
	if !cs.Fenced || !gs.Fenced {
		t.Fatalf("lanes not fenced: cpu %+v gpu %+v", cs, gs)
	}
	halt(t, s)
	if n := len(cpu.lines()) + len(dev.lines()); n != want {
		t.Fatalf("%d workers: %d tasks ran, want %d", workers, n, want)
	}
	if cpu.lateHops+dev.lateHops != 0 {
		t.Fatalf("%d workers: %d tasks did not run at their emit tick + 1", workers, cpu.lateHops+dev.lateHops)
	}
	return fencedRun{cpu.lines(), dev.lines(), cs.Hash, gs.Hash}
}

// [D1] [D2] Same seed, same input → the same outputs and trace hashes on
// both kernels across 20 runs with 1, 2 and 4 workers per kernel, the lanes
// tied by tick fences over the bridge.
func TestD1_FencedCPUAndSimulatedGPU(t *testing.T) {
	runs := 20
	if testing.Short() {
		runs = 3
	}
	var first *fencedRun
	for _, workers := range []int{1, 2, 4} {
		for i := range runs {
			r := runFencedSystem(t, workers)
			if first == nil {
				first = &r
				continue
			}
			if !slices.Equal(r.cpu, first.cpu) || !slices.Equal(r.gpu, first.gpu) {
				t.Fatalf("%d workers, run %d: outputs differ:\ncpu %v\ngpu %v\nfirst:\ncpu %v\ngpu %v", workers, i, r.cpu, r.gpu, first.cpu, first.gpu)
			}
			if r.cpuHash != first.cpuHash || r.gpuHash != first.gpuHash {
				t.Fatalf("%d workers, run %d: trace hashes %x %x, first %x %x", workers, i, r.cpuHash, r.gpuHash, first.cpuHash, first.gpuHash)
			}
		}
	}
}

// [D1] A fence needs the GPU kernel in this process.
func TestD1_FenceNeedsInProcessGPU(t *testing.T) {
	g, err := sim.New(sim.Config{Workers: 1, Kernel: small})
	if err != nil {
		t.Fatal(err)
	}
	_, err = system.Boot(system.Config{CPU: small, GPU: noEndpoint{g}, Fence: true})
	if !errors.Is(err, system.ErrFenceBackend) {
		t.Fatalf("boot: %v", err)
	}
}

// noEndpoint hides the simulated kernel's bridge end, as a backend in
// another process would.
type noEndpoint struct{ gpu.Backend }
