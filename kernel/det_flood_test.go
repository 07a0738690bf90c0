package kernel

import (
	"encoding/binary"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
)

// [D1] [D2] Deterministic work stays deterministic while non-deterministic
// tasks flood the same kernel (issue 7 acceptance 3): a simulation with
// payloads, a deterministic channel and sys.tick gives the same values and
// the same trace hash with 1, 2 and 4 workers, run after run, as it does on
// a kernel of its own. The flood is there from before the lane's first tick
// to after its last, by construction: a flood task submits the
// simulation's inputs, and the flood's chains — re-emitting themselves,
// allocating payloads and emitting on a plain channel — stop only once the
// lane's last tick ran, while the test's goroutine submits more plain tasks
// from outside all along.
func TestD1_DeterministicUnderFlood(t *testing.T) {
	runs := 10
	if testing.Short() {
		runs = 3
	}
	want := floodSim(t, 1, false)
	if want.hash == fnvOffset {
		t.Fatal("the trace hash never changed")
	}
	for r := range runs {
		for _, workers := range []int{1, 2, 4} {
			got := floodSim(t, workers, true)
			if got.hash != want.hash || !slices.Equal(got.vals, want.vals) {
				t.Fatalf("run %d, %d workers, flooded: hash %x values %v; alone: %x %v", r, workers, got.hash, got.vals, want.hash, want.vals)
			}
			// One worker alternates lane batches and flood batches
			// (worker.run), so the flood ran during the lane's ticks.
			if workers == 1 && got.floodLast <= got.floodFirst {
				t.Fatalf("run %d: no flood task ran between the lane's first and last tick (%d, %d)", r, got.floodFirst, got.floodLast)
			}
		}
	}
}

const (
	fsEntities = 8
	fsTicks    = 40
	fsChains   = 8
)

// Types of the flood simulation: deterministic step, msg and tick; plain
// noise (a chain link), noise deliveries and spam (submitted from outside).
const (
	fsStep = iota + 1
	fsMsg
	fsTick
	fsNoise
	fsNoiseMsg
	fsSpam
)

type floodResult struct {
	vals                  []uint64
	hash                  uint64
	floodFirst, floodLast int64 // flood tasks run when the lane's first and last ticks began
}

// floodState is one run's simulation and flood. vals and clock are
// touched by deterministic handlers only (worker 0); the rest is shared.
type floodState struct {
	vals        [fsEntities]uint64
	clock       uint64
	ring, noise ChanID
	done        atomic.Bool // the lane's last tick ran
	started     atomic.Bool // the simulation's inputs were submitted
	flood       atomic.Int64
	first, last atomic.Int64
	k           *Kernel
}

// floodSim runs the simulation, flooded or on a kernel of its own.
func floodSim(t *testing.T, workers int, flood bool) floodResult {
	t.Helper()
	s := &floodState{}
	k := fxBoot(t, BootConfig{Workers: workers, Types: detTypes(fsStep, fsMsg, fsTick)}, s.modules()...)
	s.k = k
	if flood {
		seeds := make([]Task, fsChains)
		for i := range seeds {
			seeds[i] = Task{Type: fsNoise, Meta0: uint64(i)}
		}
		if _, err := k.SubmitBatch(seeds); err != nil {
			t.Fatal(err)
		}
		spam := make([]Task, 64)
		for i := range spam {
			spam[i] = Task{Type: fsSpam}
		}
		for !s.done.Load() { // the flood from outside, for as long as the lane runs
			if n, _ := k.SubmitBatch(spam); n < len(spam) {
				runtime.Gosched()
			}
		}
	} else if err := s.start(); err != nil {
		t.Fatal(err)
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if st := k.DetStats(); st.Tick != fsTicks || !s.done.Load() {
		t.Fatalf("the lane ended at tick %d, want %d", st.Tick, fsTicks)
	}
	return floodResult{vals: s.vals[:], hash: k.TraceHash(), floodFirst: s.first.Load(), floodLast: s.last.Load()}
}

// start submits the simulation's inputs together: one tick.
func (s *floodState) start() error {
	in := make([]Task, fsEntities)
	for i := range in {
		in[i] = Task{Type: fsStep, Meta0: uint64(i) + 1, Meta1: uint64(i)}
	}
	_, err := s.k.SubmitBatch(in)
	return err
}

func (s *floodState) modules() []Module {
	ring := ChanDecl{Name: "fs.ring", Type: fsMsg, Mode: FanOut, Guarantee: Lossless}
	noise := ChanDecl{Name: "fs.noise", Type: fsNoiseMsg, Mode: FanOut, Guarantee: Lossless}
	in, out, nin, nout := ring, ring, noise, noise
	in.Dir, out.Dir, nin.Dir, nout.Dir = Consume, Produce, Consume, Produce
	return []Module{
		{Name: "sim", Handlers: []Handler{{Type: fsStep, Fn: s.step, Flags: DetHandler}},
			Channels: []ChanDecl{out},
			Init: func(c *Ctx) (err error) {
				s.ring, err = c.Kernel().Chan("fs.ring")
				return err
			}},
		{Name: "clock", Handlers: []Handler{{Type: fsTick, Flags: DetHandler, Fn: s.tick}},
			Channels: []ChanDecl{{Name: SysTick, Dir: Consume, Type: fsTick}}},
		{Name: "recv", Handlers: []Handler{{Type: fsMsg, Fn: s.msg, Flags: DetHandler}}, Channels: []ChanDecl{in}},
		{Name: "flood", Handlers: []Handler{{Type: fsNoise, Fn: s.noiseLink}}, Channels: []ChanDecl{nout},
			Init: func(c *Ctx) (err error) {
				s.noise, err = c.Kernel().Chan("fs.noise")
				return err
			}},
		{Name: "sink", Handlers: []Handler{{Type: fsNoiseMsg, Fn: s.count}, {Type: fsSpam, Fn: s.count}},
			Channels: []ChanDecl{nin}},
	}
}

// tick folds the tick into the clock and notes how far the flood got.
func (s *floodState) tick(c *Ctx) Status {
	s.clock = s.clock*7 + c.Task().Meta0
	switch c.Task().Meta0 {
	case 1:
		s.first.Store(s.flood.Load())
	case fsTicks:
		s.last.Store(s.flood.Load())
	}
	return OK
}

// step updates entity Meta1 and sends its value, in a payload, to the
// next entity; it ends the simulation at the last tick.
func (s *floodState) step(c *Ctx) Status {
	i := c.Task().Meta1
	s.vals[i] = s.vals[i]*31 + c.Task().Meta0 + s.clock
	if c.Tick() >= fsTicks {
		s.done.Store(true)
		return OK
	}
	h, p, err := c.Alloc(8)
	if err != nil {
		return FailCode(-1)
	}
	binary.LittleEndian.PutUint64(p, s.vals[i])
	if c.ChanEmit(s.ring, Task{Type: fsMsg, Payload: h, PayloadLen: 8, Meta1: (i + 1) % fsEntities}) != nil {
		_ = c.Free(h)
		return FailCode(-1)
	}
	if c.Emit(Task{Type: fsStep, Meta0: c.Task().Meta0 + 1, Meta1: i}) != nil {
		return FailCode(-1)
	}
	return OK
}

func (s *floodState) msg(c *Ctx) Status {
	s.vals[c.Task().Meta1] ^= binary.LittleEndian.Uint64(c.Payload())
	return OK
}

// noiseLink is a flood chain's link: the first one submits the
// simulation's inputs; each sends a payload on the plain channel and
// re-emits the chain until the lane's last tick ran.
func (s *floodState) noiseLink(c *Ctx) Status {
	s.flood.Add(1)
	if s.started.CompareAndSwap(false, true) {
		if err := s.start(); err != nil {
			return FailCode(-1)
		}
	}
	if s.done.Load() {
		return OK
	}
	if h, p, err := c.Alloc(16); err == nil {
		p[0] = byte(c.Task().Meta0)
		if c.ChanEmit(s.noise, Task{Type: fsNoiseMsg, Payload: h, PayloadLen: 16}) != nil {
			_ = c.Free(h) // full: this link's message is skipped
		}
	}
	if c.Emit(Task{Type: fsNoise, Meta0: c.Task().Meta0}) != nil {
		return FailCode(-1)
	}
	return OK
}

func (s *floodState) count(*Ctx) Status {
	s.flood.Add(1)
	return OK
}
