package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// The GMK implementations: a kernel with 2 workers (GOMAXPROCS on the
// reference machine), lossless channels, inline tasks. The producer is the
// benchmark goroutine (two goroutines for mpmc2x2), feeding the kernel from
// outside in batches of gmkBatch with Kernel.ChanEmitAll (which blocks on a
// full channel as a Go send does) or Kernel.SubmitBatch. Completion is Halt, which returns once
// every queue is empty. Each subscriber's tally is owned by its home worker;
// Halt orders it before the check.

func init() {
	Register(CaseP2P, implOf(PeerGMK, gmkP2P))
	Register(CasePipeline3, implOf(PeerGMK, gmkPipeline3))
	Register(CasePipeEmit, implOf(PeerGMK, gmkPipelineEmit))
	Register(CaseFanout3, implOf(PeerGMK, gmkFanout3))
	Register(CaseMPMC2x2, implOf(PeerGMK, gmkMPMC2x2))
}

const (
	gmkIn = iota + 1
	gmkS2
	gmkS3
)

func gmkBoot(mods ...kernel.Module) (*kernel.Kernel, error) {
	return kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 4 << 20, MaxTypes: 8, MaxChannels: 8, QueueCap: 16384, EVQCap: 1024}, mods...)
}

// gmkSink is a module consuming channel name into a tally, after applying
// offset-1 more increments... it adds 1 to Meta0 when stage is set (stage3).
func gmkSink(name, ch string, typ uint32, mode kernel.ChanSpec, got *tally, offset uint64, bump bool) kernel.Module {
	return kernel.Module{Name: name,
		Handlers: []kernel.Handler{{Type: typ, Fn: func(c *kernel.Ctx) kernel.Status {
			v := *c.Task()
			if bump {
				v.Meta0++
			}
			got.add(v, offset)
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: ch, Dir: kernel.Consume, Type: typ, Mode: mode.Mode, Guarantee: kernel.Lossless}},
	}
}

// gmkStage consumes in (type typ), adds 1 to Meta0 and emits on out (type typ+1).
func gmkStage(name, in, out string, typ uint32) kernel.Module {
	var outID kernel.ChanID
	return kernel.Module{Name: name,
		Handlers: []kernel.Handler{{Type: typ, Fn: func(c *kernel.Ctx) kernel.Status {
			v := *c.Task()
			v.Type, v.Meta0 = typ+1, v.Meta0+1
			if c.ChanEmit(outID, v) != nil {
				return kernel.Retry // cannot happen with flow control; counted if it does
			}
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{
			{Name: in, Dir: kernel.Consume, Type: typ, Guarantee: kernel.Lossless},
			{Name: out, Dir: kernel.Produce, Type: typ + 1, Guarantee: kernel.Lossless}},
		Init: func(c *kernel.Ctx) (err error) {
			outID, err = c.Kernel().Chan(out)
			return err
		},
	}
}

// gmkBatch is the producers' batch: GMK is fed from outside through its batch
// APIs (one ring publication per batch), the way a GMK producer is written.
const gmkBatch = 64

// gmkEmitAll emits item(i), i in [lo, hi), on ch from outside the kernel in
// batches, waiting while the channel is full as a Go sender blocks on a full
// channel.
func gmkEmitAll(k *kernel.Kernel, ch kernel.ChanID, lo, hi int) error {
	ctx := context.Background()
	var batch [gmkBatch]task.Task
	for i := lo; i < hi; i += gmkBatch {
		m := min(gmkBatch, hi-i)
		for j := range batch[:m] {
			batch[j] = item(i + j)
		}
		if err := k.ChanEmitAll(ctx, ch, batch[:m]); err != nil {
			return err
		}
	}
	return nil
}

// gmkFinish halts k and checks that nothing failed.
func gmkFinish(k *kernel.Kernel, t timer) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := k.Halt(ctx)
	t.StopTimer()
	if err != nil {
		return err
	}
	r, _ := k.Halted()
	if s := r.Stats; s.Errored+s.Dropped+s.Retried != 0 {
		return fmt.Errorf("%w: gmk: %v", ErrMismatch, s)
	}
	return nil
}

func gmkP2P(n int, t timer) error {
	var got tally
	k, err := gmkBoot(gmkSink("sink", "b.in", gmkIn, kernel.ChanSpec{Mode: kernel.P2P}, &got, 0, false))
	if err != nil {
		return err
	}
	in, _ := k.Chan("b.in")
	t.ResetTimer()
	if err := gmkEmitAll(k, in, 0, n); err != nil {
		return err
	}
	if err := gmkFinish(k, t); err != nil {
		return err
	}
	return got.check("gmk p2p consumer", n)
}

func gmkPipeline3(n int, t timer) error {
	var got tally
	k, err := gmkBoot(gmkStage("stage1", "b.in", "b.s2", gmkIn), gmkStage("stage2", "b.s2", "b.s3", gmkS2),
		gmkSink("stage3", "b.s3", gmkS3, kernel.ChanSpec{Mode: kernel.P2P}, &got, 3, true))
	if err != nil {
		return err
	}
	in, _ := k.Chan("b.in")
	t.ResetTimer()
	if err := gmkEmitAll(k, in, 0, n); err != nil {
		return err
	}
	if err := gmkFinish(k, t); err != nil {
		return err
	}
	return got.check("gmk pipeline3 stage3", n)
}

func gmkFanout3(n int, t timer) error {
	var got [3]struct {
		tally
		_ [64]byte // subscribers run on different workers
	}
	fan := kernel.ChanSpec{Mode: kernel.FanOut}
	var mods []kernel.Module
	for i := range got {
		mods = append(mods, gmkSink(fmt.Sprintf("sub%d", i), "b.fan", gmkIn, fan, &got[i].tally, 0, false))
	}
	k, err := gmkBoot(mods...)
	if err != nil {
		return err
	}
	in, _ := k.Chan("b.fan")
	t.ResetTimer()
	if err := gmkEmitAll(k, in, 0, n); err != nil {
		return err
	}
	if err := gmkFinish(k, t); err != nil {
		return err
	}
	for i := range got {
		if err := got[i].check("gmk fanout3 subscriber", n); err != nil {
			return err
		}
	}
	return nil
}

// gmkMPMC2x2: two producer goroutines Submit tasks of one type; the kernel's
// two workers are the two consumers, each with its own tally.
func gmkMPMC2x2(n int, t timer) error {
	var got [2]struct {
		tally
		_ [64]byte
	}
	k, err := gmkBoot(kernel.Module{Name: "consumer",
		Handlers: []kernel.Handler{{Type: gmkIn, Fn: func(c *kernel.Ctx) kernel.Status {
			got[c.Worker()].add(*c.Task(), 0)
			return kernel.OK
		}}}})
	if err != nil {
		return err
	}
	start := make(chan struct{})
	errs := make(chan error, 2)
	for p := range 2 {
		lo, hi := p*n/2, (p+1)*n/2
		go func() {
			<-start
			errs <- gmkSubmitAll(k, lo, hi)
		}()
	}
	t.ResetTimer()
	close(start)
	for range 2 {
		if err := <-errs; err != nil {
			return err
		}
	}
	if err := gmkFinish(k, t); err != nil {
		return err
	}
	got[0].merge(got[1].tally)
	return got[0].check("gmk mpmc2x2 consumers", n)
}

// gmkSubmitAll submits item(i), i in [lo, hi), in batches, yielding while the
// ready queue is full.
func gmkSubmitAll(k *kernel.Kernel, lo, hi int) error {
	var batch [gmkBatch]task.Task
	for i := lo; i < hi; i += gmkBatch {
		m := min(gmkBatch, hi-i)
		for j := range batch[:m] {
			batch[j] = item(i + j)
		}
		for off := 0; off < m; {
			got, err := k.SubmitBatch(batch[off:m])
			off += got
			if err != nil && !errors.Is(err, task.ErrChanFull) {
				return err
			}
			if off < m {
				runtime.Gosched()
			}
		}
	}
	return nil
}

// gmkPipelineEmit: the 3-stage pipeline as GMK handler chaining: the
// producers submit in batches to the ready queue; stage1 and stage2 emit the
// next stage's task (Ctx.Emit), which stays on the worker that made it; both
// workers run whole pipelines in parallel. Unlike the channel-wired pipeline
// (and the Go-channel baseline), items are not kept in order across workers.
func gmkPipelineEmit(n int, t timer) error {
	var got [2]struct {
		tally
		_ [64]byte
	}
	stage := func(typ uint32) kernel.Handler {
		return kernel.Handler{Type: typ, Fn: func(c *kernel.Ctx) kernel.Status {
			v := *c.Task()
			v.Type, v.Meta0 = typ+1, v.Meta0+1
			if c.Emit(v) != nil {
				return kernel.Retry
			}
			return kernel.OK
		}}
	}
	sink := kernel.Handler{Type: gmkS3, Fn: func(c *kernel.Ctx) kernel.Status {
		v := *c.Task()
		v.Meta0++
		got[c.Worker()].add(v, 3)
		return kernel.OK
	}}
	k, err := gmkBoot(kernel.Module{Name: "stage1", Handlers: []kernel.Handler{stage(gmkIn)}},
		kernel.Module{Name: "stage2", Handlers: []kernel.Handler{stage(gmkS2)}},
		kernel.Module{Name: "stage3", Handlers: []kernel.Handler{sink}})
	if err != nil {
		return err
	}
	t.ResetTimer()
	if err := gmkSubmitAll(k, 0, n); err != nil {
		return err
	}
	if err := gmkFinish(k, t); err != nil {
		return err
	}
	got[0].merge(got[1].tally)
	return got[0].check("gmk pipeline3-emit stage3", n)
}
