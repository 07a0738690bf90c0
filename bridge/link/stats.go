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
// of tasks. The identities, at any time:
//
//	Out: Taken    = Sent + Dropped + Abandoned + Queued
//	In:  Received = Delivered + Dropped + Abandoned + Pending
//
// and across the two ends of one channel the producer's Sent minus the
// consumer's Received is what the ring holds. After a quiescent Stop, Queued,
// Pending and the ring are 0.
type Stats struct {
	Chan      string
	Dir       Dir
	Kernel    string // this end's kernel
	Peer      string // the other end's kernel
	Transport string // "mem", "shm"
	Down      bool   // the bridge disconnected
	Fault     string // In: why the pump stopped on a broken ring (a sequence gap, a corrupt slot); "" if it did not

	Taken     uint64 // Out: deliveries the relay took from the channel
	Sent      uint64 // Out: tasks published into the ring
	Received  uint64 // In: tasks taken out of the ring
	Delivered uint64 // In: tasks emitted into this kernel's channel
	Dropped   uint64 // routed to this kernel's sys.dropped: bridge down, channel closed, payload too large
	Abandoned uint64 // released at Stop or Close while the kernel halted: counted, never delivered
	Queued    uint64 // Out: in the outbox or staged, not yet published
	Pending   uint64 // In: taken out of the ring, not yet emitted

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
	if s.Dir == Out && s.Taken != s.Sent+s.Dropped+s.Abandoned+s.Queued {
		return fmt.Errorf("link: %s at %s: taken %d != sent %d + dropped %d + abandoned %d + queued %d",
			s.Chan, s.Kernel, s.Taken, s.Sent, s.Dropped, s.Abandoned, s.Queued)
	}
	if s.Dir == In && s.Received != s.Delivered+s.Dropped+s.Abandoned+s.Pending {
		return fmt.Errorf("link: %s at %s: received %d != delivered %d + dropped %d + abandoned %d + pending %d",
			s.Chan, s.Kernel, s.Received, s.Delivered, s.Dropped, s.Abandoned, s.Pending)
	}
	return nil
}

func (s Stats) String() string {
	if s.Dir == In {
		return fmt.Sprintf("%s %s←%s received=%d delivered=%d dropped=%d abandoned=%d pending=%d transfers=%d",
			s.Chan, s.Kernel, s.Peer, s.Received, s.Delivered, s.Dropped, s.Abandoned, s.Pending, s.Transfers)
	}
	return fmt.Sprintf("%s %s→%s taken=%d sent=%d dropped=%d abandoned=%d queued=%d transfers=%d pauses=%d",
		s.Chan, s.Kernel, s.Peer, s.Taken, s.Sent, s.Dropped, s.Abandoned, s.Queued, s.Transfers, s.Pauses)
}
