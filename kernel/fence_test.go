package kernel

// Tick fences between two kernels ([D1] across kernels; issue 7 acceptance
// 1 and 2): two kernels ping-pong deterministic tasks over a relay that
// delivers late and at random, and every run — any worker count, any
// delivery timing — runs the same tasks at the same ticks with the same
// trace hashes; what one kernel emits at tick T runs on the other at T+1.

import (
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	fPing = 1 // runs on A, emitted by B on fence.b2a (and submitted)
	fPong = 2 // runs on B, emitted by A on fence.a2b
)

// fenceSide is one kernel of a fenced pair, with the test's relay: the
// relay handler takes the deliveries of its out channel on the lane, and a
// goroutine hands them to the peer after a random delay.
type fenceSide struct {
	k     *Kernel
	out   ChanID
	sent  atomic.Uint64 // tasks the relay took
	box   chan Task
	log   *detLog
	bad   atomic.Int64 // tasks that ran at a tick other than the emit tick + 1
	peer  *fenceSide
	inCh  ChanID // the peer's channel this side's relay emits on
	delay *rand.Rand
}

func (s *fenceSide) module(name string, in, out uint32, inName, outName string) Module {
	h := func(c *Ctx) Status {
		x := c.Task()
		emitTick, hops := x.Meta1>>32, x.Meta1&0xffffffff
		if x.Flags&ChannelMsg != 0 && c.Tick() != emitTick+1 {
			s.bad.Add(1)
		}
		s.log.add("%s tick=%d meta=%d hops=%d", name, c.Tick(), x.Meta0, hops)
		if hops == 0 {
			return OK
		}
		next := Task{Type: out, Meta0: x.Meta0*31 + c.Tick(), Meta1: c.Tick()<<32 | (hops - 1)}
		if err := c.ChanEmit(s.out, next); err != nil {
			return FailCode(-1)
		}
		return OK
	}
	return Module{Name: name, Handlers: []Handler{{Type: in, Fn: h, Flags: DetHandler}},
		Channels: []ChanDecl{{Name: inName, Dir: Consume, Type: in, Guarantee: Lossless, Slots: 1024},
			{Name: outName, Dir: Produce, Type: out, Guarantee: Lossless, Slots: 1024}},
		Init: func(c *Ctx) (err error) { s.out, err = c.Kernel().Chan(outName); return err }}
}

// forward delivers the relay's tasks to the peer, late.
func (s *fenceSide) forward(wg *sync.WaitGroup) {
	defer wg.Done()
	for x := range s.box {
		if s.delay.IntN(4) == 0 {
			time.Sleep(time.Duration(s.delay.IntN(200)) * time.Microsecond)
		}
		x.Flags &^= ChannelMsg
		if err := s.peer.k.ChanEmit(s.inCh, x); err != nil {
			panic(err)
		}
	}
}

type fenceRun struct {
	logA, logB   []string
	hashA, hashB uint64
}

// runFenced runs the ping-pong on a fenced pair with workers each and
// delivery timing drawn from seed.
func runFenced(t *testing.T, workers int, seed uint64) fenceRun {
	t.Helper()
	a := &fenceSide{log: &detLog{}, box: make(chan Task, 1<<12), delay: rand.New(rand.NewPCG(seed, 1))}
	b := &fenceSide{log: &detLog{}, box: make(chan Task, 1<<12), delay: rand.New(rand.NewPCG(seed, 2))}
	a.peer, b.peer = b, a
	relayMod := func(s *fenceSide, name, ch string, typ uint32) Module {
		return Module{Name: name, Handlers: []Handler{{Type: AnyType, Flags: DetHandler, Fn: func(c *Ctx) Status {
			s.sent.Add(1)
			s.box <- *c.Task()
			return OK
		}}}, Channels: []ChanDecl{{Name: ch, Dir: Consume, Type: typ, Guarantee: Lossless, Slots: 1024}}}
	}
	cfg := func(id string) BootConfig {
		return BootConfig{ID: id, Workers: workers, Types: detTypes(fPing, fPong)}
	}
	a.k = fxBoot(t, cfg("a"), a.module("A", fPing, fPong, "fence.b2a", "fence.a2b"), relayMod(a, "relayA", "fence.a2b", fPong))
	b.k = fxBoot(t, cfg("b"), b.module("B", fPong, fPing, "fence.a2b", "fence.b2a"), relayMod(b, "relayB", "fence.b2a", fPing))
	a.inCh, b.inCh = chanID(t, b.k, "fence.a2b"), chanID(t, a.k, "fence.b2a")
	fence(t, a, chanID(t, a.k, "fence.b2a"))
	fence(t, b, chanID(t, b.k, "fence.a2b"))
	var wg sync.WaitGroup
	wg.Add(2)
	go a.forward(&wg)
	go b.forward(&wg)
	var seeds []Task
	for i := range 8 {
		seeds = append(seeds, Task{Type: fPing, Meta0: uint64(i), Meta1: uint64(20 + i%3)})
	}
	if _, err := a.k.SubmitBatch(seeds); err != nil {
		t.Fatal(err)
	}
	want := 0
	for i := range 8 {
		want += 21 + i%3
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(a.log.list())+len(b.log.list()) < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	ra, rb := haltOK(t, a.k), haltOK(t, b.k)
	close(a.box)
	close(b.box)
	wg.Wait()
	checkIdentity(t, ra)
	checkIdentity(t, rb)
	if n := len(a.log.list()) + len(b.log.list()); n != want {
		t.Fatalf("%d workers: ran %d tasks, want %d", workers, n, want)
	}
	if a.bad.Load()+b.bad.Load() != 0 {
		t.Fatalf("%d workers: %d tasks ran at a tick other than their emit tick + 1", workers, a.bad.Load()+b.bad.Load())
	}
	return fenceRun{a.log.list(), b.log.list(), a.k.TraceHash(), b.k.TraceHash()}
}

// fence ties s's kernel to its peer's: s's out channel to the peer's in.
func fence(t *testing.T, s *fenceSide, in ChanID) {
	t.Helper()
	err := s.k.SetFence(Fence{Out: []ChanID{s.out}, In: []ChanID{in},
		Mark: func(done, tick uint64) { s.peer.k.PeerMark(done, tick, []uint64{s.sent.Load()}) }})
	if err != nil {
		t.Fatal(err)
	}
}

func chanID(t *testing.T, k *Kernel, name string) ChanID {
	t.Helper()
	id, err := k.Chan(name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// [D1] [D2] Two fenced kernels run the same ticks whatever their workers and
// whatever the delivery timing: identical logs and trace hashes, and every
// cross-kernel task runs at its emit tick + 1.
func TestD1_TickFenceTwoKernels(t *testing.T) {
	var first fenceRun
	runs := 0
	for _, workers := range []int{1, 2, 4} {
		for seed := range uint64(4) {
			r := runFenced(t, workers, seed)
			if runs++; runs == 1 {
				first = r
				continue
			}
			if !slices.Equal(r.logA, first.logA) || !slices.Equal(r.logB, first.logB) {
				t.Fatalf("%d workers, seed %d: the runs differ:\n%v\n%v\nfirst:\n%v\n%v", workers, seed, r.logA, r.logB, first.logA, first.logB)
			}
			if r.hashA != first.hashA || r.hashB != first.hashB {
				t.Fatalf("%d workers, seed %d: trace hashes %x %x, first %x %x", workers, seed, r.hashA, r.hashB, first.hashA, first.hashB)
			}
		}
	}
	if first.hashA == fnvOffset || first.hashB == fnvOffset {
		t.Fatal("a kernel ran nothing deterministic")
	}
}

// [D1] The fence refuses what would make it wrong: an emit from outside the
// lane on a fenced out channel, a channel of a plain type, a second fence.
func TestD1_FenceRefuses(t *testing.T) {
	a := &fenceSide{log: &detLog{}, box: make(chan Task, 16)}
	a.peer = a
	relay := Module{Name: "relay", Handlers: []Handler{{Type: AnyType, Flags: DetHandler, Fn: func(*Ctx) Status { return OK }}},
		Channels: []ChanDecl{{Name: "fence.a2b", Dir: Consume, Type: fPong, Guarantee: Lossless}}}
	plain := Module{Name: "plain", Handlers: []Handler{{Type: 3, Fn: func(*Ctx) Status { return OK }}},
		Channels: []ChanDecl{{Name: "plain.in", Dir: Consume, Type: 3}}}
	a.k = fxBoot(t, BootConfig{Workers: 1, Types: detTypes(fPing, fPong)},
		a.module("A", fPing, fPong, "fence.b2a", "fence.a2b"), relay, plain)
	if err := a.k.SetFence(Fence{In: []ChanID{chanID(t, a.k, "plain.in")}}); !errors.Is(err, ErrNotDeterministic) {
		t.Fatalf("fence on a plain channel: %v", err)
	}
	fence(t, a, chanID(t, a.k, "fence.b2a"))
	if err := a.k.SetFence(Fence{}); !errors.Is(err, ErrConfig) {
		t.Fatalf("second fence: %v", err)
	}
	err := a.k.ChanEmit(a.out, Task{Type: fPong})
	if !errors.Is(err, ErrNotDeterministic) {
		t.Fatalf("emit from outside on a fenced out channel: %v", err)
	}
	checkIdentity(t, haltOK(t, a.k))
}

// [D1] A fenced lane waits for its peer's mark before its next tick; when
// the peer is gone (Unfence), it runs on its own and loses nothing.
func TestD1_UnfenceLetsTheLaneRunAlone(t *testing.T) {
	log := &detLog{}
	chain := Module{Name: "chain", Handlers: []Handler{{Type: fPing, Flags: DetHandler, Fn: func(c *Ctx) Status {
		log.add("tick=%d hops=%d", c.Tick(), c.Task().Meta1)
		if h := c.Task().Meta1; h > 0 {
			if c.Emit(Task{Type: fPing, Meta1: h - 1}) != nil {
				return FailCode(-1)
			}
		}
		return OK
	}}}}
	k := fxBoot(t, BootConfig{Workers: 2, Types: detTypes(fPing)}, chain)
	var marks atomic.Int64 // a peer that never answers
	if err := k.SetFence(Fence{Mark: func(done, tick uint64) { marks.Add(1) }}); err != nil {
		t.Fatal(err)
	}
	if err := k.Submit(Task{Type: fPing, Meta1: 4}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); marks.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Microsecond)
	}
	time.Sleep(20 * time.Millisecond) // a lane that ignored the fence would have run on by now
	if got := log.list(); len(got) != 1 || got[0] != "tick=1 hops=4" || k.DetStats().Tick != 1 {
		t.Fatalf("fenced lane without its peer's mark ran %v (tick %d)", got, k.DetStats().Tick)
	}
	k.Unfence()
	for deadline := time.Now().Add(10 * time.Second); len(log.list()) < 5 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Microsecond)
	}
	want := []string{"tick=1 hops=4", "tick=2 hops=3", "tick=3 hops=2", "tick=4 hops=1", "tick=5 hops=0"}
	if got := log.list(); !slices.Equal(got, want) {
		t.Fatalf("after Unfence the lane ran %v, want %v", got, want)
	}
	checkIdentity(t, haltOK(t, k))
}
