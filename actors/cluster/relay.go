package cluster

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/alloc"
	"github.com/gmkernel/gmk/kernel/task"
)

// init is the member module's Init: it finds the channels the declarations
// opened, fills the table the handler looks channels up in, and keeps the
// kernel. It runs before the kernel's workers start (kernel.Boot) or before
// any cluster traffic (actors.WithModules).
func (m *Member) init(c *kernel.Ctx) error {
	k := c.Kernel()
	maxID := kernel.ChanID(0)
	for _, cs := range m.chans {
		id, err := k.Chan(cs.cfg.Name)
		if err != nil {
			return err
		}
		cs.outID, maxID = id, max(maxID, id)
		if cs.p == nil {
			continue
		}
		if cs.inID, err = k.Chan(DeliveryName(cs.cfg.Name)); err != nil {
			return err
		}
		spec, err := k.ChanSpec(cs.inID)
		if err != nil {
			return err
		}
		if st, _ := k.ChanStats(cs.inID); st.Subscribers == 0 {
			return fmt.Errorf("gmk/cluster: channel %s: no consumer module (wrap it with Member.Consumer)", cs.cfg.Name)
		}
		cs.p.setKernel(k, spec.Slots, k.Config().LQCap)
		maxID = max(maxID, cs.inID)
	}
	tab := make([]*chanState, maxID+1)
	for _, cs := range m.chans {
		tab[cs.outID] = cs
		if cs.p != nil {
			tab[cs.inID] = cs
		}
	}
	m.tab.Store(&tab)
	m.k.Store(k)
	return nil
}

// handle is the member module's catch-all handler. On a cluster channel's
// local end it is the relay: it copies the delivery into the producer stream
// and returns OK at once (it never blocks, fails or yields, so deliveries
// reach it in channel order); when the stream's window is full it pauses its
// own subscription instead of refusing. On a delivery channel it is the
// error handler: the task's handler failed for good, and it is acknowledged
// as finished.
func (m *Member) handle(c *kernel.Ctx) kernel.Status {
	t := c.Task()
	cs := m.lookup(t.ChannelID())
	switch {
	case cs == nil:
		return kernel.Retry // only before Init published the table
	case t.ChannelID() == cs.inID:
		cs.in.done(t.Seq)
		m.ctr.failed.Add(1)
		m.log.Warn("cluster channel task failed", zap.String("channel", cs.cfg.Name),
			zap.Stringer("status", task.Status(int16(t.Aux))), zap.Uint64("meta0", t.Meta0))
		return kernel.OK
	case m.state.Load() == memberLeft:
		m.ctr.abandoned.Add(1)
		return kernel.OK
	}
	_, unacked := cs.out.put(t, c.Payload())
	cs.kick()
	if unacked >= m.window && !cs.out.pauseHint.Load() {
		cs.out.pauseIfFull(m.window, cs.pause)
	}
	return kernel.OK
}

// kick tells the sender actor that tasks are ready, unless a kick is on its
// way already (the sender clears kicked before it reads the stream).
func (cs *chanState) kick() {
	if cs.kicked.Load() || !cs.kicked.CompareAndSwap(false, true) {
		return
	}
	if pid := cs.sender.Load(); pid != nil && cs.senderActive.Load() {
		cs.m.sys.Root.Send(pid, kickMsg{})
		return
	}
	cs.kicked.Store(false) // not started: Start's first flush picks the tasks up
}

// pause pauses or resumes the relay's subscription of the local channel.
func (cs *chanState) pause(p bool) {
	if k := cs.m.k.Load(); k != nil {
		_ = k.ChanPause(cs.outID, 0, p)
	}
}

// rejects returns the check of a received task the kernel could not take:
// another type than the channel's, a tenant the kernel lacks, a payload
// larger than a block.
func rejects(typ uint32, tenants int) func(*task.Task, int) bool {
	return func(t *task.Task, n int) bool {
		return t.Type != typ || int(t.Tenant) >= tenants || n > alloc.MaxBlock
	}
}
