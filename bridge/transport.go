package bridge

import (
	"errors"
	"fmt"
	"time"

	"github.com/gmkernel/gmk/kernel/task"
)

// Msg is a task crossing the bridge with its payload bytes.
type Msg struct {
	Task task.Task
	// Payload holds Task.PayloadLen bytes; nil for an inline task. From
	// Receiver.Peek it is a view into the staging area, valid until Release:
	// copy it into the destination kernel's memory and rewrite Task.Payload to
	// the new reference there ([B3]). On the wire Task.Payload is the sender's
	// reference, meaningless to the receiver.
	Payload []byte
}

// Sender is the producing end of one bridge direction. One goroutine at a time
// may use it. Tasks are staged (copied into the ring, not yet visible) and then
// published, all staged tasks at once, by one release store: one transfer.
type Sender interface {
	// Stage copies t and payload into the next slot and the staging area.
	// len(payload) must equal t.PayloadLen (nil for inline tasks). It returns
	// nil, or: ErrFull / ErrStagingFull when there is no room now (publish,
	// Wait, retry: nothing was staged), ErrPayloadTooLarge or
	// ErrPayloadMismatch (never fits / a caller bug: nothing was staged), or
	// ErrClosed.
	Stage(t *task.Task, payload []byte) error
	// Staged reports how many tasks are staged and not yet published.
	Staged() int
	// Publish makes every staged task visible to the receiver in one transfer
	// and returns how many it published.
	Publish() int
	// Wait blocks until the receiver has released room since the last failed
	// Stage, or the direction is closed (true), or max has passed (false). It
	// spins briefly, then yields, then sleeps until woken.
	Wait(max time.Duration) bool
	// Stats reports what this direction has carried.
	Stats() Stats
}

// RefSender is a Sender that can also stage a task whose payload stays where
// it is: in host memory the receiving device reads directly (pinned and
// mapped for it), at device-visible address addr. No byte is copied on the
// host — the way to bulk rates when a single CPU thread cannot copy fast
// enough. The slot carries task.PayloadRef and addr in place of a staging
// position; a receiver that cannot read addr (every Go receiver) reports
// ErrCorrupt. The caller keeps the bytes unchanged until the receiver has
// released the slot (the ring's head passed it: a later Stage finds room
// for the slot's lap, or the owner of the device side says so).
//
// StageDev stages a task whose payload is already in the receiving
// device's own memory, at offset off of its payload arena — a block the
// sender reserved there and filled by DMA (gpu/cuda's Bulk): flagged
// task.PayloadDev, no bytes moved by the bridge at all.
type RefSender interface {
	Sender
	StageRef(t *task.Task, addr uint64) error
	StageDev(t *task.Task, off uint64) error
}

// Receiver is the consuming end of one bridge direction. One goroutine at a
// time may use it.
type Receiver interface {
	// Peek fills dst with the oldest published tasks not yet peeked, in FIFO
	// order, and returns how many (0 when none are waiting). Peeked tasks stay
	// in the ring — their payload views valid — until Release. When n > 0 the
	// error is nil; otherwise it is nil, ErrClosed (closed and drained), a
	// *GapError (errors.Is ErrSeqGap: a lost or duplicated task; the slot is
	// not consumed) or ErrCorrupt.
	Peek(dst []Msg) (int, error)
	// Release hands every peeked task back to the sender in one transfer and
	// returns how many; their payload views become invalid.
	Release() int
	// Wait blocks until a task can be peeked or the direction is closed
	// (true), or max has passed (false).
	Wait(max time.Duration) bool
	// Stats reports what this direction has carried.
	Stats() Stats
}

// Transport is one kernel's end of a bridge: it sends on one direction and
// receives on the other. Implementations: the in-memory pair (NewMemPair) and
// shared memory between processes (NewShm, OpenShm); a CUDA one (pinned host
// memory shared with the device) and protoactor remote fit the same methods.
type Transport interface {
	// Kind names the transport: "mem", "shm".
	Kind() string
	// Sender returns the outgoing direction. Not safe for concurrent use with itself.
	Sender() Sender
	// Receiver returns the incoming direction. Not safe for concurrent use with itself.
	Receiver() Receiver
	// Disconnect closes both directions: the peer's Stage fails with ErrClosed
	// and its Peek drains what was published, then reports ErrClosed; waiters
	// on both sides wake. Safe to call from any goroutine, at any time, more
	// than once.
	Disconnect()
	// Close disconnects and releases the transport's resources (mappings,
	// file descriptors). No goroutine may use the transport, its Sender or its
	// Receiver during or after Close.
	Close() error
}

// Stats counts what one direction has carried since its region was formatted.
type Stats struct {
	Tasks     uint64 // tasks published (Sender) or released (Receiver)
	Transfers uint64 // publications (Sender) or releases (Receiver): one per batch
}

// TransfersPerTask returns Transfers/Tasks, 0 when no task has crossed.
func (s Stats) TransfersPerTask() float64 {
	if s.Tasks == 0 {
		return 0
	}
	return float64(s.Transfers) / float64(s.Tasks)
}

// Errors of the bridge. ErrFull and ErrClosed wrap the kernel's CHAN_FULL and
// CHAN_CLOSED errors ([T4], [B4]), so errors.Is(err, task.ErrChanFull) holds.
var (
	ErrFull            = fmt.Errorf("bridge: ring full: %w", task.ErrChanFull)
	ErrStagingFull     = fmt.Errorf("bridge: payload staging area full: %w", ErrFull)
	ErrClosed          = fmt.Errorf("bridge: disconnected: %w", task.ErrChanClosed)
	ErrPayloadTooLarge = errors.New("bridge: payload larger than half the staging area")
	ErrPayloadMismatch = errors.New("bridge: len(payload) != task.PayloadLen")
	ErrSeqGap          = errors.New("bridge: sequence gap")
	ErrCorrupt         = errors.New("bridge: slot references bytes outside the staging area")
	ErrBadRegion       = errors.New("bridge: not a valid bridge region")
	ErrUnsupported     = errors.New("bridge: shared-memory transport needs Linux (memfd)")
)

// GapError reports a slot whose sequence number is not the one expected: a
// task was lost or duplicated between producer and consumer ([B4]).
type GapError struct {
	Ring      int    // ring index (RingAB, RingBA)
	Want, Got uint64 // expected and found sequence numbers
}

func (e *GapError) Error() string {
	return fmt.Sprintf("bridge: sequence gap on ring %d: want seq %d, got %d", e.Ring, e.Want, e.Got)
}

// Is makes errors.Is(err, ErrSeqGap) hold.
func (e *GapError) Is(target error) bool { return target == ErrSeqGap }
