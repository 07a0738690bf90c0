package cluster

import "sync/atomic"

// Stats are a member's counters ([X5], [O1]). Producer side: Relayed,
// Acked, Sent, Redelivered, Batches, Rewinds, Rewires, Suspensions,
// Abandoned. Consumer side: Activations, Received, Duplicates, Gaps,
// Delivered, Handled, Failed, Rejected.
type Stats struct {
	Relayed     uint64 // tasks the relays took from the local channels
	Acked       uint64 // of those, acknowledged by a consumer
	Sent        uint64 // tasks sent for the first time
	Redelivered uint64 // tasks sent again, flagged task.Redelivered (a lost member, a rewind, a timeout)
	Batches     uint64 // batches sent
	Rewinds     uint64 // rewind requests received (a consumer saw a gap)
	Rewires     uint64 // times a stream moved to a new grain activation
	Suspensions uint64 // times a local channel showed CHAN_CLOSED after its consumer's member was lost
	Abandoned   uint64 // tasks relayed after Leave (not sent)

	Activations uint64 // grain activations on this member
	Received    uint64 // tasks accepted from producer streams
	Duplicates  uint64 // tasks received again and skipped (accepted here before)
	Gaps        uint64 // batches dropped because an earlier one was missing
	Delivered   uint64 // tasks emitted on the delivery channels
	Handled     uint64 // tasks the consumers finished (the acknowledged low-water mark)
	Failed      uint64 // tasks whose handler failed for good (in Handled: acknowledged)
	Rejected    uint64 // tasks the kernel could not take (type, tenant, size; acknowledged)
}

// counters are the atomics behind Stats that the streams do not hold.
type counters struct {
	sent, redelivered, batches, rewinds, rewires, suspensions, abandoned atomic.Uint64
	activations, failed                                                  atomic.Uint64
}

// Stats returns the member's counters (a consistent snapshot of none of
// them in particular: each is read once).
func (m *Member) Stats() Stats {
	s := Stats{Sent: m.ctr.sent.Load(), Redelivered: m.ctr.redelivered.Load(), Batches: m.ctr.batches.Load(),
		Rewinds: m.ctr.rewinds.Load(), Rewires: m.ctr.rewires.Load(), Suspensions: m.ctr.suspensions.Load(),
		Abandoned: m.ctr.abandoned.Load(), Activations: m.ctr.activations.Load(), Failed: m.ctr.failed.Load()}
	for _, cs := range m.chans {
		s.Relayed += cs.out.written.Load()
		s.Acked += cs.out.acked.Load()
		if in := cs.inLoad(); in != nil {
			s.Received += in.st.received.Load()
			s.Duplicates += in.st.duplicates.Load()
			s.Gaps += in.st.gaps.Load()
			s.Delivered += in.st.delivered.Load()
			s.Handled += in.st.handled.Load()
			s.Rejected += in.st.rejected.Load()
		}
	}
	return s
}

// inLoad returns the channel's inbound once the module's Init published it
// (Init sets in before it stores the kernel).
func (cs *chanState) inLoad() *inbound {
	if cs.m.k.Load() == nil {
		return nil
	}
	return cs.in
}
