package task

import (
	"errors"
	"fmt"
)

// Status is a handler result and an error code shared with the GPU side ([T4]).
// Negative values are failures; the numbering is stable.
type Status int32

// Stable status codes ([T4]).
const (
	OK               Status = 0
	Retry            Status = 1
	Fail             Status = -1
	ChanFull         Status = -100
	ChanClosed       Status = -101
	ChanTypeMismatch Status = -102
	ChanAlreadyBound Status = -103
	ChanReplayOvf    Status = -104
	ChanUnknown      Status = -105
	AllocFail        Status = -200
	StalePayload     Status = -201 // use after free / double free of a payload handle
	KernelClosed     Status = -300
	YieldOverflow    Status = -301
	YieldLimit       Status = -302
	Poisoned         Status = -303
	UnknownType      Status = -304
	Panicked         Status = -305
	BadTenant        Status = -306
	RetryLimit       Status = -307
	Restarting       Status = -308
)

// FailCode returns a FAIL status with an application code. Codes must be negative;
// a non-negative code yields Fail.
func FailCode(code int32) Status {
	if code >= 0 {
		return Fail
	}
	return Status(code)
}

var names = map[Status]string{
	OK: "OK", Retry: "RETRY", Fail: "FAIL", ChanFull: "CHAN_FULL", ChanClosed: "CHAN_CLOSED",
	ChanTypeMismatch: "CHAN_TYPE_MISMATCH", ChanAlreadyBound: "CHAN_ALREADY_BOUND",
	ChanReplayOvf: "CHAN_REPLAY_OVERFLOW", ChanUnknown: "CHAN_UNKNOWN",
	AllocFail: "ALLOC_FAIL", StalePayload: "STALE_PAYLOAD", KernelClosed: "KERNEL_CLOSED",
	YieldOverflow: "YIELD_OVERFLOW", YieldLimit: "YIELD_LIMIT", Poisoned: "POISONED",
	UnknownType: "UNKNOWN_TYPE", Panicked: "PANICKED", BadTenant: "BAD_TENANT",
	RetryLimit: "RETRY_LIMIT", Restarting: "RESTARTING",
}

func (s Status) String() string {
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("FAIL(%d)", int32(s))
}

// Err returns the error value of s: nil for OK, a sentinel for the known codes
// (so errors.Is works), and a *CodeError for application failure codes.
func (s Status) Err() error {
	if s == OK {
		return nil
	}
	if e, ok := sentinels[s]; ok {
		return e
	}
	return &CodeError{Code: s}
}

// Error makes Status an error; prefer Err, which maps OK to nil.
func (s Status) Error() string { return s.String() }

// CodeError is an application failure code without a sentinel.
type CodeError struct{ Code Status }

func (e *CodeError) Error() string { return e.Code.String() }

// Is reports whether target is the generic ErrFail: every failure code is a FAIL.
func (e *CodeError) Is(target error) bool { return target == ErrFail }

// Sentinel errors for the stable codes; errors.Is(err, ErrChanFull) etc.
var (
	ErrRetry            = errors.New("gmk: RETRY")
	ErrFail             = errors.New("gmk: FAIL")
	ErrChanFull         = errors.New("gmk: channel full (CHAN_FULL)")
	ErrChanClosed       = errors.New("gmk: channel closed (CHAN_CLOSED)")
	ErrChanTypeMismatch = errors.New("gmk: channel type mismatch (CHAN_TYPE_MISMATCH)")
	ErrChanAlreadyBound = errors.New("gmk: P2P channel already has a subscriber (CHAN_ALREADY_BOUND)")
	ErrChanReplayOvf    = errors.New("gmk: subscriber fell behind the replay buffer (CHAN_REPLAY_OVERFLOW)")
	ErrChanUnknown      = errors.New("gmk: unknown channel")
	ErrAllocFail        = errors.New("gmk: allocation failed (ALLOC_FAIL)")
	ErrStalePayload     = errors.New("gmk: stale payload handle (use after free or double free)")
	ErrClosed           = errors.New("gmk: kernel closed")
	ErrYieldOverflow    = errors.New("gmk: yield overflow")
	ErrYieldLimit       = errors.New("gmk: yield limit exceeded")
	ErrPoisoned         = errors.New("gmk: type poisoned")
	ErrUnknownType      = errors.New("gmk: unknown task type")
	ErrPanicked         = errors.New("gmk: handler panicked")
	ErrBadTenant        = errors.New("gmk: tenant out of range")
	ErrRetryLimit       = errors.New("gmk: retry limit exceeded")
	ErrRestarting       = errors.New("gmk: module restarting")
)

var sentinels = map[Status]error{
	Retry: ErrRetry, Fail: ErrFail, ChanFull: ErrChanFull, ChanClosed: ErrChanClosed,
	ChanTypeMismatch: ErrChanTypeMismatch, ChanAlreadyBound: ErrChanAlreadyBound,
	ChanReplayOvf: ErrChanReplayOvf, ChanUnknown: ErrChanUnknown, AllocFail: ErrAllocFail,
	StalePayload: ErrStalePayload, KernelClosed: ErrClosed, YieldOverflow: ErrYieldOverflow,
	YieldLimit: ErrYieldLimit, Poisoned: ErrPoisoned, UnknownType: ErrUnknownType,
	Panicked: ErrPanicked, BadTenant: ErrBadTenant, RetryLimit: ErrRetryLimit,
	Restarting: ErrRestarting,
}
