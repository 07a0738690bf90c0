// Package stats is the stats module ([U2], [G5]; [U1] stats): producers
// update counters, gauges and histograms by sending tasks, so that code
// without a registry at hand — the GPU side, other members — feeds the same
// metrics ([O1]) as the CPU handlers.
//
// # Channel contract
//
//	stats.in  consumed; P2P, lossless; type InType (default 973)
//	          meta0 = metric id (bits 0..31) | op (bits 32..39)
//	          meta1 = value
//
// The metric id is the index of the metric in Config.Metrics, fixed at
// configuration (names do not travel). Ops (sdk.StatOp):
//
//	StatAdd      counter: add meta1 (uint64); gauge: add meta1 (int64)
//	StatSet      gauge: set meta1 (int64)
//	StatObserve  histogram: observe meta1 (uint64)
//
// Counters are the kernel's user counters (Kernel.Metric; exposed by the
// kernel's Collector); gauges and histograms live in an sdk.Stats registry
// (Stats.Registry; exposed by its Collector). Failure codes:
// CodeBadRequest for an unknown id or an op the metric's kind does not have.
//
// # Concurrency
//
// Updates are lock-free: a counter add is a worker-local add, a gauge or
// histogram update one or two atomics. Nothing allocates on the task path.
package stats
