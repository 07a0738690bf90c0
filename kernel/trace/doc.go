// Package trace holds GMK's trace records, per-worker trace rings, per-module
// levels, sampling and the Chrome/Perfetto exporter (GMK.md [O2], [O3]).
//
// # Records and rings
//
// A Record is a fixed-size, pointer-free 32-byte value: timestamp (or logical
// tick), task type, tenant, event, flags and two arguments. Every worker owns
// one Writer, a single-producer single-consumer ring of Records whose cells live
// in arena memory (RingBytes says how much). The worker Emits; the host's trace
// drainer Drains. Neither side ever waits for the other: when the ring is full
// Emit drops the record and counts it (Lost), so tracing can lose records but
// never stall a worker.
//
// # Cost control
//
// Three mechanisms decide whether a record is written ([O3]):
//
//   - Levels: a per-module level (Off, Error, Warn — the default —, Info, All),
//     changeable at run time from any goroutine. Event.Level says at which level
//     each event starts being recorded.
//   - Sampling: at level All the per-task events (TaskStart, TaskEnd, ChanEmit,
//     ChanDrain) are recorded only for tasks that Writer.Sample selects, with
//     probability 1/sampleEvery from a per-worker PRNG; their records carry the
//     Sampled flag.
//   - The build tag gmk_notrace: Enabled becomes a false constant and every
//     guarded trace call disappears from the binary.
//
// Tasks flagged EMIT_TRACE are traced whatever the level, with the Forced flag.
//
// # The caller's duties
//
// Kernel code guards every trace call with the constant, so that the stripped
// build has no trace cost at all, then asks the level, then (for per-task
// events) the sampler:
//
//	if trace.Enabled {
//		traced := forced || levels.Get(mod) == trace.All && w.Sample()
//		if traced {
//			r := trace.Record{TS: now, Type: t.Type, Tenant: t.Tenant, Event: trace.TaskStart, Flags: flags}
//			w.Emit(&r)
//		}
//	}
//
// Non-per-task events use levels.Enabled(mod, e) || forced instead of the
// sampler. Reading the clock is part of the guarded code: without tracing the
// worker never calls time.Now per task.
//
// # Concurrency
//
//   - Writer.Emit and Writer.Sample: the owning worker goroutine only.
//   - Writer.Drain: one consumer goroutine at a time; it does not block and does
//     not stall the worker. A record's Emit synchronizes before the Drain that
//     returns it.
//   - Writer.Lost, Writer.Len, Levels (all methods): any goroutine.
//   - Exporter and WriteChrome: plain functions of their arguments.
//
// # Viewing traces
//
// WriteChrome (or an Exporter with type names) writes the Chrome trace-event
// JSON format; load the file in https://ui.perfetto.dev or chrome://tracing.
// Task executions show as slices on one track per worker, other events as
// instants.
//
// # Measuring the cost of tracing
//
// The benchmarks compare a guarded trace call with and without the tag:
//
//	go test -run '^$' -bench . ./kernel/trace
//	go test -run '^$' -bench . -tags gmk_notrace ./kernel/trace
//
// In the second run BenchmarkGuardedTrace measures the empty loop: the guarded
// code is compiled out.
package trace
