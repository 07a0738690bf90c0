package bridge

import (
	"fmt"
	"math/bits"
	"unsafe"
)

// Config sizes the two rings of a bridge region (one per direction).
type Config struct {
	// Capacity is the number of task slots per direction, a power of two
	// between 2 and 2^24. Zero means DefaultCapacity.
	Capacity int
	// Staging is the payload staging area per direction in bytes, a power of
	// two between 128 and 2^30; a payload may be at most Staging/2 bytes. Zero
	// means DefaultStaging.
	Staging int
	// LL selects the low-latency slot format for both rings (gmk_bridge.h,
	// LL RINGS): 128-byte slots whose every 8-byte word carries the slot's
	// sequence tag, so a receiver polls the slot itself instead of loading
	// tail. The default (false) is the version-1 format. Sender and Receiver
	// behave the same in both formats.
	LL bool
}

// Defaults of Config.
const (
	DefaultCapacity = 1024    // slots: 16 batches of 64 in flight
	DefaultStaging  = 4 << 20 // bytes: 1024 payloads of 4 KiB
)

// withDefaults fills the zero fields of c.
func (c Config) withDefaults() Config {
	if c.Capacity == 0 {
		c.Capacity = DefaultCapacity
	}
	if c.Staging == 0 {
		c.Staging = DefaultStaging
	}
	return c
}

// Validate reports whether c (with its defaults filled in) describes a valid
// region; the error names the offending field.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Capacity < 2 || c.Capacity > maxCapacity || !isPow2(c.Capacity) {
		return fmt.Errorf("bridge: Capacity %d: want a power of two in [2, %d]", c.Capacity, maxCapacity)
	}
	if c.Staging < minStaging || c.Staging > maxStaging || !isPow2(c.Staging) {
		return fmt.Errorf("bridge: Staging %d: want a power of two in [%d, %d]", c.Staging, minStaging, maxStaging)
	}
	return nil
}

// MaxPayload returns the largest payload c's staging area accepts.
func (c Config) MaxPayload() int { return c.withDefaults().Staging / 2 }

// ringSpan is the bytes of one ring: header, slots, staging; a multiple of LineSize.
func (c Config) ringSpan() int { return RingHeaderSize + c.Capacity*c.slotSize() + c.Staging }

// slotSize is the bytes of one slot in c's format.
func (c Config) slotSize() int {
	if c.LL {
		return LLSlotSize
	}
	return SlotSize
}

// RegionSize returns the bytes of a bridge region for c: the region header and
// two rings.
func RegionSize(c Config) (int, error) {
	if err := c.Validate(); err != nil {
		return 0, err
	}
	c = c.withDefaults()
	return RegionHeaderSize + numBridgeRings*c.ringSpan(), nil
}

// Format writes a bridge region for c into mem: the region header and two
// empty, open rings whose sequences start at 0. mem must be LineSize-aligned,
// at least RegionSize(c) bytes, and not yet shared: Format writes the geometry
// with plain stores, which the peer may read only after the region is handed
// to it (fd passing, device launch, or a Go synchronization).
func Format(mem []byte, c Config) error {
	size, err := RegionSize(c)
	if err != nil {
		return err
	}
	c = c.withDefaults()
	if len(mem) < size {
		return fmt.Errorf("bridge: region of %d bytes, want %d", len(mem), size)
	}
	if base(mem)%LineSize != 0 {
		return fmt.Errorf("bridge: region at %#x is not %d-byte aligned", base(mem), LineSize)
	}
	mem = mem[:size]
	clear(mem)
	rh := (*regionHeader)(unsafe.Pointer(&mem[0]))
	rh.magic, rh.version, rh.headerSize = Magic, Version, RegionHeaderSize
	rh.nrings, rh.size = numBridgeRings, uint64(size)
	for i := range numBridgeRings {
		off := RegionHeaderSize + i*c.ringSpan()
		rh.ringOff[i] = uint64(off)
		h := (*ringHeader)(unsafe.Pointer(&mem[off]))
		h.magic, h.version, h.headerSize = RingMagic, Version, RingHeaderSize
		h.capacity, h.slotSize = uint32(c.Capacity), uint32(c.slotSize())
		h.stagingSize = uint64(c.Staging)
		h.slotsOff = RingHeaderSize
		h.stagingOff = uint64(RingHeaderSize + c.Capacity*c.slotSize())
		if c.LL {
			h.version = VersionLL
			h.flags.Store(FlagLL)
		}
		h.epoch.Store(1)
	}
	return nil
}

// ringView is one ring of an attached region, with its geometry validated and
// copied out of shared memory: a peer that scribbles on the header afterwards
// cannot make this side index out of its region.
type ringView struct {
	hdr      *ringHeader
	slots    []slot   // version-1 slots; nil in an LL ring
	llSlots  []llSlot // LL slots; nil in a version-1 ring
	ll       bool     // the ring's flags carry FlagLL
	stage    []byte
	mask     uint64 // capacity-1
	stageLen uint64 // staging_size (a power of two, or 0)
	startSeq uint64
}

// region is an attached bridge region.
type region struct {
	mem   []byte
	rings [numBridgeRings]ringView
}

// attach validates the region in mem (magic, version, sizes, offsets) and
// returns its view. It reads only the geometry, written before sharing.
func attach(mem []byte) (*region, error) {
	if len(mem) < RegionHeaderSize || base(mem)%LineSize != 0 {
		return nil, fmt.Errorf("%w: %d bytes at %#x", ErrBadRegion, len(mem), base(mem))
	}
	rh := (*regionHeader)(unsafe.Pointer(&mem[0]))
	switch {
	case rh.magic != Magic:
		return nil, fmt.Errorf("%w: magic %#x, want %#x", ErrBadRegion, rh.magic, Magic)
	case rh.version != Version:
		return nil, fmt.Errorf("%w: version %d, want %d", ErrBadRegion, rh.version, Version)
	case rh.headerSize != RegionHeaderSize || rh.nrings != numBridgeRings:
		return nil, fmt.Errorf("%w: header size %d, %d rings", ErrBadRegion, rh.headerSize, rh.nrings)
	case rh.size > uint64(len(mem)):
		return nil, fmt.Errorf("%w: region claims %d bytes, %d mapped", ErrBadRegion, rh.size, len(mem))
	}
	r := &region{mem: mem[:rh.size]}
	for i := range numBridgeRings {
		v, err := attachRing(r.mem, rh.ringOff[i])
		if err != nil {
			return nil, fmt.Errorf("%w: ring %d: %v", ErrBadRegion, i, err)
		}
		r.rings[i] = v
	}
	return r, nil
}

// attachRing validates the ring header at off in mem and returns its view.
func attachRing(mem []byte, off uint64) (ringView, error) {
	n := uint64(len(mem))
	if off%LineSize != 0 || off > n || n-off < RingHeaderSize {
		return ringView{}, fmt.Errorf("header offset %d", off)
	}
	h := (*ringHeader)(unsafe.Pointer(&mem[off]))
	capy, stg := uint64(h.capacity), h.stagingSize
	ll := h.flags.Load()&FlagLL != 0
	version, size := uint16(Version), uint64(SlotSize)
	if ll {
		version, size = VersionLL, LLSlotSize
	}
	switch {
	case h.magic != RingMagic || h.version != version || h.headerSize != RingHeaderSize:
		return ringView{}, fmt.Errorf("magic %#x version %d header %d (LL %t)", h.magic, h.version, h.headerSize, ll)
	case uint64(h.slotSize) != size || capy < 2 || capy > maxCapacity || !isPow2(int(capy)):
		return ringView{}, fmt.Errorf("capacity %d, slot size %d (LL %t)", capy, h.slotSize, ll)
	case stg != 0 && (stg < 2*StageAlign || stg > maxStaging || !isPow2(int(stg))):
		return ringView{}, fmt.Errorf("staging size %d", stg)
	case h.slotsOff%LineSize != 0 || h.slotsOff > n-off || (n-off-h.slotsOff)/size < capy:
		return ringView{}, fmt.Errorf("slots at %d", h.slotsOff)
	case h.stagingOff > n-off || n-off-h.stagingOff < stg:
		return ringView{}, fmt.Errorf("staging at %d", h.stagingOff)
	}
	s := off + h.slotsOff
	g := off + h.stagingOff
	v := ringView{
		hdr:      h,
		ll:       ll,
		stage:    mem[g : g+stg : g+stg],
		mask:     capy - 1,
		stageLen: stg,
		startSeq: h.startSeq,
	}
	if ll {
		v.llSlots = unsafe.Slice((*llSlot)(unsafe.Pointer(&mem[s])), capy)
	} else {
		v.slots = unsafe.Slice((*slot)(unsafe.Pointer(&mem[s])), capy)
	}
	return v, nil
}

// alignedBytes returns n zeroed bytes on the Go heap whose start is LineSize-aligned.
func alignedBytes(n int) []byte {
	b := make([]byte, n+LineSize)
	skip := (LineSize - int(base(b)%LineSize)) % LineSize
	return b[skip : skip+n : skip+n]
}

func base(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

func isPow2(n int) bool { return n > 0 && bits.OnesCount(uint(n)) == 1 }
