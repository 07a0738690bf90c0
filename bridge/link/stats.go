package link

import "fmt"

// Dir is a bridge channel's direction as seen from one kernel.
type Dir uint8

// Directions.
const (
	Out Dir = iota // this kernel produces: relay and sender
	In             // this kernel consumes: pump
)

func (d Dir) String() string {
	if d == In {
		return "in"
	}
	return "out"
}

// Stats counts one bridge channel at one kernel's end ([O1]). Every count is
// of tasks, and cumulative over the endpoint's life, across reconnects. The
// identities, at any time once the endpoint stopped (approximately while it
// runs: the counters are read one by one):
//
//	Out: Taken + Redelivered = Sent + Dropped + Abandoned + Queued
//	Out: Sent - Redelivered  = Acked + Unacked + Lapsed   (a wire with an Ack cell)
//	In:  Received = Delivered + Dropped + Abandoned + Pending + Lost
//
// and across the ends of one channel — the producer's ends and the
// consumer's, one per kernel incarnation — the producers' Sent minus the
// consumers' Received minus the Discarded of either end is what the
// current ring holds. After a quiescent Stop, Queued, Pending, that ring and
// (with the peer up) Unacked are 0. Failed deliveries were never taken:
// the kernel counts them where they went (sys.error, sys.dropped).
type Stats struct {
	Chan       string
	Dir        Dir
	Kernel     string // this end's kernel
	Peer       string // the other end's kernel
	Transport  string // "mem", "shm"
	Down       bool   // the bridge disconnected and has not reconnected
	Fault      string // In: why the pump stopped on a broken ring (a sequence gap, a corrupt slot); "" if it did not
	Reconnects uint64 // times the bridge was reconnected to a rebooted peer (Reconnect)
	Acks       bool   // the wire has an Ack cell: the Acked … Lapsed counts below apply

	Taken     uint64 // Out: deliveries the relay took from the channel
	Failed    uint64 // Out: deliveries that ended without being taken: the relay failed them (a payload over Config.MaxPayload: ALLOC_FAIL; a stale one) or the kernel did before the relay ran (a poisoned type, the channel closed)
	Sent      uint64 // Out: tasks published into the ring (re-sends included)
	Received  uint64 // In: tasks taken out of the ring
	Delivered uint64 // In: tasks emitted into this kernel's channel
	Dropped   uint64 // routed to this kernel's sys.dropped: bridge down, channel closed, payload too large
	Abandoned uint64 // released at Stop or Close while the kernel halted, or (Out, no Ack cell) staged in a batch the bridge went down under: counted, never delivered
	Queued    uint64 // Out: in the outbox, staged or held for the reconnect, never published yet
	Staged    uint64 // Out: of Queued, the tasks in the sender's open batch (published when it fills or its interval passes)
	Pending   uint64 // In: taken out of the ring, not yet emitted

	// Acknowledgements ([B4], [F5]): on a wire with an Ack cell the
	// consumer acknowledges what it handled, and the producer keeps every
	// task it published until then, to send it again after a reconnect.
	Redelivered uint64 // Out: publications of a task published in an earlier epoch (it carries task.Redelivered)
	Acked       uint64 // Out: tasks the consumer acknowledged as handled; In: tasks this end acknowledged
	Unacked     uint64 // Out: tasks published and not acknowledged yet (held for redelivery)
	Lapsed      uint64 // Out, lossy channels: tasks unacknowledged at a reconnect, routed to sys.dropped instead of re-sent
	Discarded   uint64 // tasks left in a ring a reconnect threw away (Out: the outgoing ring; In: the incoming one)
	Lost        uint64 // In: tasks a kernel took out of the ring and died with, unreported (a killed GPU daemon; its host fills this in)

	Transfers uint64 // ring publications (Out) or releases (In): one per batch ([B2])
	Pauses    uint64 // Out: times the relay paused its subscription (backpressure)
}

// TransfersPerTask returns transfers per task moved (0 before any).
func (s Stats) TransfersPerTask() float64 {
	n := s.Sent
	if s.Dir == In {
		n = s.Received
	}
	if n == 0 {
		return 0
	}
	return float64(s.Transfers) / float64(n)
}

// Check reports a broken identity of s (see Stats).
func (s Stats) Check() error {
	if s.Dir == Out && s.Taken+s.Redelivered != s.Sent+s.Dropped+s.Abandoned+s.Queued {
		return fmt.Errorf("link: %s at %s: taken %d + redelivered %d != sent %d + dropped %d + abandoned %d + queued %d",
			s.Chan, s.Kernel, s.Taken, s.Redelivered, s.Sent, s.Dropped, s.Abandoned, s.Queued)
	}
	if s.Dir == Out && s.Acks && s.Sent-s.Redelivered != s.Acked+s.Unacked+s.Lapsed {
		return fmt.Errorf("link: %s at %s: sent %d - redelivered %d != acked %d + unacked %d + lapsed %d",
			s.Chan, s.Kernel, s.Sent, s.Redelivered, s.Acked, s.Unacked, s.Lapsed)
	}
	if s.Dir == In && s.Received != s.Delivered+s.Dropped+s.Abandoned+s.Pending+s.Lost {
		return fmt.Errorf("link: %s at %s: received %d != delivered %d + dropped %d + abandoned %d + pending %d + lost %d",
			s.Chan, s.Kernel, s.Received, s.Delivered, s.Dropped, s.Abandoned, s.Pending, s.Lost)
	}
	return nil
}

func (s Stats) String() string {
	if s.Dir == In {
		return fmt.Sprintf("%s %s←%s received=%d delivered=%d dropped=%d abandoned=%d pending=%d acked=%d discarded=%d lost=%d transfers=%d reconnects=%d",
			s.Chan, s.Kernel, s.Peer, s.Received, s.Delivered, s.Dropped, s.Abandoned, s.Pending, s.Acked, s.Discarded, s.Lost, s.Transfers, s.Reconnects)
	}
	return fmt.Sprintf("%s %s→%s taken=%d sent=%d redelivered=%d dropped=%d abandoned=%d queued=%d acked=%d unacked=%d lapsed=%d discarded=%d failed=%d transfers=%d pauses=%d reconnects=%d",
		s.Chan, s.Kernel, s.Peer, s.Taken, s.Sent, s.Redelivered, s.Dropped, s.Abandoned, s.Queued, s.Acked, s.Unacked, s.Lapsed, s.Discarded, s.Failed, s.Transfers, s.Pauses, s.Reconnects)
}
