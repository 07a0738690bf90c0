// Package kernel is GMK/cpu, the CPU microkernel of GMK: the tier-1 API of
// tasks, handlers, modules, channels, allocators and observability, and the
// worker goroutines that run them.
//
// # Model
//
// A Task is a 48-byte value ([T1]). Modules register handlers by task type
// ([M1]); Boot fills a dispatch table indexed by type ([M3]), opens the
// channels the modules declare and checks the declarations ([C11]), runs Init,
// and starts the workers. Each worker loops gather → dispatch → park ([S6]):
// it moves deliveries of the channel subscriptions it is home to into its local
// queue, pops a batch from that queue, tops the batch up from the shared ready
// queue, fires due retry events, runs the handlers, and parks (bounded, 1 ms)
// when nothing is found — after yielding its processor a few times when its
// work came from its subscriptions, so that a pipeline stage stays runnable
// while the stage feeding it catches up. Submit wakes a parked worker. A
// handler's emit on a lossless P2P channel takes a route found once per
// channel: the handoff slot described next, or the worker's outbox, which
// hands deliveries to another worker in batches. A lossless P2P delivery
// that a handler makes for a subscription homed on its own worker, with
// nothing else of that subscription pending, runs right after the handler
// (the handoff slot): a co-located pipeline takes each item through its
// stages depth-first, without a trip through the local queue. Such a
// delivery — no payload, no flag, its module traced below ALL, no type
// poisoned and no module held — is dispatched by a short path whose
// counters are added to the worker's shard once per batch, as are those of
// the handoffs a route makes. Boot homes a
// pipeline's stages (modules chained by their channel declarations) in
// segments of consecutive stages, one worker each, as many segments as the
// workers and the pipeline's length allow while each keeps at least two
// stages' work (the outside feed counts as one); ChanDecl.Pin overrides it.
//
// Handlers see the kernel through *Ctx: Emit (a follow-on task, kept on the
// same worker), ChanEmit, Alloc/Free/Bump/Payload/PayloadRetain/
// PayloadRelease, Yield/YieldAt/YieldPoint, Trace, MetricInc, Worker, Tenant,
// Tick.
//
// # Guarantees
//
// Every task that enters the kernel — submitted, emitted, delivered by a
// channel — ends in exactly one of: completed (the handler returned OK),
// sys.error (a failure the supervisor did not retry), sys.dropped
// (undeliverable), or still queued when Halt stopped the workers ([C9]):
//
//	Stats.Created() == Completed + Errored + Dropped + HaltReport.Queued
//
// The runtime owns a task's payload reference and releases it when the task
// ends; PayloadRetain takes a reference the module owns ([A4]).
//
// A channel subscription's deliveries run on its home worker, one at a time,
// in channel order. Direct tasks (Submit, Emit) of one type may run on several
// workers at once, so module state they share must be synchronised. A retried
// or yielded delivery may be overtaken by later ones.
//
// Handler failures (FAIL, a panic, the yield limit) are decided by a
// Supervisor ([X2] hook): the built-in Backoff retries RETRY with exponential
// backoff and jitter and sends the rest to the channel's error handler or
// sys.error ([F1], [F2]). Independently, a type with Poison.Failures failures
// within Poison.Window ticks is poisoned: its new tasks go to sys.error until
// ResetType ([F3]).
//
// # Concurrency
//
// Kernel methods are safe for concurrent use. A Ctx belongs to its worker and
// is valid only during the handler call. Handlers must not block: a blocked
// handler blocks its worker. Halt waits for the workers; no goroutine survives
// it.
//
// Some control waits for the workers: a module hold (HoldModule, a restart's
// Fini and Init) until none runs the module's handlers, Snapshot until all
// pause, Halt until all leave. Code that runs on the workers — handlers, a
// Supervisor's Decide, a ChanObserve function — must therefore not wait for
// a lock that is held while such control waits, nor call the outside API
// (Submit, ChanEmit …), which a Snapshot holds at the gate.
//
// # Costs
//
// The per-task path takes no lock, allocates nothing, and reads no clock
// unless tracing asks for it: counters are per worker and published once per
// batch; tracing is sampled and can be compiled out with -tags gmk_notrace.
package kernel
