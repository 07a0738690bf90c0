package wire

import (
	"errors"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/gmkernel/gmk/kernel/task"
)

// NewPID returns the wire form of p (nil for nil).
func NewPID(p *actor.PID) *PID {
	if p == nil {
		return nil
	}
	return &PID{Address: p.Address, Id: p.Id}
}

// Actor returns the protoactor PID (nil for nil or an empty PID).
func (p *PID) Actor() *actor.PID {
	if p == nil || p.Id == "" {
		return nil
	}
	return actor.NewPID(p.Address, p.Id)
}

// Last returns the sequence number of the delivery's last task (0 for an
// empty delivery).
func (d *Delivery) Last() uint64 {
	n := uint64(d.GetBatch().Len())
	if n == 0 {
		return 0
	}
	return d.GetBatch().GetFirstSeq() + n - 1
}

// Ack returns the acknowledgement of every task of d (and of those before).
// A subscriber sends it to the channel actor — the sender of the Delivery —
// once it has handled them.
func (d *Delivery) Ack() *Ack {
	return &Ack{Channel: d.GetChannel(), Sub: d.GetSub(), Seq: d.Last()}
}

// statuses are the codes Status recognises, most specific first: every FAIL
// code is also a FAIL (errors.Is(err, task.ErrFail)).
var statuses = []task.Status{
	task.ChanFull, task.ChanClosed, task.ChanTypeMismatch, task.ChanAlreadyBound,
	task.ChanReplayOvf, task.ChanUnknown, task.AllocFail, task.StalePayload,
	task.KernelClosed, task.Poisoned, task.UnknownType, task.BadTenant, task.Retry,
}

// Status returns the kernel status code ([T4]) of err: 0 for nil, the code
// whose sentinel err wraps, the code of a *task.CodeError, else FAIL (-1).
func Status(err error) int32 {
	if err == nil {
		return 0
	}
	for _, s := range statuses {
		if errors.Is(err, s.Err()) {
			return int32(s)
		}
	}
	var ce *task.CodeError
	if errors.As(err, &ce) {
		return int32(ce.Code)
	}
	return int32(task.Fail)
}

// StatusErr is the error of a status code and its message: nil for 0, else
// an error that wraps the code's sentinel (errors.Is(err, kernel.ErrChanFull)
// and so on) and reads msg.
func StatusErr(code int32, msg string) error {
	if code == 0 {
		return nil
	}
	sent := task.Status(code).Err()
	if msg == "" || msg == sent.Error() {
		return sent
	}
	return &statusError{sent: sent, msg: msg}
}

type statusError struct {
	sent error
	msg  string
}

func (e *statusError) Error() string { return e.msg }
func (e *statusError) Unwrap() error { return e.sent }

// Err returns the result's error (nil when every task was emitted).
func (r *EmitResult) Err() error { return StatusErr(r.GetStatus(), r.GetError()) }

// Err returns the answer's error (nil on success).
func (r *Subscribed) Err() error { return StatusErr(r.GetStatus(), r.GetError()) }

// Err returns the answer's error (nil on success).
func (r *Unsubscribed) Err() error { return StatusErr(r.GetStatus(), r.GetError()) }
