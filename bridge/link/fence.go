package link

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/gmkernel/gmk/kernel"
)

// Fence ties the deterministic lanes of the kernels at two ends of a bridge
// ([D1] across kernels; kernel.Fence has the protocol): their ticks run in
// lockstep, and a deterministic task one kernel emits on a bridge channel
// at tick T runs on the other at T+1, whatever the bridge's timing.
//
// The fenced channels are the bridge channels between a and b that carry a
// deterministic type; a kernel's marks carry, for each channel it sends,
// how many deliveries its relay has put into the outbox (the pump of the
// other end counts them in as they arrive). Both endpoints must be started
// and their kernels must have deterministic types and have run no
// deterministic task yet. The marks are handed over in process (each
// kernel's Mark calls the other's PeerMark), so both kernels live here: the
// CPU kernel and the simulated GPU kernel.
//
// The returned unfence unties both (a peer's reset, or its halt): each lane
// then runs on its own.
func Fence(a, b *Endpoint) (unfence func(), err error) {
	ab, ba := fencedLanes(a, b), fencedLanes(b, a)
	if err := a.k.SetFence(fenceOf(a, b, ab, ba)); err != nil {
		return nil, fmt.Errorf("link: fence %s–%s: %w", a.id, b.id, err)
	}
	if err := b.k.SetFence(fenceOf(b, a, ba, ab)); err != nil {
		a.k.Unfence()
		return nil, fmt.Errorf("link: fence %s–%s: %w", b.id, a.id, err)
	}
	return func() { a.k.Unfence(); b.k.Unfence() }, nil
}

// fencedLanes returns from's out-lanes of deterministic bridge channels that
// to receives, by channel name.
func fencedLanes(from, to *Endpoint) []*outLane {
	det := detTypes(from.k)
	var out []*outLane
	for _, l := range from.outs {
		if l.ch.To == to.id && det[l.ch.Spec.Type] {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(x, y *outLane) int { return cmp.Compare(x.ch.Spec.Name, y.ch.Spec.Name) })
	return out
}

// fenceOf is e's side of the fence to peer: it sends on outs, receives on
// the peer's ins (the channels of the same names here).
func fenceOf(e, peer *Endpoint, outs, ins []*outLane) kernel.Fence {
	f := kernel.Fence{}
	for _, l := range outs {
		f.Out = append(f.Out, l.id)
	}
	for _, l := range ins {
		for _, in := range e.ins {
			if in.ch.Spec.Name == l.ch.Spec.Name {
				f.In = append(f.In, in.id)
			}
		}
	}
	flushed := make([]uint64, len(outs)) // detBoxed at the last flush request (Mark runs on the lane's runner only)
	f.Mark = func(done, tick uint64) {
		sent := make([]uint64, len(outs))
		for i, l := range outs {
			sent[i] = l.detBoxed
			if sent[i] == flushed[i] {
				continue // nothing new on this lane: no sender to wake
			}
			flushed[i] = sent[i]
			l.flushReq.Store(true) // the tick's deliveries are in: no batch interval
			if l.sleeping.Load() {
				l.kick()
			}
		}
		peer.k.PeerMark(done, tick, sent)
	}
	return f
}

// detTypes returns k's deterministic types.
func detTypes(k *kernel.Kernel) map[uint32]bool {
	det := map[uint32]bool{}
	for _, ti := range k.Config().Types {
		det[ti.ID] = ti.Deterministic
	}
	return det
}
