package chans

import (
	"errors"
	"fmt"

	"github.com/gmkernel/gmk/kernel"
)

// Errors of the channel actors. An answer carries the kernel status code
// ([T4]) and the error's text, so a sender tests its Err() with errors.Is
// against the kernel sentinel each of these wraps (kernel.ErrAllocFail for
// ErrPayloadTooLarge, and so on; task.ErrFail for the FAIL ones); Go code
// in the same process gets these values themselves (PID, Start).
var (
	// ErrStopped answers emits still waiting when Stop ran (KERNEL_CLOSED).
	ErrStopped = fmt.Errorf("%w: channel actors stopped", kernel.ErrClosed)
	// ErrPayloadTooLarge answers a task whose payload is larger than
	// Config.MaxPayload (ALLOC_FAIL).
	ErrPayloadTooLarge = fmt.Errorf("%w: payload too large", kernel.ErrAllocFail)
	// ErrNoCodec answers a message that is neither a wire message nor a
	// task, and whose type has no registered codec (UNKNOWN_TYPE).
	ErrNoCodec = fmt.Errorf("%w: no codec for the message", kernel.ErrUnknownType)
	// ErrSysChannel answers an emit onto sys.error or sys.dropped: actors
	// may subscribe to them, not emit (CHAN_TYPE_MISMATCH).
	ErrSysChannel = fmt.Errorf("%w: system channels take no emits from actors", kernel.ErrChanTypeMismatch)
	// ErrNoSubscriber answers a Subscribe or Unsubscribe that names no
	// subscriber and has no sender (FAIL).
	ErrNoSubscriber = errors.New("gmk: no subscriber PID and no sender")
	// ErrNotSubscribed answers an Unsubscribe of a PID that is not
	// subscribed (FAIL).
	ErrNotSubscribed = errors.New("gmk: not subscribed")
	// ErrNoModule is Start's error when the kernel was booted without
	// Module() (or has halted).
	ErrNoModule = errors.New("gmk: kernel has no running " + ModuleName + " module (include chans.Module() at kernel.Boot)")
	// ErrStarted is Start's error for a kernel whose channels are started
	// already.
	ErrStarted = errors.New("gmk: channel actors already started for this kernel")
)
