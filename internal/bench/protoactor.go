package bench

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/router"
	"github.com/gmkernel/gmk/kernel/task"
)

// The protoactor-go baselines: a real actor.NewActorSystem per run, actors
// spawned from props with the default mailbox (unbounded) and dispatcher
// (goroutine per active mailbox, throughput 300), producers sending with
// system.Root.Send.
//
// Messages are *task.Task: one 48-byte allocation per item at the producer.
// That is idiomatic (protoactor messages are pointers to structs, as its
// protobuf messages are) and the fastest choice: a task.Task value would be
// boxed into an interface (the same allocation) at every hop, whereas a pointer
// is forwarded as it is. A pipeline stage owns the task while it handles it,
// adds 1 to Meta0 in place and passes the pointer on (the send publishes the
// write to the next stage); fan-out subscribers share one pointer read-only.
//
// Setup (system, spawns) and teardown (stopping every actor with StopFuture and
// waiting, then system.Shutdown) are outside the timed region, and teardown
// leaves no actor goroutine behind.

func init() {
	Register(CaseP2P, implOf(PeerProtoactor, paP2P))
	Register(CasePipeline3, implOf(PeerProtoactor, paPipeline3))
	Register(CasePipeEmit, implOf(PeerProtoactor, paPipeline3))
	Register(CaseFanout3, implOf(PeerProtoactor, paFanout3))
	Register(CaseMPMC2x2, implOf(PeerProtoactor, paMPMC2x2))
}

// discardLogger silences protoactor, which logs through log/slog.
func discardLogger(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }

// paRun is one run of a protoactor scenario: its system, the actors to stop at
// the end, in order, and the completion signal of its sinks.
type paRun struct {
	system *actor.ActorSystem
	pids   []*actor.PID
	left   atomic.Int64  // deliveries still expected; every sink decrements it
	done   chan struct{} // closed by the sink whose decrement brings left to 0
}

func newPARun(deliveries int) *paRun {
	r := &paRun{
		system: actor.NewActorSystem(actor.WithLoggerFactory(discardLogger)),
		done:   make(chan struct{}),
	}
	r.left.Store(int64(deliveries))
	return r
}

// spawn starts a and remembers it for teardown.
func (r *paRun) spawn(a actor.Actor) *actor.PID {
	pid := r.system.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return a }))
	r.pids = append(r.pids, pid)
	return pid
}

// sink spawns a counting actor; bump is its own transform of Meta0 and offset
// the total transform it expects (3 at the end of pipeline3).
func (r *paRun) sink(bump, offset uint64) (*paSink, *actor.PID) {
	s := &paSink{bump: bump, offset: offset, run: r}
	return s, r.spawn(s)
}

// stop stops every actor in spawn order, waits until each has terminated, and
// shuts the system down. It returns an error if an actor did not stop.
//
// A router group watches its routees, so the routees stop before it: the
// group then receives their Terminated messages itself, whereas stopped first it
// would leave them to the dead-letter process, whose log throttle starts a
// goroutine that outlives the run by a second.
func (r *paRun) stop() error {
	var err error
	for _, pid := range r.pids {
		if e := r.system.Root.StopFuture(pid).Wait(); e != nil && err == nil {
			err = fmt.Errorf("protoactor: stopping %s: %w", pid.Id, e)
		}
	}
	r.system.Shutdown()
	return err
}

// paSink counts the *task.Task messages it receives. got is written only by
// Receive, which protoactor runs one message at a time, and read by the
// benchmark goroutine after run.done is closed: each sink's last add precedes
// its left.Add, every left.Add precedes the one that reaches 0 (atomics are
// sequentially consistent) and that one precedes close(done).
type paSink struct {
	bump, offset uint64
	run          *paRun
	got          tally
}

// Receive implements actor.Actor. It ignores lifecycle messages (*actor.Started …).
func (s *paSink) Receive(ctx actor.Context) {
	m, ok := ctx.Message().(*task.Task)
	if !ok {
		return
	}
	v := *m // a copy: fan-out subscribers share m and must not write it
	v.Meta0 += s.bump
	s.got.add(v, s.offset)
	if s.run.left.Add(-1) == 0 {
		close(s.run.done)
	}
}

// paStage is a pipeline stage: Meta0++ in place, then Send to next.
type paStage struct{ next *actor.PID }

// Receive implements actor.Actor.
func (s *paStage) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*task.Task); ok {
		m.Meta0++
		ctx.Send(s.next, m)
	}
}

// finish waits until every delivery arrived, stops the timer and tears the
// system down.
func (r *paRun) finish(t timer) error {
	<-r.done
	t.StopTimer()
	return r.stop()
}

// paP2P: Root.Send of n tasks to one actor.
func paP2P(n int, t timer) error {
	r := newPARun(n)
	sink, pid := r.sink(0, 0)
	t.ResetTimer()
	for i := range n {
		m := new(task.Task)
		*m = item(i)
		r.system.Root.Send(pid, m)
	}
	if err := r.finish(t); err != nil {
		return err
	}
	return sink.got.check("protoactor p2p consumer", n)
}

// paPipeline3: Root.Send to stage1, which Sends to stage2, which Sends to
// stage3; stage3 does its Meta0++ and counts.
func paPipeline3(n int, t timer) error {
	r := newPARun(n)
	sink, stage3 := r.sink(1, 3)
	stage2 := r.spawn(&paStage{next: stage3})
	stage1 := r.spawn(&paStage{next: stage2})
	t.ResetTimer()
	for i := range n {
		m := new(task.Task)
		*m = item(i)
		r.system.Root.Send(stage1, m)
	}
	if err := r.finish(t); err != nil {
		return err
	}
	return sink.got.check("protoactor pipeline3 stage3", n)
}

// paFanout3: each task is sent, as one shared pointer, to 3 subscriber actors.
func paFanout3(n int, t timer) error {
	r := newPARun(3 * n)
	var sinks [3]*paSink
	var pids [3]*actor.PID
	for i := range sinks {
		sinks[i], pids[i] = r.sink(0, 0)
	}
	t.ResetTimer()
	for i := range n {
		m := new(task.Task)
		*m = item(i)
		for _, pid := range pids {
			r.system.Root.Send(pid, m)
		}
	}
	if err := r.finish(t); err != nil {
		return err
	}
	for _, s := range sinks {
		if err := s.got.check("protoactor fanout3 subscriber", n); err != nil {
			return err
		}
	}
	return nil
}

// paMPMC2x2: 2 producer goroutines Root.Send to a round-robin router group
// (router.NewRoundRobinGroup) over 2 consumer actors. The group's router
// process forwards each message straight to a routee's mailbox, picked by an
// atomic counter, so the router is not an extra hop.
func paMPMC2x2(n int, t timer) error {
	r := newPARun(n)
	a, pidA := r.sink(0, 0)
	b, pidB := r.sink(0, 0)
	group := r.system.Root.Spawn(router.NewRoundRobinGroup(pidA, pidB))
	r.pids = append(r.pids, group) // stopped after its routees
	start := make(chan struct{})
	var producers sync.WaitGroup
	for p := range 2 {
		lo, hi := p*n/2, (p+1)*n/2
		producers.Go(func() {
			<-start
			for i := lo; i < hi; i++ {
				m := new(task.Task)
				*m = item(i)
				r.system.Root.Send(group, m)
			}
		})
	}
	t.ResetTimer()
	close(start)
	producers.Wait()
	if err := r.finish(t); err != nil {
		return err
	}
	got := a.got
	got.merge(b.got)
	return got.check("protoactor mpmc2x2 consumers", n)
}
