// Package metrics holds GMK's counters, gauges and histograms and their
// Prometheus exposition (GMK.md [O1]).
//
// Metric updates are unconditional and independent of tracing ([O1]), so they
// must be cheap enough to run on every task. The design rule (DESIGN.md,
// performance rules) is that a worker never touches a shared atomic per task:
//
//   - Set is a group of counters sharded per worker. A worker's Shard.Add is a
//     plain add into the worker's own cache lines plus, on a counter's first
//     change since the last flush, an append to a dirty list. Shard.Flush, run
//     by the worker once per loop iteration and when it parks or halts,
//     publishes the changed counters with one atomic store each. Readers sum the
//     published values over all shards (Set.Value), so they see a running
//     worker's counts at most one batch late. Goroutines that own no shard use
//     Set.AddShared, an atomic add on a shared shard.
//   - Gauge (atomic int64 with Set, Add and a high-watermark Max) and Histogram
//     (log2 buckets with atomic counts) are for values updated per batch, per
//     tick or per event, and by the control plane.
//
// NewCollector turns families of these values into a prometheus.Collector;
// register it with a prometheus.Registry and serve it with promhttp.
//
// # Concurrency
//
//   - Shard.Add, Shard.Inc, Shard.Flush, Shard.Local, Shard.Dirty: the shard's
//     owner goroutine only.
//   - Set.AddShared, Set.Value, Set.Values, every Gauge and Histogram method, and
//     the collector: any goroutine.
//   - A Flush synchronizes before any Value that observes a value it stored.
package metrics
