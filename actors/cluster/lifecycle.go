package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"go.uber.org/zap"
)

// Start makes the member live in the started cluster member c: it spawns a
// sender actor per channel, starts the consumer pumps and follows c's
// topology. The kernel must be booted with Module.
func (m *Member) Start(c *cluster.Cluster) error {
	if m.k.Load() == nil {
		return ErrNotBooted
	}
	if !m.state.CompareAndSwap(memberNew, memberStarted) {
		return ErrStarted
	}
	m.sys, m.c, m.stream = c.ActorSystem, c, c.ActorSystem.ID
	for _, cs := range m.chans {
		pid, err := m.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return newSender(cs) }),
			"gmk-cluster-"+cs.cfg.Name)
		if err != nil {
			m.state.Store(memberLeft)
			close(m.stop)
			m.stopSenders()
			m.wg.Wait()
			return err
		}
		cs.sender.Store(pid)
		cs.senderActive.Store(true)
		if cs.p != nil {
			m.wg.Add(1)
			go cs.p.run()
		}
	}
	m.topoSub = m.sys.EventStream.Subscribe(func(ev any) {
		if t, ok := ev.(*cluster.ClusterTopology); ok {
			m.toSenders(t)
			m.noteTopology(t.GetMembers())
		}
	})
	m.seedMembers(c)
	m.wg.Add(1)
	go m.ticker()
	m.log.Info("cluster member started", zap.String("stream", m.stream), zap.Int("channels", len(m.chans)))
	return nil
}

// toSenders sends msg to every sender actor.
func (m *Member) toSenders(msg any) {
	for _, cs := range m.chans {
		if pid := cs.sender.Load(); pid != nil {
			m.sys.Root.Send(pid, msg)
		}
	}
}

// ticker drives retransmission and re-resolution (Config.Tick).
func (m *Member) ticker() {
	defer m.wg.Done()
	t := time.NewTicker(m.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			m.toSenders(tickMsg{})
		case <-m.stop:
			return
		}
	}
}

// Leave detaches the member: it waits (until ctx is done) for its local
// channels to drain and every relayed task to be acknowledged, then stops
// its actors and goroutines and resumes the relays' subscriptions, so that
// the kernel can halt. Tasks relayed afterwards are counted as abandoned
// (Stats.Abandoned; Relayed − Acked were relayed and never acknowledged).
// On a consumer member, tasks received and not yet acknowledged are not
// acknowledged any more: their producers send them again to the channel's
// next activation. Leave does not stop the protoactor cluster member (the
// caller's) nor the kernel: call Leave, then c.Shutdown, then halt the
// kernel. It returns an error wrapping ctx's when tasks were left
// unacknowledged.
func (m *Member) Leave(ctx context.Context) error {
	if !m.state.CompareAndSwap(memberStarted, memberLeaving) {
		return nil
	}
	err := m.drain(ctx)
	m.state.Store(memberLeft) // the relay abandons what comes now
	m.sys.EventStream.Unsubscribe(m.topoSub)
	close(m.stop)
	m.stopSenders()
	m.wg.Wait()
	for _, cs := range m.chans { // let the kernel drain: the relay counts the rest as abandoned
		cs.out.resumeIfRoom(^uint64(0), cs.pause)
	}
	m.log.Info("cluster member left", zap.String("stream", m.stream))
	return err
}

// drain waits until the relay took every task emitted on the local
// channels (the channel's emit count — exact once the workers flushed their
// counters, which they do when idle — equals the stream's length) and every
// one was acknowledged.
func (m *Member) drain(ctx context.Context) error {
	k := m.k.Load()
	for {
		busy := false
		for _, cs := range m.chans {
			st, err := k.ChanStats(cs.outID)
			if err == nil && st.Emits != cs.out.written.Load() || cs.out.unacked() > 0 {
				busy = true
			}
		}
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gmk/cluster: leave: tasks not acknowledged: %w", ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}

func (m *Member) stopSenders() {
	for _, cs := range m.chans {
		if pid := cs.sender.Load(); pid != nil && cs.senderActive.Swap(false) {
			_ = m.sys.Root.StopFuture(pid).Wait()
		}
	}
}
