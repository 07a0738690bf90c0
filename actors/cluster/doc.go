// Package cluster makes GMK channels span the members of a protoactor
// cluster ([X5]). A Member joins a cluster (cluster.Cluster) with a GMK
// kernel; a cluster channel's name is the same on every member, producers
// on any member emit on it locally, and its one consumer runs on one member
// — placed, and re-placed when its member is lost, by the cluster.
//
// # Setup
//
//	m, _ := cluster.New(cluster.Config{Channels: []cluster.Channel{
//		{Name: "orders.in", Type: tOrder, Consume: true}}})
//	k, _ := kernel.Boot(cfg, m.Module(), m.Consumer(ordersModule), producers...)
//	c, _ := cluster.Join(sys, m, "shop", provider, remote.Configure("127.0.0.1", 0))
//	id, _ := m.Chan("orders.in") // producers: k.ChanEmit(id, t), or declare Produce "orders.in"
//	...
//	m.Leave(ctx); c.Shutdown(true); k.Halt(ctx)
//
// Member.Module is the member's kernel module. Member.Consumer wraps the
// module that consumes a channel (it declares Consume on the channel's name
// as usual). Join configures the protoactor cluster (disthash identity
// lookup, the member's kinds) and starts it; Start does the last step for a
// cluster configured by the caller with Member.Kinds. Any protoactor cluster
// provider works: the in-memory test provider in one process, automanaged
// across processes without an external service.
//
// # How a task travels
//
// Producer member. The cluster channel's local end is a lossless P2P kernel
// channel whose subscriber is the member module's relay handler. The relay
// copies each delivery (its 48-byte record and payload bytes) into the
// channel's producer stream, numbering it 1, 2, 3 …, and returns OK: it
// never blocks, fails or yields, so it sees the channel's order. The stream
// keeps every task until the consumer acknowledges it. At Window
// unacknowledged tasks the relay pauses its own subscription
// (kernel.ChanPause): the local channel fills, and the kernel's lossless
// backpressure holds the producers (CHAN_FULL, ChanEmitWait blocks, handlers'
// RETRY is held). Acknowledgements below Window/2 resume it.
//
// A sender actor per channel resolves the channel's grain (cluster.Get of
// identity name, kind Kind(name)) and sends the stream as clusterpb.Batch
// messages through protoactor remote: up to BatchTasks records per batch,
// InflightBytes sent and unacknowledged, and — Nagle's rule — a small batch
// only when nothing is in flight, so batches grow with the load.
//
// Consumer member. Only members whose Config marks the channel Consume
// register its kind, so disthash places the grain on one of them. The grain
// hands batches to the member's pump goroutine, which accepts each stream's
// tasks in order (a task already accepted is a duplicate and skipped; a
// batch after a lost one is dropped and the stream asked to rewind), copies
// payloads into the arena and emits the tasks on the delivery channel
// DeliveryName(name), a lossless P2P kernel channel consumed by the module
// wrapped by Consumer. The wrapper reports every task its handler finished
// (OK and not yielded); a task whose handler failed for good reaches the
// member module's error handler on the delivery channel and counts as
// finished (Stats.Failed). The pump acknowledges each stream cumulatively
// up to its exact low-water mark — a task retried by the kernel holds the
// acknowledgement back even when later ones finished — every AckEvery tasks,
// and at once when the consumer caught up.
//
// # Guarantees
//
// Lossless: a task emitted on a cluster channel is handled by a consumer at
// least once; the stream keeps it until a consumer acknowledged it after
// handling it. While members stay up nothing reaches a handler twice (the
// grain's member skips duplicates per stream) and each stream's tasks are
// handled in order.
//
// Losing a member. When the member of the channel's grain leaves the
// topology, the producers' local channels are suspended (kernel.ChanSuspend:
// emits fail with CHAN_CLOSED, queued tasks stay) until the grain is active
// on a surviving consumer member; then every unacknowledged task is sent
// again, flagged task.Redelivered and counted (Stats.Redelivered), and the
// channel reopens. A task the lost member handled but had not acknowledged is
// handled twice — only such redelivered tasks are. A stream with tasks in
// flight and no acknowledgement for 10 ticks sends them again too (flagged).
//
// # Limits
//
// A cluster channel is lossless and P2P: one consumer grain, one task type
// (every member must configure the same Type). A consumer member's kernel
// must have the tenants its producers use and room in its arena for the
// payloads in flight; a task it cannot take (type, tenant, a payload larger
// than a block) is counted in Stats.Rejected and acknowledged. The consumer
// module must be wrapped by Member.Consumer, so a module booted from a YAML
// tree by its registered name cannot consume a cluster channel yet.
//
// # Concurrency
//
// Member's methods are safe for concurrent use. The relay runs on the home
// worker of its subscription; the producer stream is a single-producer
// single-consumer ring shared with the channel's sender actor (see
// outbound). Sender actors own their streams' sending state; acks and
// topology events reach them as messages. The pump goroutine owns the
// consumer state; the consumer's workers touch only its completion slots
// (see inbound). Leave stops the senders, the pumps, the ticker and waits for
// pending resolutions; no goroutine of the package survives it.
//
// Member.Placement reports the member's view for the control plane (the
// admin endpoint's cluster section and web view): its address, the members
// it sees, and for each channel the member of the consumer grain its stream
// sends to and, on that member, the members whose streams it receives. It
// reads only what the senders, the topology subscriber and the pumps publish
// (atomics, copy-on-write lists) outside the per-task path.
//
// Logs go to Config.Logger (zap; none by default). protoactor logs through
// the ActorSystem's slog logger, which the caller configures (zapslog adapts
// a zap core).
package cluster
