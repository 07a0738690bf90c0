// Package chans makes GMK channels actors ([X3]): every channel of a kernel
// has a PID in a protoactor ActorSystem. Any actor — local, or on another
// ActorSystem through protoactor remote — emits onto a channel by sending
// to its PID, and subscribes a PID, which then receives the channel's tasks
// as actor messages with the channel's guarantee.
//
// # Setup
//
// Boot the kernel with Module() (the relay module), then Start the channel
// actors in an ActorSystem; Stop them before halting the kernel:
//
//	k, _ := kernel.Boot(cfg, chans.Module(), mods...)
//	cs, _ := chans.Start(sys, k, chans.Config{})
//	pid, _ := cs.PID("orders.in") // actor "gmk/chans/orders.in"
//	...
//	cs.Stop(); k.Halt(ctx)
//
// A channel's actor is named ActorName(channel); the directory actor
// (Prefix) forwards wire messages by their channel field, so a remote actor
// needs only the address: actor.NewPID(addr, chans.Prefix).
//
// # Emitting
//
// A channel actor takes a *wire.Emit (a batch of 48-byte task records and
// their payloads; the form that crosses ActorSystems), a kernel.Task, a
// *kernel.Task or a []kernel.Task (local senders; the payload reference
// moves to the actor), or a user protobuf message whose type has a codec
// (RegisterCodec; one task of the codec's type). It checks every task first
// — channel, type, tenant, payload size — and emits nothing when one is
// invalid; then it copies payloads into the arena and emits. A sender gets
// a *wire.EmitResult: how many tasks were emitted (a prefix) and the kernel
// status code and text of what stopped the rest. Without a sender nothing is
// answered, and refused tasks are counted in Stats.Rejected.
//
// On a full lossless channel an emit waits for room (unless fail_fast asked
// for CHAN_FULL at once). It waits on a goroutine of its own, never in the
// actor, and later emits to the same channel wait behind it, so a sender's
// emits reach the channel in the order it sent them.
//
// # Subscribing
//
// A *wire.Subscribe subscribes a PID (the sender by default); it is
// answered with *wire.Subscribed carrying the subscription's id. The relay
// module's catch-all handler is subscribed to the kernel channel like any
// consumer; on the subscription's home worker it copies each delivery into
// the subscription's outbox and returns OK at once — it never blocks a
// worker, fails or yields, so a slow actor costs the kernel nothing. The
// channel actor sends the outbox as *wire.Delivery batches (numbered from 1
// per subscription, without gaps) with at most Window tasks sent and not
// acknowledged: the subscriber returns credit with *wire.Ack (Delivery.Ack
// builds it; Respond sends it to the channel actor). With auto_ack every
// batch counts as acknowledged when sent, and the subscriber's mailbox is
// the buffer; with decode, tasks of a type with a codec arrive as the
// decoded messages.
//
// Guarantees. A subscriber of a lossless channel gets every task, in channel
// order. A subscriber of a lossy channel gets its tasks in order, but one
// that is more than LossyQueue tasks behind what its credit lets the actor
// send loses the newest (drop-slow). Losses are counted — Stats.Dropped,
// the kernel metric MetricDropped, and Delivery.dropped, the running total
// the subscriber sees — never silent.
//
// Backpressure. The relay handler buffers each delivery in its outbox and
// returns at once; a lossless subscription whose outbox holds Window tasks
// (at least 64) beyond what was sent pauses its kernel subscription
// (Kernel.ChanPause) and resumes at half that: while paused the kernel
// channel fills, and its producers get CHAN_FULL (or wait, with
// ChanEmitWait) — a slow actor holds its producers back and costs the
// workers nothing. MaxPending (default about a million) remains as a
// safety bound: a lossless subscriber that still falls that far behind its
// credit overflows, counted in Stats.Overflow, the same metric and
// Delivery.dropped — the rule the kernel applies to a lossless subscriber
// that falls behind its replay buffer ([C7]).
//
// Ending. Unsubscribe ends a subscription; so does the subscriber's
// termination (the channel actor watches every subscriber, remote ones
// too), and Stop. The kernel cannot unsubscribe, so the relay's kernel
// subscription stays: its deliveries are counted as orphaned until a new
// subscriber of the channel takes the slot over (a P2P channel's next
// subscriber continues from there). Tasks queued in the outbox when it
// ended are counted as abandoned.
//
// Accounting. Every delivery the relay takes is in exactly one of Sent,
// Dropped, Overflow, Abandoned, Pending (per subscription and in total), or
// Orphaned; every task an actor asked to emit is Emitted or Rejected.
//
// # Concurrency
//
// Channels' methods are safe for concurrent use. A channel actor's state
// belongs to it; an outbox is shared by the relay handler (its home worker)
// and the channel actor under a mutex held for a few field updates; the
// relay's table is written by channel actors with atomic stores and read by
// workers with atomic loads. Stop waits for the actors and for the
// goroutines of waiting emits.
package chans
