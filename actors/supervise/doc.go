// Package supervise is GMK's own supervision for protoactor-go, with
// Erlang/OTP semantics and an Akka-style backoff ([X2]). Its Strategy
// implements actor.SupervisorStrategy, so it plugs into any protoactor actor
// with actor.WithSupervisor; GMK's module actors use it, and KernelAction
// turns its directives into the kernel's actions for failed tasks.
//
// # What it fixes in protoactor's own strategies
//
// protoactor-go counts restarts per child and, when the budget is spent,
// stops that child; it has no rest_for_one and no child restart types; its
// "exponential" backoff waits failures×initial (linear, uncapped, no limit);
// and the message a child was processing when it failed is dropped unless
// escalated. Here:
//
//   - Strategies OneForOne, OneForAll, RestForOne over the children in start
//     order: siblings are stopped last-started first and restarted in start
//     order (Tree, Plan).
//   - Restart intensity per supervisor, across all its children: more than
//     Flags.Intensity restarts within Flags.Period terminate every child in
//     reverse start order and escalate to the supervisor's parent. Defaults
//     are OTP's (one_for_one, 1 in 5 s); a tree usually wants a burst
//     tolerance and a sustained rate, such as 5 in 30 s.
//   - Child restart types Permanent, Transient (restarted only after an
//     abnormal exit) and Temporary (never restarted, not even when a
//     sibling's failure terminates it).
//   - Backoff: min(Max, Min·2ⁿ)×(1+u·Factor), kept within [Min, Max] (Akka
//     lets the jitter exceed its max), reset after a quiet period, optional
//     limit of restarts in a row.
//   - The failing message is handed to Config.OnFailedMessage and published
//     in the Decision, so GMK can retry it or send it to sys.error.
//
// # Pure core, thin adapter
//
// Tree and Backoff/BackoffState are plain values: they read no clock (time
// is passed in), start nothing and draw no random numbers (the caller passes
// them). Strategy is the adapter: it keeps one Tree per supervisor, asks
// the Decider for a directive, plans, and carries the plan out through
// protoactor's actor.Supervisor (StopChildren, RestartChildren,
// ResumeChildren, EscalateFailure). Its clock, random source and Scheduler
// (for backoff delays) are injected.
//
// # Caller's duties
//
// A supervisor Adds each child to the Strategy right after spawning it: the
// order of Add is the start order. (Children never added are learned as
// Permanent from supervisor.Children() at their first failure; protoactor's
// child set keeps spawn order only until a child stops, so add them.)
// Remove a child on *actor.Terminated; children that vanished are also
// forgotten at the next failure. A child reports a normal or shutdown exit
// by failing with ErrExitNormal or ErrExitShutdown (or set Config.Classify);
// every other failure is abnormal. protoactor reports a child's own Stop to
// the parent only as Terminated, which is not a failure.
//
// # Mapping onto protoactor
//
// protoactor restarts a child in place: Restarting, then Started, on the
// same PID, with its mailbox kept. So a sibling that OTP would terminate and
// start again gets one RestartChildren; siblings that only stop (temporary
// ones) get StopChildren first, in reverse start order; then the restarts
// are issued in start order. Each child runs its restart on its own mailbox:
// with protoactor's goroutine dispatcher they proceed concurrently, in issue
// order only per child; with the synchronized dispatcher they run one after
// another in exactly the plan's order. With a Backoff, the restarts of a plan
// are issued together after the delay; siblings to restart keep running
// until then. On escalation the failed child (suspended by protoactor, not
// gone) is stopped in its place among the others before EscalateFailure.
// Resume does not count against the intensity (as in Akka and protoactor).
//
// # Concurrency
//
// Strategy's methods are safe for concurrent use; one Strategy may serve
// many supervisors, each with its own Tree, keyed by the supervisor's PID.
// HandleFailure runs on the supervisor's goroutine; it holds the Strategy's
// mutex only while planning, and calls the Supervisor, publishes on the
// EventStream and calls OnFailedMessage without it (so they may call Add
// or Remove). Scheduler callbacks call only RestartChildren, which sends
// system messages and is safe from any goroutine. Tree and BackoffState are
// not safe for concurrent use.
package supervise
