// Package actors is the protoactor adaptation of GMK ([X1], [X2], [X4]): it
// boots a kernel from a YAML supervision tree (actors/config) and gives every
// module and every supervisor of that tree a protoactor actor.
//
// # Module actors and supervision
//
// A module actor owns its module's lifecycle: Init when it starts, Fini when
// it stops, Fini then Init when it restarts (the kernel is booted with
// ExternalLifecycle). Handlers still run on the kernel's workers, from the
// rings: no task goes through a mailbox. When a handler fails or panics, the
// Node — the kernel's Supervisor — sends a *Failure to the module actor and
// the kernel parks the task (kernel.ActDefer). The module actor fails with
// that *Failure, so protoactor hands it to the strategy of the module's
// supervisor: the config's GMK strategy (actors/supervise: one_for_one,
// one_for_all, rest_for_one, intensity, restart types, backoff) or any
// protoactor strategy given with WithStrategy, used unchanged. A tap around
// the strategy sees the directive it gives and tells the kernel:
//
//	Resume   → the task is retried after the kernel's backoff
//	Restart  → the module (and the siblings the strategy names) re-Init,
//	           one after another in start order; then the task is retried
//	Stop     → the module actor stops: its types are poisoned, the task and
//	           every later task of its types go to sys.error (POISONED),
//	           until Reset
//	Escalate → the parent supervisor's strategy decides for the subtree
//
// A task is never dropped: it is retried, sent to the channel's error
// handler or to sys.error (RETRY_LIMIT when its retries ran out), and a
// task still waiting for a directive when the kernel halts is counted as
// queued. RETRY — a handler asking to run again, as after CHAN_FULL — is
// not a failure: it keeps the kernel's backoff and reaches no actor.
//
// An escalation that reaches the top of the tree stops the tree (Erlang/OTP:
// the application terminates); the kernel keeps running and Reset brings
// modules back.
//
// # Concurrency
//
// Node's methods are safe for concurrent use. Decide runs on kernel workers
// and only sends a message; it takes no lock that is held while the kernel
// waits for its workers (a module's hold waits for them to leave its
// handlers, and one of them may be failing into Decide). The actors run on protoactor's goroutines and
// call the kernel's control-plane API (InitModule, FiniModule, Resolve,
// PoisonModule, ResetModule). A supervisor starts and restarts its children
// one at a time, blocking its own mailbox meanwhile, as an OTP supervisor
// does.
package actors
