package sdk

import (
	"time"

	"github.com/gmkernel/gmk/kernel"
)

// Timers ([U1] once, repeat, cancel — on the EVQ).
//
// The simplest timer is a delayed task: After parks a task on the worker's
// event queue (Ctx.EmitAfter) and it runs when due. Repeating and
// cancellable timers are a service, modules/timer, driven by two requests:
//
//	timer.set     payload = TimerSpec (32 bytes); meta0, meta1 unused
//	timer.cancel  meta0 = timer id
//
// Each firing is a task of type TimerSpec.Type on channel TimerSpec.Chan
// (the service's default fire channel when 0) with
//
//	meta0 = timer id, meta1 = firing number (1, 2, 3 …)
//
// Setting an id that is already set replaces that timer; cancelling an id
// that is not set does nothing. Times are kernel-clock nanoseconds.

// TimerSpec is the payload of a timer.set request. It is plain: the GPU
// mirror is a C struct of the same layout.
type TimerSpec struct {
	ID     uint64 // chosen by the client; 0 is invalid
	Delay  int64  // ns until the first firing (>= 0)
	Period int64  // ns between firings; 0 = once
	Chan   uint32 // channel to fire on; 0 = the service's fire channel
	Type   uint32 // task type of the firings; must be the channel's type
}

// After makes t runnable after d (a one-shot timer without the service; see
// Ctx.EmitAfter for the errors).
func After(c *kernel.Ctx, d time.Duration, t kernel.Task) error { return c.EmitAfter(t, d) }

// SetTimer asks the timer service at p to set the timer s.
func SetTimer(c *kernel.Ctx, p Port, s TimerSpec) kernel.Status { return SendValue(c, p, 0, 0, &s) }

// CancelTimer asks the timer service's cancel port p to cancel timer id.
func CancelTimer(c *kernel.Ctx, p Port, id uint64) kernel.Status { return SendInline(c, p, id, 0) }
