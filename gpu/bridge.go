package gpu

import (
	"errors"
	"sync/atomic"

	"github.com/gmkernel/gmk/bridge"
)

// Bridge is one bridge transport between the host and a GPU kernel — it
// carries one channel each way — with the acknowledgement cell of the
// channel it carries host → GPU (link.Wire.Ack: the GPU kernel's end counts
// what it handled, the host's end keeps the rest for redelivery after a
// reset, [B4] [F5]).
type Bridge struct {
	Host bridge.Transport // the host's end (side A of the region)
	// Dev is what BootSpec.Bridge carries to the GPU kernel: its end of
	// the transport in this process, or — a backend in another process —
	// the host's end again, whose memory the backend hands to its kernel.
	Dev bridge.Transport
	Ack *atomic.Uint64
}

// Bridger is a Backend that makes its own bridge transports: the GPU
// daemon's are shared memory with its process. Backends that are not get
// in-memory ones (MemBridge).
type Bridger interface {
	// NewBridge makes a transport sized by c.
	NewBridge(c bridge.Config) (Bridge, error)
	// RenewBridge makes b's successor after the GPU kernel was reset, for
	// its next boot: the region formatted for the next epoch
	// (bridge.NextEpoch, sequences continuing) and the Ack cell at 0.
	// Neither end of b is used afterwards; closing b's transports stays
	// the caller's.
	RenewBridge(b Bridge, c bridge.Config) (Bridge, error)
}

// MemBridge makes an in-memory bridge (bridge.NewMemPair) with a fresh Ack
// cell: the transport of a GPU kernel in this process.
func MemBridge(c bridge.Config) (Bridge, error) {
	a, b, err := bridge.NewMemPair(c)
	if err != nil {
		return Bridge{}, err
	}
	return Bridge{Host: a, Dev: b, Ack: new(atomic.Uint64)}, nil
}

// RenewMemBridge makes the next epoch's in-memory bridge after b's GPU
// kernel was reset: a new region (a goroutine of the old kernel that has
// not noticed the reset can only touch the old one) whose sequences
// continue b's, and a fresh Ack cell.
func RenewMemBridge(b Bridge, c bridge.Config) (Bridge, error) {
	st, ok := bridge.States(b.Host)
	if !ok {
		return Bridge{}, errors.New("gpu: renew bridge: not a bridge region")
	}
	h, d, err := bridge.NewMemPairEpoch(c, bridge.NextEpoch(st))
	if err != nil {
		return Bridge{}, err
	}
	return Bridge{Host: h, Dev: d, Ack: new(atomic.Uint64)}, nil
}

// ShmBridge makes a shared-memory bridge region (bridge.NewShm, both ends:
// the other process or the device maps the same region) with ack, set to
// 0, as its Ack cell — the transport of a GPU kernel outside this process's
// memory (the GPU daemon's, the device's).
func ShmBridge(c bridge.Config, ack *atomic.Uint64) (Bridge, error) {
	s, err := bridge.NewShm(c)
	if err != nil {
		return Bridge{}, err
	}
	ack.Store(0)
	return Bridge{Host: s, Dev: s, Ack: ack}, nil
}

// RenewShmBridge formats b's shared-memory region (bridge.NewShm, both ends
// of b) for the next epoch in place (bridge.Shm.Reformat: sequences
// continue) and sets its Ack cell to 0 — the successor after a reset of a
// GPU kernel that ran in another process or on a device, which no longer
// touches the region. The caller makes sure of that.
func RenewShmBridge(b Bridge) (Bridge, error) {
	s, ok := b.Host.(*bridge.Shm)
	if !ok {
		return Bridge{}, errors.New("gpu: renew bridge: not a shared-memory region (the backend's NewBridge)")
	}
	st, _ := bridge.States(s)
	ns, err := s.Reformat(bridge.NextEpoch(st))
	if err != nil {
		return Bridge{}, err
	}
	b.Ack.Store(0)
	return Bridge{Host: ns, Dev: ns, Ack: b.Ack}, nil
}
