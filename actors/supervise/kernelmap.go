package supervise

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/gmkernel/gmk/kernel"
)

// KernelAction maps a directive for a module actor to the kernel's action
// for the failed task ([X2]):
//
//	Resume   → kernel.ActRetry    retry the task after backoff
//	Restart  → kernel.ActRestart  re-Init the module, then retry
//	Stop     → kernel.ActPoison   poison the module's types until reset
//	Escalate → kernel.ActError, escalate = true
//
// Escalate means the parent decides: the caller asks the parent
// supervisor's strategy and maps its directive again. ActError is what the
// task gets when no parent is left to ask: the channel's error handler,
// else sys.error — never dropped. Unknown directives map the same way.
func KernelAction(d actor.Directive) (a kernel.Action, escalate bool) {
	switch d {
	case actor.ResumeDirective:
		return kernel.ActRetry, false
	case actor.RestartDirective:
		return kernel.ActRestart, false
	case actor.StopDirective:
		return kernel.ActPoison, false
	}
	return kernel.ActError, true
}
