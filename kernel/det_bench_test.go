package kernel

import "testing"

// The CPU price of determinism, measured on one goroutine: a kernel's only
// worker is stopped after Boot and the benchmark steps it itself (as
// BenchmarkStepPipeline3 does). The work is a small simulation — 16
// entities, each step updating a value, sending it to the next entity over
// a fan-out lossless channel and emitting the entity's next step — run on
// the deterministic lane (BenchmarkStepDetLane) and as plain tasks
// (BenchmarkStepDetPlain). ns/op is per step (a step and a message: two
// tasks); the lane also reports its tick-boundary share.

const benchEntities = 16

// benchSim is the simulation; only the stepping goroutine touches it.
type benchSim struct {
	ring  ChanID
	vals  [benchEntities]uint64
	steps int
}

func (s *benchSim) modules(flags HandlerFlags) []Module {
	step := func(c *Ctx) Status {
		x := c.Task()
		i := x.Meta1
		s.vals[i] = s.vals[i]*31 + x.Meta0
		s.steps++
		if c.ChanEmit(s.ring, Task{Type: 2, Meta0: s.vals[i], Meta1: (i + 1) % benchEntities}) != nil {
			return Retry
		}
		if c.Emit(Task{Type: 1, Meta0: x.Meta0 + 1, Meta1: i}) != nil {
			return FailCode(-1)
		}
		return OK
	}
	msg := func(c *Ctx) Status { s.vals[c.Task().Meta1] ^= c.Task().Meta0; return OK }
	ring := ChanDecl{Name: "b.ring", Type: 2, Mode: FanOut, Guarantee: Lossless}
	in, out := ring, ring
	in.Dir, out.Dir = Consume, Produce
	return []Module{{Name: "sim", Handlers: []Handler{{Type: 1, Fn: step, Flags: flags}}, Channels: []ChanDecl{out},
		Init: func(c *Ctx) (err error) { s.ring, err = c.Kernel().Chan("b.ring"); return err }},
		{Name: "recv", Handlers: []Handler{{Type: 2, Fn: msg, Flags: flags}}, Channels: []ChanDecl{in}}}
}

// benchSimKernel boots a one-worker kernel running the simulation (on the
// lane when det), seeds it and stops the worker goroutine.
func benchSimKernel(b testing.TB, det bool) (*Kernel, *benchSim) {
	b.Helper()
	s := &benchSim{}
	cfg := BootConfig{Workers: 1, ArenaSize: 4 << 20, MaxTypes: 8, MaxChannels: 8}
	var flags HandlerFlags
	if det {
		cfg.Types, flags = detTypes(1, 2), DetHandler
	}
	k, err := Boot(cfg, s.modules(flags)...)
	if err != nil {
		b.Fatal(err)
	}
	k.stopFlag.Store(true)
	k.core.Idle.Wake(0)
	k.wg.Wait()
	seed := make([]Task, benchEntities)
	for i := range seed {
		seed[i] = Task{Type: 1, Meta1: uint64(i)}
	}
	if _, err := k.SubmitBatch(seed); err != nil {
		b.Fatal(err)
	}
	return k, s
}

// BenchmarkStepDetLane: the simulation on the deterministic lane, a round
// of steps per tick.
func BenchmarkStepDetLane(b *testing.B) {
	k, s := benchSimKernel(b, true)
	w := k.workers[0]
	b.ReportAllocs()
	b.ResetTimer()
	for s.steps < b.N {
		w.runDet()
	}
	b.StopTimer()
	d := k.DetStats()
	b.ReportMetric(float64(d.BoundaryNS)/float64(d.Tick), "boundary-ns/tick")
	b.ReportMetric(float64(d.BoundaryNS)/float64(d.BusyNS)*100, "boundary-%")
	stepHalt(k)
}

// BenchmarkStepDetPlain: the same simulation as plain tasks.
func BenchmarkStepDetPlain(b *testing.B) {
	k, s := benchSimKernel(b, false)
	w := k.workers[0]
	b.ReportAllocs()
	b.ResetTimer()
	for s.steps < b.N {
		if n := w.gather(); n > 0 {
			w.dispatch(w.batch[:n])
		}
	}
	b.StopTimer()
	stepHalt(k)
}
