// Package task defines the 48-byte task record of GMK.md [T1], its flags [T2] and
// the status codes [T4] shared with the GPU side and the bridge.
//
// The record is a plain value without Go pointers: rings store it by value, the
// garbage collector never scans a queue, and the bridge copies its bytes as they
// are. Its size, alignment and field offsets are pinned by a test and must equal
// the C struct in kernels/include.
package task

// Task is the unit of work of every GMK kernel ([T1]). Field order is the ABI.
type Task struct {
	Type       uint32 // handler id / message type
	Flags      Flags  // priority (2 bits) and task flags
	Tenant     uint16 // logical partition 0..N-1
	Channel    uint32 // source channel id (bits 0..23) and subscriber index (bits 24..31); 0 = direct submit
	Seq        uint32 // sequence assigned by the enqueue core (per-channel sequence for channel deliveries)
	Payload    uint64 // payload reference (arena handle on the CPU, device address on the GPU)
	PayloadLen uint32 // payload bytes; 0 = inline-only task
	YieldCount uint16 // runtime-owned yield counter
	Aux        uint16 // runtime-owned (the ABI's _pad): retry count while queued, status code on sys.error/sys.dropped
	Meta0      uint64 // inline argument / continuation state, owned by the handler
	Meta1      uint64 // inline argument / continuation state, owned by the handler
}

// Size is the size of a Task in bytes; slots shared with C are 16-byte aligned.
const Size = 48

// Flags holds the priority and the task flags of [T2].
type Flags uint16

// Task flags ([T2]). Bits 0..1 hold the priority, 0 the highest.
const (
	PriorityMask  Flags = 0x3
	Deterministic Flags = 1 << 2 // execute in canonical order
	Idempotent    Flags = 1 << 3 // may be replayed after a crash
	EmitTrace     Flags = 1 << 4 // always traced
	ChannelMsg    Flags = 1 << 5 // set by the runtime on channel delivery
	Redelivered   Flags = 1 << 6 // set by the runtime on a re-delivery after a lost member
	Snapshotted   Flags = 1 << 7 // set by the runtime: the task is in a snapshot ([F5]); its end is journaled
	PayloadRef    Flags = 1 << 8 // set by a bridge sender (bridge.RefSender): the payload lies at a device-visible address, not in the staging area
	PayloadDev    Flags = 1 << 9 // set by a bridge sender (bridge.RefSender.StageDev): the payload is already in the receiver's arena
)

// NumPriorities is the number of priority levels.
const NumPriorities = 4

// Priority returns the task's priority, 0 (highest) .. 3.
func (t *Task) Priority() int { return int(t.Flags & PriorityMask) }

// SetPriority sets the task's priority; p is taken modulo 4.
func (t *Task) SetPriority(p int) { t.Flags = t.Flags&^PriorityMask | Flags(p)&PriorityMask }

// Channel field layout: the low 24 bits carry the channel id, the high 8 bits the
// index of the subscriber a delivery is addressed to.
const (
	ChanIDBits = 24
	ChanIDMask = 1<<ChanIDBits - 1
)

// ChannelID returns the source channel id (0 for a direct submit).
func (t *Task) ChannelID() uint32 { return t.Channel & ChanIDMask }

// Subscriber returns the subscriber index a channel delivery is addressed to.
func (t *Task) Subscriber() int { return int(t.Channel >> ChanIDBits) }

// SetChannel sets the channel id and subscriber index.
func (t *Task) SetChannel(id uint32, sub int) { t.Channel = id&ChanIDMask | uint32(sub)<<ChanIDBits }
