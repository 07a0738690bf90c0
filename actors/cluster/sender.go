package cluster

import (
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"go.uber.org/zap"

	"github.com/gmkernel/gmk/actors/cluster/clusterpb"
	"github.com/gmkernel/gmk/kernel"
)

// Messages of a sender actor from its own member (never remote).
type (
	kickMsg  struct{} // the relay put tasks into the stream
	tickMsg  struct{} // Config.Tick passed
	resolved struct { // a resolution of the channel's grain finished
		gen uint64
		pid *actor.PID // nil: no consumer member, or the request failed
	}
)

// testHookSuspended, when a test sets it, runs right after a sender
// suspended its local channel, before it resolves the grain again.
var testHookSuspended atomic.Pointer[func(k *kernel.Kernel, id kernel.ChanID)]

// rtoTicks is how many ticks a stream may have tasks in flight without any
// acknowledgement before it sends them again (to a freshly resolved grain).
const rtoTicks = 10

// sender is the actor that owns a producer stream's sending side: it
// resolves the channel's grain, sends the stream's batches to it, takes its
// acknowledgements, and re-wires when the grain's member is lost.
type sender struct {
	cs *chanState
	o  *outbound

	pid       *actor.PID // the grain activation batches go to; nil: none yet
	gen       uint64     // resolution generation; results of older ones are ignored
	resolving bool
	suspended bool // the local channel shows CHAN_CLOSED: the grain's member was lost
	idle      int  // ticks with tasks in flight and no acknowledgement
}

func newSender(cs *chanState) *sender { return &sender{cs: cs, o: cs.out} }

// Receive implements actor.Actor.
func (s *sender) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case kickMsg:
		s.cs.kicked.Store(false) // before reading the stream: a later put kicks again
		s.flush(ctx)
	case *clusterpb.Ack:
		s.onAck(ctx, msg)
	case tickMsg:
		s.onTick(ctx)
	case *cluster.ClusterTopology:
		s.onTopology(ctx, msg)
	case resolved:
		s.onResolved(ctx, msg)
	case *actor.Started:
		s.resolve(ctx)
	}
}

// flush sends what the limits allow to the current grain.
func (s *sender) flush(ctx actor.Context) {
	m := s.cs.m
	for s.pid != nil {
		b, resent := s.o.next(m.lim, s.cs.cfg.Name, m.stream)
		if b == nil {
			return
		}
		ctx.Request(s.pid, b) // the sender is where acks go
		n := len(b.GetTasks()) / recordBytes
		m.ctr.batches.Add(1)
		m.ctr.sent.Add(uint64(n - resent))
		m.ctr.redelivered.Add(uint64(resent))
	}
}

func (s *sender) onAck(ctx actor.Context, a *clusterpb.Ack) {
	if a.GetStream() != s.cs.m.stream {
		return
	}
	if a.GetRewind() {
		s.o.rewind(a.GetSeq())
		s.cs.m.ctr.rewinds.Add(1)
	} else if s.o.ack(a.GetSeq()) {
		s.idle = 0
	}
	s.o.resumeIfRoom(s.cs.m.window/2, s.cs.pause)
	s.flush(ctx)
}

func (s *sender) onTick(ctx actor.Context) {
	s.o.resumeIfRoom(s.cs.m.window/2, s.cs.pause)
	if s.pid == nil {
		if !s.resolving {
			s.resolve(ctx)
		}
		return
	}
	if s.o.sent > s.o.acked.Load() {
		if s.idle++; s.idle >= rtoTicks {
			s.idle = 0
			s.o.rewind(0) // send everything unacknowledged again
			s.resolve(ctx)
		}
	} else {
		s.idle = 0
	}
	s.flush(ctx)
}

// onTopology re-resolves the grain after every topology change (a joining
// member can take it over); when the grain's member left, the local channel
// shows CHAN_CLOSED to its producers until the grain is active elsewhere.
func (s *sender) onTopology(ctx actor.Context, t *cluster.ClusterTopology) {
	if s.pid != nil && left(t, s.pid.Address) {
		if k := s.cs.m.k.Load(); k != nil && !s.suspended {
			_ = k.ChanSuspend(s.cs.outID)
			s.suspended = true
			s.cs.m.ctr.suspensions.Add(1)
			if h := testHookSuspended.Load(); h != nil {
				(*h)(k, s.cs.outID)
			}
		}
		s.cs.m.log.Info("cluster channel consumer lost", zap.String("channel", s.cs.cfg.Name),
			zap.String("member", s.pid.Address))
		s.pid = nil
		s.cs.consumer.Store(nil)
		s.o.rewind(0)
	}
	s.resolve(ctx)
}

func left(t *cluster.ClusterTopology, addr string) bool {
	for _, m := range t.GetLeft() {
		if m.Address() == addr {
			return true
		}
	}
	return false
}

// resolve asks the cluster for the grain's activation on a goroutine of its
// own (cluster.Get waits for the owner's answer) and sends the answer back.
func (s *sender) resolve(ctx actor.Context) {
	m := s.cs.m
	s.gen++
	s.resolving = true
	gen, self, name := s.gen, ctx.Self(), s.cs.cfg.Name
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		pid := m.c.Get(name, Kind(name))
		m.sys.Root.Send(self, resolved{gen: gen, pid: pid})
	}()
}

func (s *sender) onResolved(ctx actor.Context, r resolved) {
	if r.gen != s.gen {
		return
	}
	s.resolving = false
	if r.pid == nil {
		return // no consumer member yet: the next tick tries again
	}
	if s.pid == nil || !s.pid.Equal(r.pid) {
		s.o.rewind(0) // the new activation gets everything unacknowledged
		s.pid = r.pid
		s.cs.consumer.Store(r.pid)
		s.cs.m.ctr.rewires.Add(1)
		s.cs.m.log.Info("cluster channel consumer resolved", zap.String("channel", s.cs.cfg.Name),
			zap.String("pid", r.pid.String()))
	}
	if s.suspended {
		if k := s.cs.m.k.Load(); k != nil {
			_ = k.ChanResume(s.cs.outID)
		}
		s.suspended = false
	}
	s.flush(ctx)
}
