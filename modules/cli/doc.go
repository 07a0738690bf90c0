// Package cli is the in-kernel side of the gmk command line ([U2], [U5]):
// a module that keeps the most recent failed and dropped tasks — and,
// optionally, the tasks of channels it taps — in a bounded ring that the
// node's admin endpoint serves (gmk log --errors, gmk log --tasks).
//
// # Channel contract
//
//	sys.error    consumed (subscribed at Init, catch-all handler): every
//	             task that ended in sys.error — type, tenant, meta0, meta1,
//	             payload as it failed; the status code in the report
//	sys.dropped  consumed the same way: every task that ended in
//	             sys.dropped, with its drop code
//	taps         consumed (declared): each Config.Taps channel, with the
//	             shape the tap gives (it must agree with the channel's other
//	             declarations); a tap ends its tasks (the module is their
//	             consumer)
//
// The module produces nothing and never fails a task: every delivery is
// recorded and completes (OK), so Stats.Taken counts every task the module
// took, and Errors + Dropped + Tapped == Taken. The ring keeps the last
// Config.Size entries; older ones are counted in Stats.Evicted. Each entry
// copies up to PreviewLen payload bytes; the payload itself is the
// runtime's, released when the handler returns.
//
// The system channels are subscribed at run time, not declared: a
// declaration would have to agree on one handler type with every other
// module of the node that consumes sys.error, while a run-time catch-all
// subscription joins any node. A restart (Fini, Init) keeps the
// subscriptions made by the first Init.
//
// # Concurrency
//
// sys.error, sys.dropped and the taps may be homed on different workers,
// so the ring is guarded by a mutex (taken once per recorded task, off any
// hot path: these are failures, drops and operator taps). Recent and Stats
// may be called from any goroutine at any time.
package cli
