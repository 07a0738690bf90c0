package bridge

import "sync"

// Side is which end of a bridge region a transport is: A (the creator, which
// sends on RingAB) or B (its peer, which sends on RingBA).
type Side int

// The two sides of a bridge.
const (
	SideA Side = 0
	SideB Side = 1
)

// ringTransport is a Transport over an attached region: the shared part of the
// mem, shm and (later) CUDA transports, which differ only in where the region's
// memory comes from and how it is released.
type ringTransport struct {
	kind    string
	reg     *region
	w       waker
	tx      *producer
	rx      *consumer
	once    sync.Once
	release func() error           // frees the region's memory; nil when the GC does
	epochs  [numBridgeRings]uint32 // each ring's epoch when attached (epoch.go)
	side    Side
}

// newRingTransport attaches side's producer and consumer to reg.
func newRingTransport(kind string, reg *region, side Side, w waker, release func() error) *ringTransport {
	txRing, rxRing := RingAB, RingBA
	if side == SideB {
		txRing, rxRing = RingBA, RingAB
	}
	return &ringTransport{
		kind:    kind,
		reg:     reg,
		w:       w,
		tx:      newProducer(txRing, reg.rings[txRing], w),
		rx:      newConsumer(rxRing, reg.rings[rxRing], w),
		release: release,
		epochs:  ringEpochs(reg),
		side:    side,
	}
}

func (t *ringTransport) Kind() string       { return t.kind }
func (t *ringTransport) Sender() Sender     { return t.tx }
func (t *ringTransport) Receiver() Receiver { return t.rx }

// Disconnect implements Transport: set CLOSED on both rings (an acq_rel
// fetch-or, after any publication of ours), then wake every sleeper. A
// transport whose rings were re-formatted for a later epoch (Shm.Reformat)
// leaves them alone.
func (t *ringTransport) Disconnect() {
	for i := range t.reg.rings {
		if !t.current(i) {
			continue
		}
		h := t.reg.rings[i].hdr
		h.flags.Or(FlagClosed)
		ringWake(h, t.w)
	}
}

// Close implements Transport.
func (t *ringTransport) Close() error {
	var err error
	t.once.Do(func() {
		t.Disconnect()
		if t.release != nil {
			err = t.release()
		}
	})
	return err
}

// NewMemPair returns the two ends of an in-process bridge: a region on the Go
// heap, side A and side B. Use it for a GPU kernel simulated in this process
// and for tests; the ring protocol and layout are the ones the shm and CUDA
// transports share. The garbage collector frees the region once both ends are
// unreachable; Close only disconnects.
func NewMemPair(c Config) (a, b Transport, err error) { return NewMemPairEpoch(c, FirstEpoch) }
