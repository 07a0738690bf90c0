package actors

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// Failure is a handler failure reported to its module actor ([X2]). The
// module actor fails with it — it is both the panic reason and the message
// protoactor hands to the supervisor's strategy — so a Decider can look at
// the task, its status and the recovered panic value (errors.As).
type Failure struct {
	Module  string
	Task    kernel.Task
	Status  kernel.Status // a FAIL code, PANICKED or YIELD_LIMIT
	Panic   any           // the recovered value when Status is PANICKED
	Retries int           // retries the task already had

	ticket uint64
	origin *entry           // the module that failed
	sup    actor.Supervisor // the module's own supervisor (resumes it after an escalation)
	seen   atomic.Bool      // a strategy has it: its outcome comes from a tap
	done   atomic.Bool
}

func (f *Failure) Error() string {
	if f.Status == task.Panicked {
		return fmt.Sprintf("gmk: module %s: task type %d panicked: %v", f.Module, f.Task.Type, f.Panic)
	}
	return fmt.Sprintf("gmk: module %s: task type %d failed: %v", f.Module, f.Task.Type, f.Status)
}

// Decide implements kernel.Supervisor: a failure of a supervised module
// becomes a Failure message to its module actor and the decision is
// deferred until the supervisor's directive is known. RETRY — a handler
// asking to be run again, such as after CHAN_FULL — is not a failure and
// keeps the kernel's own backoff; so do failures of modules that have no
// actor.
func (n *Node) Decide(f *kernel.Failure) kernel.Decision {
	e := n.modules[f.Module]
	if f.Status == kernel.Retry || e == nil {
		return n.backoff.Decide(f)
	}
	r := &Failure{Module: f.Module, Task: f.Task, Status: f.Status, Panic: f.Panic,
		Retries: f.Retries, ticket: f.Ticket, origin: e}
	if !e.report(n.sys, r) {
		// The module actor is stopped: its types are poisoned (a task
		// dispatched just before that still finds this path).
		return kernel.Decision{Action: kernel.ActPoison}
	}
	return kernel.Decision{Action: kernel.ActDefer}
}

// resolve turns the directive's outcome for r into the kernel's decision,
// once. Resume and Restart (after the re-Init) retry the task after the
// kernel's backoff, unless it used up its retries: then it goes to the
// channel's error handler or sys.error with its last status (the FAIL code
// or PANICKED). Stop poisons (the module actor stopped).
func (n *Node) resolve(r *Failure, a kernel.Action) {
	if !r.done.CompareAndSwap(false, true) {
		return
	}
	r.origin.forget(r)
	d := kernel.Decision{Action: a}
	switch {
	case a == kernel.ActRetry && r.Retries >= n.k.RetryLimit(r.Task.Type):
		d = kernel.Decision{Action: kernel.ActError} // reported with its own status
	case a == kernel.ActRetry:
		d.Delay = kernel.BackoffDelay(n.cfg.Retry, r.Retries, rand.Uint64())
	}
	if err := n.k.Resolve(r.ticket, d); err != nil {
		n.log.Debug("resolve after halt") // the kernel halted meanwhile: counted as queued
	}
}

// tap wraps a supervisor's strategy — protoactor's own or GMK's, unchanged —
// and watches the directives it gives for Failure reports, so that each
// becomes the GMK action of [X2]. Other failures pass through untouched.
type tap struct {
	inner actor.SupervisorStrategy
	n     *Node
}

func (t tap) HandleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID,
	rs *actor.RestartStatistics, reason, message any) {
	f, ok := message.(*Failure)
	if !ok {
		t.inner.HandleFailure(sys, sup, child, rs, reason, message)
		return
	}
	if f.sup == nil {
		f.sup = sup // the first supervisor to see it is the module's own
	}
	f.seen.Store(true)
	rec := &recorder{Supervisor: sup, f: f, child: child, n: t.n}
	t.inner.HandleFailure(sys, rec, child, rs, reason, message)
	if rec.stopped && !rec.escalated { // strategies stop synchronously
		t.n.resolve(f, kernel.ActPoison)
	}
}

// recorder is the actor.Supervisor a tapped strategy acts through: it
// forwards every call to the real one and notes what happened to the child
// that carried the Failure (the module, or the supervisor it escalated to).
//
//	Resume   → retry the task after backoff (resuming the module too when the
//	           failure was escalated: protoactor leaves it suspended)
//	Restart  → the module re-Inits when its actor starts again, then retry
//	Stop     → the module actor stops: its types are poisoned, the task goes
//	           to sys.error (POISONED); so do failures still in its mailbox
//	Escalate → the parent's tap sees the same Failure and decides it, even
//	           when the escalating strategy stopped the module first
type recorder struct {
	actor.Supervisor
	f         *Failure
	child     *actor.PID
	n         *Node
	stopped   bool // the child was stopped (during HandleFailure)
	escalated bool // and the failure went to the parent
}

// StopChildren stops the children one after another in the order given
// (the strategies give reverse start order), each gone before the next is
// told, so that Finis run in that order.
func (r *recorder) StopChildren(pids ...*actor.PID) {
	r.stopped = r.stopped || containsPID(pids, r.child)
	r.inTurn(pids, (*entry).nextStop, r.Supervisor.StopChildren)
}

func (r *recorder) EscalateFailure(reason, message any) {
	r.escalated = true
	r.Supervisor.EscalateFailure(reason, message)
}

func (r *recorder) ResumeChildren(pids ...*actor.PID) {
	r.Supervisor.ResumeChildren(pids...)
	if !containsPID(pids, r.child) {
		return
	}
	if p := r.f.origin.PID(); p != nil && !p.Equal(r.child) {
		r.f.sup.ResumeChildren(p)
	}
	r.n.resolve(r.f, kernel.ActRetry)
}

// RestartChildren restarts the children one after another, each started
// before the next begins, so that Inits run in start order (protoactor would
// restart them all at once, each on its own mailbox).
func (r *recorder) RestartChildren(pids ...*actor.PID) {
	if containsPID(pids, r.child) {
		r.f.origin.awaitStart(r.f) // before the restart can begin
	}
	r.inTurn(pids, (*entry).nextTry, r.Supervisor.RestartChildren)
}

// inTurn applies do to each pid and waits for the event next returns
// before it goes on to the next pid.
func (r *recorder) inTurn(pids []*actor.PID, next func(*entry) <-chan struct{}, do func(...*actor.PID)) {
	if len(pids) == 1 {
		do(pids...)
		return
	}
	for _, p := range pids {
		e := r.n.entryOf(p)
		if e == nil {
			do(p)
			continue
		}
		ev := next(e)
		do(p)
		select {
		case <-ev:
		case <-time.After(r.n.startWait):
			r.n.log.Warn("child did not stop or start in time", zap.String("child", e.name))
		}
	}
}

func containsPID(pids []*actor.PID, p *actor.PID) bool {
	return slices.ContainsFunc(pids, p.Equal)
}
