package daemon

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/daemon/daemonpb"
)

// The data path's memory: the bridge regions and the status page the host
// shares with the daemon, and what the rings tell of a daemon that died.

// NewBridge implements gpu.Bridger: a shared-memory region (bridge.NewShm)
// that the daemon maps, and an acknowledgement cell in the status page.
// The region is both ends: Boot hands its memfd to the daemon.
func (b *Backend) NewBridge(c bridge.Config) (gpu.Bridge, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.page == nil {
		p, err := newStatusPage()
		if err != nil {
			return gpu.Bridge{}, err
		}
		b.page = p
	}
	if b.used == maxCells {
		return gpu.Bridge{}, fmt.Errorf("daemon: more than %d bridge regions", maxCells)
	}
	br, err := gpu.ShmBridge(c, b.page.cell(b.used))
	if err == nil {
		b.used++
	}
	return br, err
}

// RenewBridge implements gpu.Bridger: the region is formatted for the next
// epoch in place (bridge.Shm.Reformat) — the daemon that used it is dead —
// and its acknowledgement cell reset.
func (b *Backend) RenewBridge(old gpu.Bridge, _ bridge.Config) (gpu.Bridge, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.p.Load() != nil {
		return gpu.Bridge{}, errors.New("daemon: renew bridge while the daemon runs")
	}
	return gpu.RenewShmBridge(old)
}

// bootMessage is the Boot request for spec, and the files to pass: the
// status page, then each distinct region in order of first use.
func (b *Backend) bootMessage(spec gpu.BootSpec) (*daemonpb.Boot, []*os.File, error) {
	msg := &daemonpb.Boot{Sim: simToPB(b.cfg.Sim), Modules: refsToPB(b.cfg.Modules), Link: linkToPB(spec.Link),
		Tenants: int32(spec.Tenants), MaxTypes: int32(spec.MaxTypes)}
	if b.page == nil {
		return nil, nil, errors.New("daemon: boot without bridge regions from NewBridge")
	}
	files := []*os.File{b.page.f}
	b.regions = b.regions[:0]
	for _, w := range spec.Bridge {
		s, ok := w.T.(*bridge.Shm)
		if !ok {
			return nil, nil, fmt.Errorf("daemon: channel %s is not on a region of this backend (NewBridge)", w.Chan.Spec.Name)
		}
		r := slices.Index(b.regions, s)
		if r < 0 {
			r = len(b.regions)
			b.regions = append(b.regions, s)
			files = append(files, s.File())
		}
		ack := -1
		if w.Ack != nil {
			if ack = b.page.index(w.Ack); ack < 0 {
				return nil, nil, fmt.Errorf("daemon: channel %s: acknowledgement cell not from NewBridge", w.Chan.Spec.Name)
			}
		}
		msg.Wires = append(msg.Wires, &daemonpb.Wire{Chan: chanToPB(w.Chan), Region: uint32(r), Ack: int32(ack)})
	}
	return msg, files, nil
}

// lost is the report of a daemon that died or was killed: the kernel's own
// counts died with it; its bridge ends' are what the rings show — an
// incoming channel's tasks the kernel took out of the ring are Lost (their
// producer's window sends again what was not acknowledged), an outgoing
// channel's published ones were sent.
func (b *Backend) lost() gpu.HaltReport {
	r := gpu.HaltReport{Lost: true}
	for _, w := range b.wires {
		s, ok := w.T.(*bridge.Shm)
		if !ok {
			continue
		}
		st := s.States()
		if w.Chan.From == b.info.ID { // the kernel sent on ring BA (side B)
			n := st[bridge.RingBA].Published - st[bridge.RingBA].StartSeq
			r.Links = append(r.Links, link.Stats{Chan: w.Chan.Spec.Name, Dir: link.Out, Kernel: w.Chan.From, Peer: w.Chan.To,
				Transport: "shm", Down: true, Taken: n, Sent: n})
		} else {
			n := st[bridge.RingAB].Released - st[bridge.RingAB].StartSeq
			r.Links = append(r.Links, link.Stats{Chan: w.Chan.Spec.Name, Dir: link.In, Kernel: w.Chan.To, Peer: w.Chan.From,
				Transport: "shm", Down: true, Received: n, Lost: n, Acks: w.Ack != nil})
		}
	}
	return r
}
