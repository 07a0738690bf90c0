package sdk

import (
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// Port is a channel to send on, with the task type it carries: what a module
// resolves once (in Init, with Dial) and uses in every handler call.
type Port struct {
	Chan kernel.ChanID
	Type uint32
}

// Dial resolves the channel named name into a Port (control plane: Init or
// outside the kernel). An untyped channel (AnyType) gets type 0; set
// Port.Type before sending on it.
func Dial(k *kernel.Kernel, name string) (Port, error) {
	id, err := k.Chan(name)
	if err != nil {
		return Port{}, err
	}
	spec, err := k.ChanSpec(id)
	if err != nil {
		return Port{}, err
	}
	p := Port{Chan: id, Type: spec.Type}
	if p.Type == kernel.AnyType {
		p.Type = 0
	}
	return p, nil
}

// Sending ([U1]). Every Send form returns the Status a handler should
// return when it cannot go on:
//
//   - OK: the task is on the channel.
//   - kernel.Retry: the channel is full (CHAN_FULL, lossless backpressure).
//     Returned from the handler, it makes the kernel hold the task until the
//     channel has room and then run the handler again (no timed backoff, no
//     busy loop; after the retry limit the task goes to sys.error). The
//     handler runs again from the start, so work before the Send must be
//     repeatable — or the handler records its progress in Meta0/Meta1, which
//     a retry keeps (the multi-phase pattern of [Y1]).
//   - FAIL(code): the channel is closed, unknown, of another type, or the
//     payload could not be allocated; the code is the kernel's ([T4]).
//
// A Send consumes the payload reference of the task it is given: on success
// it moved to the receiver, on any failure it was released. So the usual
// handler ends with `return sdk.Send(c, p, t)`.

// Send emits t on channel ch and maps the result to a Status (see above).
func Send(c *kernel.Ctx, ch kernel.ChanID, t kernel.Task) kernel.Status {
	err := c.ChanEmit(ch, t)
	if err == nil {
		return kernel.OK
	}
	if t.Payload != 0 {
		_ = c.PayloadRelease(t.Payload)
	}
	if st := Code(err); st != task.ChanFull {
		return st
	}
	return kernel.Retry
}

// SendInline sends an inline task (payload_len 0) of p's type with meta0 and
// meta1: no allocation at all ([U1] send inline).
func SendInline(c *kernel.Ctx, p Port, meta0, meta1 uint64) kernel.Status {
	return Send(c, p.Chan, kernel.Task{Type: p.Type, Tenant: uint16(c.Tenant()), Meta0: meta0, Meta1: meta1})
}

// SendBytes sends a task of p's type whose payload is a copy of b (an empty
// b sends an inline task).
func SendBytes(c *kernel.Ctx, p Port, meta0, meta1 uint64, b []byte) kernel.Status {
	t := kernel.Task{Type: p.Type, Tenant: uint16(c.Tenant()), Meta0: meta0, Meta1: meta1}
	if len(b) > 0 {
		h, buf, err := c.Alloc(len(b))
		if err != nil {
			return Code(err)
		}
		copy(buf, b)
		t.Payload, t.PayloadLen = h, uint32(len(b))
	}
	return Send(c, p.Chan, t)
}

// SendValue sends a task of p's type whose payload is a copy of *v.
func SendValue[T any](c *kernel.Ctx, p Port, meta0, meta1 uint64, v *T) kernel.Status {
	t, dst, err := New[T](c, p.Type)
	if err != nil {
		return Code(err)
	}
	*dst = *v
	t.Meta0, t.Meta1 = meta0, meta1
	return Send(c, p.Chan, t)
}

// Forward sends the current task on to p unchanged but for its type: same
// meta, same payload (zero-copy: Forward takes its own reference, so the
// runtime's release of the delivered task does not free it).
func Forward(c *kernel.Ctx, p Port) kernel.Status {
	t := *c.Task()
	t.Type, t.YieldCount, t.Aux = p.Type, 0, 0
	if t.Payload != 0 {
		if _, err := c.PayloadRetain(); err != nil {
			return Code(err)
		}
	}
	return Send(c, p.Chan, t)
}
