package bridge

import "fmt"

// Epochs (gmk_bridge.h, MEMORY ORDERING: "epoch is bumped by the creator
// when it re-formats the ring after a peer reset, while neither side runs").
//
// A peer reset — a GPU kernel rebooted after the watchdog gave up on it, a
// GPU daemon killed and restarted — leaves the region in whatever state the
// dead side left it: a half-written batch, a consumer index that will never
// move again. The creator reads what each ring carried (States), then formats
// the region afresh for the next epoch (NextEpoch): both rings empty and
// open, the epoch number one higher, and each ring's sequence numbers
// continuing where its producer stopped, so that a sequence number names one
// task across the whole life of the bridge. The old transport values stay
// behind, inert: the ring indices they cache belong to the old epoch.

// RingState is what one ring carried in its epoch, read from its header:
// the producer published the tasks with sequence numbers [StartSeq,
// Published), the consumer released those below Released. Published -
// Released tasks were in the ring when it was read (after a reset: tasks
// that never crossed).
type RingState struct {
	Epoch     uint32
	StartSeq  uint64
	Published uint64 // prod_seq: the sequence number the next task would carry
	Released  uint64 // cons_seq: the sequence number the consumer expects next
	Closed    bool
}

// InRing returns the tasks published and not released.
func (s RingState) InRing() uint64 { return s.Published - s.Released }

// Epoch is where a freshly formatted region starts: its epoch number and the
// first sequence number of each ring (indexed by RingAB, RingBA).
type Epoch struct {
	Number   uint32
	StartSeq [numBridgeRings]uint64
}

// FirstEpoch is what Format starts a region with.
var FirstEpoch = Epoch{Number: 1}

// NextEpoch returns the epoch after the one whose rings were st: the number
// one higher, each ring's sequence continuing at its producer's next.
func NextEpoch(st [numBridgeRings]RingState) Epoch {
	e := Epoch{Number: max(st[RingAB].Epoch, st[RingBA].Epoch) + 1}
	for i := range st {
		e.StartSeq[i] = st[i].Published
	}
	return e
}

// Stater is implemented by the transports over a bridge region (mem, shm,
// external): States reads both rings' headers — the loads are atomic, so it
// is safe at any time; the numbers are exact once neither side runs — and
// Side says which end the transport is, so which ring it sends on (side A
// on RingAB).
type Stater interface {
	States() [numBridgeRings]RingState
	Side() Side
}

// Side implements Stater.
func (t *ringTransport) Side() Side { return t.side }

// States implements Stater.
func (t *ringTransport) States() [numBridgeRings]RingState {
	var out [numBridgeRings]RingState
	for i := range t.reg.rings {
		v := &t.reg.rings[i]
		h := v.hdr
		out[i] = RingState{Epoch: h.epoch.Load(), StartSeq: v.startSeq, Published: h.prodSeq.Load(),
			Released: h.consSeq.Load(), Closed: h.flags.Load()&FlagClosed != 0}
	}
	return out
}

// States returns t's ring states, false when t is not over a bridge region.
func States(t Transport) ([numBridgeRings]RingState, bool) {
	if s, ok := t.(Stater); ok {
		return s.States(), true
	}
	return [numBridgeRings]RingState{}, false
}

// FormatEpoch is Format for epoch e: the same empty, open rings, with e's
// epoch number and each ring's sequence starting at e.StartSeq (its producer
// stamps the first task with it, its consumer expects it). The same rules as
// Format hold: mem is not shared while it is formatted.
func FormatEpoch(mem []byte, c Config, e Epoch) error {
	if e.Number == 0 {
		return fmt.Errorf("bridge: epoch 0 (epochs count formats from 1)")
	}
	if err := Format(mem, c); err != nil {
		return err
	}
	return setEpoch(mem, e)
}

// setEpoch writes e into the ring headers of a region Format just wrote.
func setEpoch(mem []byte, e Epoch) error {
	reg, err := attach(mem)
	if err != nil {
		return err
	}
	for i := range reg.rings {
		h := reg.rings[i].hdr
		s := e.StartSeq[i]
		h.startSeq = s
		h.prodSeq.Store(s)
		h.consSeq.Store(s)
		h.epoch.Store(e.Number)
	}
	return nil
}

// NewMemPairEpoch is NewMemPair for epoch e: the in-memory bridge that
// follows a reset of the peer. The old pair's region is not reused — a
// goroutine of the old peer that has not noticed the reset yet can only ever
// touch the old region — which is the in-memory form of a re-format.
func NewMemPairEpoch(c Config, e Epoch) (a, b Transport, err error) {
	size, err := RegionSize(c)
	if err != nil {
		return nil, nil, err
	}
	mem := alignedBytes(size)
	if err := FormatEpoch(mem, c, e); err != nil {
		return nil, nil, err
	}
	reg, err := attach(mem)
	if err != nil {
		return nil, nil, err
	}
	w := waker{shared: false}
	return newRingTransport("mem", reg, SideA, w, nil), newRingTransport("mem", reg, SideB, w, nil), nil
}

// ringEpochs records the epoch of each ring when a transport attached, so that
// a transport of an old epoch cannot close the rings of a newer one.
func ringEpochs(reg *region) (e [numBridgeRings]uint32) {
	for i := range reg.rings {
		e[i] = reg.rings[i].hdr.epoch.Load()
	}
	return e
}

// current reports whether ring i is still in the epoch t attached to.
func (t *ringTransport) current(i int) bool {
	return t.reg.rings[i].hdr.epoch.Load() == t.epochs[i]
}
