// Package channel implements GMK channels within one kernel ([C1]–[C11]):
// the name registry, P2P and fan-out delivery, the lossy and lossless
// guarantees, the priority reserve, the lossless replay buffer and channel
// error handlers.
//
// A subscription (Sub) is a bounded multi-producer ring drained by one home
// worker, which runs the subscriber's handler for each delivery one at a time
// in queue order: a subscriber sees its channel FIFO. Emit never blocks:
//
//   - P2P (one subscriber) is one ring push, without locks ([C4]).
//   - Lossy fan-out copies the header to every subscriber; a full subscriber
//     loses its copy to sys.dropped while the others still get theirs ([C5],
//     [C6]).
//   - Lossless fan-out (and any lossless channel with a replay buffer) holds a
//     short spin lock so that either every subscriber gets the message or the
//     emit fails with CHAN_FULL, every subscriber sees the same order, and the
//     per-channel sequence has no gaps ([C7]).
//
// Payload references follow [A4]: on success the emitter's reference moves to
// the copies, and fan-out adds one reference per extra copy through Env.
//
// Concurrency: Emit and Registry.Get are safe from any goroutine; Drain and
// Ack belong to the subscription's home worker; Open, Subscribe,
// SetErrorHandler and Close are control-plane operations serialised by mutexes.
// The package knows nothing of workers or actors: the kernel supplies an Env.
package channel
