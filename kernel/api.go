package kernel

import (
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/task"
)

// Task is the 48-byte task record ([T1]); see package task for its layout.
type Task = task.Task

// Status is a handler result or error code ([T3], [T4]).
type Status = task.Status

// Flags holds a task's priority and flags ([T2]).
type Flags = task.Flags

// Handler results and codes ([T3], [T4]).
const (
	OK    = task.OK
	Retry = task.Retry
	Fail  = task.Fail
)

// Task flags ([T2]).
const (
	Deterministic = task.Deterministic
	Idempotent    = task.Idempotent
	EmitTrace     = task.EmitTrace
	ChannelMsg    = task.ChannelMsg
)

// FailCode returns FAIL with an application code (negative).
func FailCode(code int32) Status { return task.FailCode(code) }

// Sentinel errors returned by the kernel API; errors.Is works across packages.
var (
	ErrClosed           = task.ErrClosed
	ErrChanFull         = task.ErrChanFull
	ErrChanClosed       = task.ErrChanClosed
	ErrChanTypeMismatch = task.ErrChanTypeMismatch
	ErrChanAlreadyBound = task.ErrChanAlreadyBound
	ErrAllocFail        = task.ErrAllocFail
	ErrStalePayload     = task.ErrStalePayload
	ErrBadTenant        = task.ErrBadTenant
	ErrUnknownType      = task.ErrUnknownType
	ErrChanUnknown      = task.ErrChanUnknown
)

// ChanID identifies an open channel within a kernel; 0 means "no channel".
type ChanID = uint32

// Channel modes and guarantees ([C1]).
const (
	P2P      = channel.P2P
	FanOut   = channel.FanOut
	Lossy    = channel.Lossy
	Lossless = channel.Lossless
)

// ChanSpec describes a channel to open ([C1], [C3]).
type ChanSpec = channel.Spec

// AnyType is the type of an untyped channel, and the type of a catch-all
// channel handler: a Handler with Type AnyType takes no task type of its own
// (direct dispatch never reaches it) and can be subscribed to a channel of
// any type — what a relay, such as the actor layer's PID subscriptions, needs.
const AnyType = channel.AnyType

// Names of the system channels ([C9]).
const (
	SysError   = "sys.error"
	SysDropped = "sys.dropped"
)

// HandlerFunc is a task handler ([T3]). It returns OK, Retry or a failure
// code; side effects go through the context.
type HandlerFunc func(*Ctx) Status

// HandlerFlags are the registration flags of [M1].
type HandlerFlags uint16

// Handler flags ([M1]). SCALAR is the default (zero).
const (
	Scalar      HandlerFlags = 0
	Warp        HandlerFlags = 1 << 0
	Block       HandlerFlags = 1 << 1
	DetHandler  HandlerFlags = 1 << 2 // DETERMINISTIC
	NeedsShared HandlerFlags = 1 << 3
)

// Handler registers fn for a task type ([M1]).
type Handler struct {
	Type        uint32
	Fn          HandlerFunc
	Name        string
	Flags       HandlerFlags
	SharedBytes int // GPU only
}

// Dir is a channel declaration's direction ([C11]).
type Dir uint8

// Directions.
const (
	Produce Dir = iota
	Consume
)

// ChanDecl declares a channel a module produces or consumes ([C11]). A Consume
// declaration subscribes the module's handler for Type to the channel at boot.
type ChanDecl struct {
	Name      string
	Dir       Dir
	Type      uint32
	Mode      channel.Mode
	Guarantee channel.Guarantee
	Slots     int  // 0 = default
	Replay    int  // lossless replay buffer slots
	Pin       bool // home a Consume subscription on Worker (else round-robin)
	Worker    int
	OnError   bool // Consume as the channel's error handler ([C3], [F1])
}

// Module is a unit of handlers, channel declarations and lifecycle hooks
// ([M1], [M2]).
type Module struct {
	Name     string
	Version  string
	Handlers []Handler
	Channels []ChanDecl
	Init     func(*Ctx) error // after registration, before workers start
	Fini     func(*Ctx) error // at halt, in reverse boot order (best effort)
}

// TypeInfo declares a task type's policies ([U3] subset used by boot checks,
// [Y3], [Y4]). Types without an entry get the defaults.
type TypeInfo struct {
	ID            uint32
	Name          string
	MaxYields     int   // 0 = BootConfig.MaxYields
	BudgetNS      int64 // handler time budget; 0 = BootConfig.Budget
	RetryLimit    int   // 0 = BootConfig.Retry.Max
	Lossless      bool  // may travel only on lossless channels
	Deterministic bool
}
