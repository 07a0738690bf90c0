// Package clusterbench measures GMK's cluster channel ([X5]) against
// protoactor's own remote Send between the same two members of one
// in-process cluster (the in-memory test provider, remote on 127.0.0.1): the
// cluster-channel case of internal/bench (make bench).
//
// Member A produces, member B consumes. A task is one item(i)-shaped inline
// task (48 bytes, no payload) that a handler on B counts:
//
//   - gmk: the benchmark goroutine emits on A's local end of the lossless
//     cluster channel bench.cluster (Kernel.ChanEmitAll, batches of 256);
//     A's relay, sender actor and protoactor remote carry it in batches to
//     the grain on B, whose pump emits it on B's delivery channel, where the
//     consumer's handler counts it; acknowledgements flow back.
//   - protoactor-remote: the benchmark goroutine sends each task as its own
//     protobuf message (a wire.TaskBatch of one 48-byte record) with
//     Root.Send from A's ActorSystem to a plain actor on B, which decodes
//     and counts it. Raw Send has no flow control; the producer keeps at most
//     Inflight messages unreceived so that protoactor's endpoint queue
//     (1M messages) never overflows.
//
// Each run checks that B saw every task exactly once (count, sum and sum of
// squares of the task numbers). Starting the pair takes about a second
// (protoactor's StartMember sleeps); a Pair serves any number of runs.
//
// Concurrency: a Pair's methods are for one goroutine at a time (the
// benchmark's); the counting handler and actor publish their totals with
// atomics.
package clusterbench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/gmkernel/gmk/actors/cluster"
	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

const (
	channelName = "bench.cluster"
	taskType    = 1
	emitBatch   = 256
	// Inflight bounds the protoactor baseline's messages sent and not yet
	// received.
	Inflight = 1 << 16
)

// ErrMismatch reports a run whose consumer did not see every task once.
var ErrMismatch = errors.New("clusterbench: tasks lost or duplicated")

// Timer is the part of *testing.B a run uses.
type Timer interface {
	ResetTimer()
	StopTimer()
}

// Pair is a two-member cluster: A (producer) and B (consumer).
type Pair struct {
	a, b    side
	gmk     *counter   // B's consumer handler
	pa      *counter   // B's plain actor
	paPID   *actor.PID // the plain actor, as A addresses it
	chanID  kernel.ChanID
	stopped bool
}

type side struct {
	sys *actor.ActorSystem
	k   *kernel.Kernel
	m   *cluster.Member
}

// counter counts what B received: a tally and a target whose reaching
// closes done.
type counter struct {
	n, sum, sq atomic.Uint64
	target     atomic.Uint64
	done       chan struct{}
}

func (c *counter) reset(target uint64) {
	c.n.Store(0)
	c.sum.Store(0)
	c.sq.Store(0)
	c.done = make(chan struct{})
	c.target.Store(target)
}

// add records task number i; one goroutine at a time (a handler or an actor).
func (c *counter) add(i uint64) {
	c.sum.Store(c.sum.Load() + i)
	c.sq.Store(c.sq.Load() + i*i)
	if c.n.Add(1) == c.target.Load() {
		close(c.done)
	}
}

func (c *counter) check(who string, n int) error {
	var sum, sq uint64
	for i := range uint64(n) {
		sum, sq = sum+i, sq+i*i
	}
	if c.n.Load() != uint64(n) || c.sum.Load() != sum || c.sq.Load() != sq {
		return fmt.Errorf("%w: %s saw %d tasks (sum %d, squares %d), want %d (sum %d, squares %d)",
			ErrMismatch, who, c.n.Load(), c.sum.Load(), c.sq.Load(), n, sum, sq)
	}
	return nil
}

func quiet(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }

func kernelConfig() kernel.BootConfig {
	return kernel.BootConfig{Workers: 1, ArenaSize: 4 << 20, QueueCap: 16384, EVQCap: 1024, MaxTypes: 8, MaxChannels: 8}
}

// Start starts the pair and warms both paths up (the grain activated, the
// connection between the members open).
func Start() (*Pair, error) {
	p := &Pair{gmk: &counter{}, pa: &counter{}}
	var err error
	if p.a, err = boot(false, nil); err != nil {
		return nil, err
	}
	if p.b, err = boot(true, p.gmk); err != nil {
		_ = p.a.k.Halt(context.Background())
		return nil, err
	}
	agent := test.NewInMemAgent()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []side{p.a, p.b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = cluster.Join(s.sys, s.m, "gmk-bench", test.NewTestProvider(agent), remote.Configure("127.0.0.1", 0))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		p.stop(errs)
		return nil, err
	}
	if p.chanID, err = p.a.m.Chan(channelName); err != nil {
		p.Close()
		return nil, err
	}
	pid, err := p.b.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return &sink{c: p.pa} }), "bench-sink")
	if err != nil {
		p.Close()
		return nil, err
	}
	p.paPID = actor.NewPID(p.b.sys.Address(), pid.Id)
	for _, warm := range []func(int, Timer) error{p.Channel, p.Remote} {
		if err := warm(1000, nopTimer{}); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

func boot(consume bool, c *counter) (side, error) {
	m, err := cluster.New(cluster.Config{Channels: []cluster.Channel{{Name: channelName, Type: taskType, Consume: consume, Slots: 4096}}})
	if err != nil {
		return side{}, err
	}
	mods := []kernel.Module{m.Module()}
	if consume {
		mods = append(mods, m.Consumer(kernel.Module{Name: "bench-sink",
			Handlers: []kernel.Handler{{Type: taskType, Fn: func(x *kernel.Ctx) kernel.Status {
				c.add(x.Task().Meta1)
				return kernel.OK
			}}},
			Channels: []kernel.ChanDecl{{Name: channelName, Dir: kernel.Consume, Type: taskType, Guarantee: kernel.Lossless}}}))
	}
	k, err := kernel.Boot(kernelConfig(), mods...)
	if err != nil {
		return side{}, err
	}
	sys := actor.NewActorSystemWithConfig(actor.Configure(actor.WithLoggerFactory(quiet)))
	return side{sys: sys, k: k, m: m}, nil
}

// Close stops both members, their clusters and kernels.
func (p *Pair) Close() error { return p.stop(nil) }

func (p *Pair) stop(joinErrs []error) error {
	if p.stopped {
		return nil
	}
	p.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	for i, s := range []side{p.a, p.b} {
		if joinErrs != nil && joinErrs[i] != nil {
			continue
		}
		err = errors.Join(err, s.m.Leave(ctx))
		if c := s.m.Cluster(); c != nil {
			c.Shutdown(false)
		}
	}
	for _, s := range []side{p.a, p.b} {
		err = errors.Join(err, s.k.Halt(ctx))
	}
	return err
}

// item is the i-th task of a run (bench's item: Meta0 = Meta1 = i).
func item(i int) task.Task { return task.Task{Type: taskType, Meta0: uint64(i), Meta1: uint64(i)} }

// Channel sends n tasks through the cluster channel from A to B.
func (p *Pair) Channel(n int, t Timer) error {
	if n <= 0 {
		return nil
	}
	p.gmk.reset(uint64(n))
	buf := make([]task.Task, emitBatch)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.ResetTimer()
	for i := 0; i < n; i += emitBatch {
		m := min(emitBatch, n-i)
		for j := range m {
			buf[j] = item(i + j)
		}
		if err := p.a.k.ChanEmitAll(ctx, p.chanID, buf[:m]); err != nil {
			return err
		}
	}
	if err := wait(ctx, p.gmk.done); err != nil {
		return fmt.Errorf("cluster channel: %d of %d received: %w", p.gmk.n.Load(), n, err)
	}
	t.StopTimer()
	return p.gmk.check("cluster channel consumer", n)
}

// Remote sends n tasks with protoactor's remote Send from A to B, one
// message each.
func (p *Pair) Remote(n int, t Timer) error {
	if n <= 0 {
		return nil
	}
	p.pa.reset(uint64(n))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	root := p.a.sys.Root
	t.ResetTimer()
	for i := range n {
		if i%1024 == 0 {
			for uint64(i)-p.pa.n.Load() > Inflight {
				time.Sleep(10 * time.Microsecond)
			}
		}
		x := item(i)
		tb := &wire.TaskBatch{Tasks: make([]byte, wire.RecordSize)}
		wire.PutTask(tb.Tasks, &x)
		root.Send(p.paPID, tb)
	}
	if err := wait(ctx, p.pa.done); err != nil {
		return fmt.Errorf("protoactor remote: %d of %d received: %w", p.pa.n.Load(), n, err)
	}
	t.StopTimer()
	return p.pa.check("protoactor remote actor", n)
}

func wait(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sink is the baseline's plain actor on B: it decodes each record and counts.
type sink struct{ c *counter }

// Receive implements actor.Actor.
func (s *sink) Receive(ctx actor.Context) {
	if tb, ok := ctx.Message().(*wire.TaskBatch); ok && len(tb.GetTasks()) >= wire.RecordSize {
		x := wire.ReadTask(tb.GetTasks())
		s.c.add(x.Meta1)
	}
}

type nopTimer struct{}

func (nopTimer) ResetTimer() {}
func (nopTimer) StopTimer()  {}
