package bridge

import (
	"sync/atomic"
	"unsafe"

	"github.com/gmkernel/gmk/kernel/task"
)

// The bridge ring ABI, mirrored from kernels/include/gmk_bridge.h, where it is
// defined and documented (layout, memory ordering). abi_test.go checks every
// size, offset and constant here against the C header through cgo.
const (
	Magic      = 0x424B4D47 // GMK_BRIDGE_MAGIC: region header ("GMKB")
	RingMagic  = 0x524B4D47 // GMK_BRIDGE_RING_MAGIC: ring header ("GMKR")
	Version    = 1          // GMK_BRIDGE_VERSION
	LineSize   = 128        // GMK_BRIDGE_LINE: index separation and region alignment
	StageAlign = 16         // GMK_BRIDGE_STAGE_ALIGN: payload start alignment in staging
	MaxRings   = 8          // GMK_BRIDGE_MAX_RINGS
	FlagClosed = 0x1        // GMK_BRIDGE_CLOSED

	RingAB = 0 // GMK_BRIDGE_RING_AB: side A (the creator) -> side B
	RingBA = 1 // GMK_BRIDGE_RING_BA: side B -> side A

	RegionHeaderSize = 128 // sizeof(gmk_bridge_region_t)
	RingHeaderSize   = 512 // sizeof(gmk_bridge_ring_t): four lines
	SlotSize         = 64  // sizeof(gmk_bridge_slot_t): one 64-byte line

	// Offsets in gmk_bridge_ring_t of the fields each side publishes.
	OffFlags       = 48              // line 0: GMK_BRIDGE_CLOSED
	OffTail        = 1 * LineSize    // line 1: producer
	OffHead        = 2 * LineSize    // line 2: consumer
	OffConsWaiting = 3 * LineSize    // line 3: wake
	OffProdBell    = 3*LineSize + 12 // last field of the wake line
	OffSlotSeq     = task.Size       // gmk_bridge_slot_t.seq
	OffSlotStage   = task.Size + 8   // gmk_bridge_slot_t.stage_pos
)

// The LL ring format (gmk_bridge.h, LL RINGS): a ring whose flags carry
// FlagLL holds LLSlotSize-byte slots of sixteen 8-byte words, each word's low
// 4 bytes data and high 4 bytes the tag of the slot's bridge seq (llTag).
const (
	FlagLL       = 0x2        // GMK_BRIDGE_LL: set at format time, never cleared
	VersionLL    = 2          // GMK_BRIDGE_VERSION_LL: ring header version of an LL ring
	LLSlotSize   = 128        // GMK_BRIDGE_LL_SLOT_SIZE: sizeof(gmk_bridge_ll_slot_t)
	LLWords      = 16         // GMK_BRIDGE_LL_WORDS
	LLHeadWords  = 8          // GMK_BRIDGE_LL_HEAD_WORDS: words 0-7, the inline task
	LLTagBit     = 0x80000000 // GMK_BRIDGE_LL_TAG_BIT: set in every tag
	LLExt        = 0x8000     // GMK_BRIDGE_LL_EXT: word 1's flags announce words 8-15
	llWType      = 0          // GMK_BRIDGE_LL_W_TYPE
	llWFlags     = 1          // GMK_BRIDGE_LL_W_FLAGS: flags | tenant<<16
	llWChannel   = 2          // GMK_BRIDGE_LL_W_CHANNEL
	llWSeq       = 3          // GMK_BRIDGE_LL_W_SEQ
	llWMeta0     = 4          // GMK_BRIDGE_LL_W_META0: low, high
	llWMeta1     = 6          // GMK_BRIDGE_LL_W_META1: low, high
	llWPayload   = 8          // GMK_BRIDGE_LL_W_PAYLOAD: low, high
	llWPayloadLn = 10         // GMK_BRIDGE_LL_W_PAYLOAD_LEN
	llWYield     = 11         // GMK_BRIDGE_LL_W_YIELD: yield_count | aux<<16
	llWStage     = 12         // GMK_BRIDGE_LL_W_STAGE: low, high; 14, 15 spare
)

// llSlot is gmk_bridge_ll_slot_t. Every word is written with one 8-byte
// store and read with one 8-byte load (L1); the tags, not an index, say which
// words are current. ll.go documents who writes what in which order.
type llSlot struct {
	w [LLWords]uint64
}

// Limits of this implementation (not of the ABI).
const (
	numBridgeRings = RingBA + 1     // rings a bridge region holds
	maxCapacity    = 1 << 24        // slots per ring
	maxStaging     = 1 << 30        // staging bytes per ring
	minStaging     = LineSize       // keeps every ring line-aligned
	stageMask      = StageAlign - 1 // rounding mask for payload sizes
)

// regionHeader is gmk_bridge_region_t. Written once by the creator (Format)
// before the region is shared; read-only afterwards.
type regionHeader struct {
	magic      uint32
	version    uint16
	headerSize uint16
	nrings     uint32
	_          uint32
	size       uint64
	ringOff    [MaxRings]uint64
	_          [RegionHeaderSize - 24 - 8*MaxRings]byte
}

// ringHeader is gmk_bridge_ring_t: four 128-byte lines, each written by one
// party (gmk_bridge.h, MEMORY ORDERING). Go's sync/atomic operations are
// sequentially consistent, which gives both the release/acquire pairs of the
// index protocol and the Dekker pairs of the wake line.
type ringHeader struct {
	// Line 0, geometry: written by Format, read-only afterwards except flags
	// (either side, Or) and epoch (the creator, on re-format).
	magic       uint32
	version     uint16
	headerSize  uint16
	capacity    uint32
	slotSize    uint32
	stagingSize uint64
	slotsOff    uint64
	stagingOff  uint64
	startSeq    uint64
	flags       atomic.Uint32
	epoch       atomic.Uint32
	_           [LineSize - 56]byte

	// Line 1, producer: written by the producer only. tail is the release store
	// that publishes slots and staging bytes (P1); the others are telemetry
	// stored just before it.
	tail      atomic.Uint64
	stageTail atomic.Uint64
	prodSeq   atomic.Uint64
	transfers atomic.Uint64
	_         [LineSize - 32]byte

	// Line 2, consumer: written by the consumer only. head is the release store
	// that hands slots back (C2); stageHead frees staging bytes.
	head      atomic.Uint64
	stageHead atomic.Uint64
	consSeq   atomic.Uint64
	releases  atomic.Uint64
	_         [LineSize - 32]byte

	// Line 3, wake: written on sleep transitions only.
	consWaiting atomic.Uint32 // by the consumer
	consBell    atomic.Uint32 // by the producer or a closer; the consumer's futex word
	prodWaiting atomic.Uint32 // by the producer
	prodBell    atomic.Uint32 // by the consumer or a closer; the producer's futex word
	_           [LineSize - 16]byte
}

// slot is gmk_bridge_slot_t. Written by the producer between two publications,
// read by the consumer after loading a tail above it.
type slot struct {
	task     task.Task // task.PayloadLen = payload bytes in staging
	seq      uint64    // bridge sequence number
	stagePos uint64    // staging position of the payload; 0 for inline tasks
}

// Compile-time size checks; abi_test.go checks offsets against the C header.
var (
	_ [unsafe.Sizeof(regionHeader{}) - RegionHeaderSize]byte
	_ [RegionHeaderSize - unsafe.Sizeof(regionHeader{})]byte
	_ [unsafe.Sizeof(ringHeader{}) - RingHeaderSize]byte
	_ [RingHeaderSize - unsafe.Sizeof(ringHeader{})]byte
	_ [unsafe.Sizeof(slot{}) - SlotSize]byte
	_ [SlotSize - unsafe.Sizeof(slot{})]byte
	_ [unsafe.Sizeof(llSlot{}) - LLSlotSize]byte
	_ [LLSlotSize - unsafe.Sizeof(llSlot{})]byte
)

// stageRound rounds a payload size up to StageAlign.
func stageRound(n uint64) uint64 { return (n + stageMask) &^ stageMask }
