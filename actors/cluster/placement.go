package cluster

import (
	"slices"

	"github.com/asynkron/protoactor-go/cluster"

	"github.com/gmkernel/gmk/actors/cluster/clusterview"
	"github.com/gmkernel/gmk/kernel"
)

// Placement reports where the member's cluster channels are, as far as it
// knows: its address, the members in the topology it saw last, and for each
// channel whether it produces and can consume it, the member whose grain
// activation its producer stream sends to, and — when that is this member —
// the members whose streams the grain here received. It is for the control
// plane (the admin endpoint): it allocates, and it reads only state the
// member publishes for it, so it never waits for a sender, the pump or a
// worker. Safe for concurrent use, before Start, during and after Leave.
//
// What it reads, and who publishes it: a sender actor stores the activation
// it streams to when it resolves a new one and clears it when that
// activation's member leaves the topology (chanState.consumer); the topology
// subscriber stores the members of each topology event (Member.members; Start
// seeds it); the pump stores a copy of its stream list when a stream appears
// and each stream's producer address and accepted count as batches arrive
// (inbound.pub, inStream.from, inStream.accepted). None of it is on the
// per-task path: the sender's stores are per resolution, the pump's per
// batch.
func (m *Member) Placement() clusterview.Placement {
	var p clusterview.Placement
	k := m.k.Load()
	if k != nil {
		p.Kernel = k.ID()
	}
	if m.started() {
		p.Self = m.sys.Address()
		if ms := m.members.Load(); ms != nil {
			p.Members = slices.Clone(*ms)
		}
	}
	produced := declaredProducers(k)
	for _, cs := range m.chans {
		p.Channels = append(p.Channels, cs.placement(p, produced[cs.cfg.Name]))
	}
	return p
}

// started reports whether Start set sys, c and stream: it stores the sender
// actors' PIDs after them (atomic stores), so a loaded PID publishes them.
func (m *Member) started() bool {
	return len(m.chans) > 0 && m.chans[0].sender.Load() != nil
}

// declaredProducers returns the names of the channels that a module of k
// declares Produce on (k nil: none).
func declaredProducers(k *kernel.Kernel) map[string]bool {
	out := map[string]bool{}
	if k == nil {
		return out
	}
	for _, mod := range k.Modules() {
		for _, d := range mod.Channels {
			if d.Dir == kernel.Produce {
				out[d.Name] = true
			}
		}
	}
	return out
}

// placement is the channel's row of Placement p (Self and Members set).
func (cs *chanState) placement(p clusterview.Placement, declared bool) clusterview.Channel {
	c := clusterview.Channel{Name: cs.cfg.Name, Consumes: cs.cfg.Consume,
		Relayed: cs.out.written.Load(), Acked: cs.out.acked.Load()}
	c.Produces = declared || c.Relayed > 0
	if c.Consumes {
		c.Delivery = DeliveryName(cs.cfg.Name)
	}
	if pid := cs.consumer.Load(); pid != nil && cs.m.state.Load() < memberLeft {
		c.Consumer = pid.Address
	}
	if in := cs.inLoad(); in != nil && c.Consumer != "" && c.Consumer == p.Self {
		c.Producers = in.producers(p.Members)
	}
	return c
}

// producers lists the members whose streams the consumer accepted tasks
// from, that are in members (a producer that left is not listed), one row
// per member (a member's streams from earlier runs are summed).
func (in *inbound) producers(members []string) []clusterview.Producer {
	list := in.pub.Load()
	if list == nil {
		return nil
	}
	var out []clusterview.Producer
	for _, s := range *list {
		from := s.from.Load()
		if from == nil || !slices.Contains(members, *from) {
			continue
		}
		if i := slices.IndexFunc(out, func(p clusterview.Producer) bool { return p.Member == *from }); i >= 0 {
			out[i].Accepted += s.accepted.Load()
		} else {
			out = append(out, clusterview.Producer{Member: *from, Accepted: s.accepted.Load()})
		}
	}
	return out
}

// noteFrom records the address of the stream's producer member (the pump,
// per batch): a new string is stored only when it changed.
func (s *inStream) noteFrom(addr string) {
	if f := s.from.Load(); f == nil || *f != addr {
		s.from.Store(&addr)
	}
}

// noteTopology stores the addresses of a topology's members (the topology
// subscriber, on the event stream's publisher).
func (m *Member) noteTopology(ms []*cluster.Member) { m.members.Store(addresses(ms)) }

// seedMembers stores c's members unless a topology event came first (Start,
// once subscribed: an event after the subscription is at least as recent).
func (m *Member) seedMembers(c *cluster.Cluster) {
	m.members.CompareAndSwap(nil, addresses(c.MemberList.Members().Members()))
}

// addresses returns the members' addresses, sorted.
func addresses(ms []*cluster.Member) *[]string {
	addrs := make([]string, 0, len(ms))
	for _, x := range ms {
		addrs = append(addrs, x.Address())
	}
	slices.Sort(addrs)
	return &addrs
}
