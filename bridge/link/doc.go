// Package link makes bridge channels ([B1]-[B4]): a channel declared on two
// kernels, produced on one and consumed on the other, carried between them
// over a bridge Transport (package bridge: the ring ABI, batching, staging).
// Modules never see the difference: a producer emits on its kernel's
// channel, a consumer is subscribed to its kernel's channel of the same
// name, and the link moves the tasks in between.
//
// # Shape
//
// Route finds the bridge channels of two kernels from their modules'
// declarations, by locality ([K1]), and rejects declarations that disagree
// across the kernels. Each kernel gets an Endpoint with a Wire per bridge
// channel — the channel and this kernel's end of a transport; one
// transport carries one channel each way (host.rx CPU→GPU and host.tx
// GPU→CPU, the default pair, share one). On the producing kernel:
//
//	channel → relay handler → outbox → sender goroutine → ring
//
// The relay module (Endpoint.Module, included at Boot) subscribes a
// catch-all handler to each channel the kernel produces. On the channel's
// home worker it retains the delivery's payload reference and puts the
// task in an outbox (a bounded MPSC ring), and returns OK. The sender
// goroutine stages outbox tasks into the ring — payload bytes copied into
// the staging area, then the source reference released ([B3]); inline
// tasks carry no payload and cost no copy — and publishes them in batches
// of up to 64, or when the outbox ran dry for 10 µs ([B2]). On the
// consuming kernel:
//
//	ring → pump goroutine → channel → consumer
//
// The pump polls a batch, copies each payload into its kernel's arena and
// rewrites the task's reference ([B3]), and emits the batch on the channel.
//
// # Guarantees
//
// Lossless, in order ([B4]): one relay per channel (one home worker), one
// sender, one pump, FIFO rings with a sequence number checked on every slot
// (a gap stops the pump and is reported in Stats.Fault, never skipped).
// Backpressure: a full lossless channel makes the pump wait for room, the
// ring fills, the sender waits, the outbox fills, and the relay pauses its
// subscription (Kernel.ChanPause) at Config.PauseAt, resuming at half: the
// producing kernel's channel fills and its producers see CHAN_FULL.
// Nothing is dropped on the way. Lossy: the same pause makes the producing
// channel drop-slow, and a full consuming channel drops; the kernels count
// both and route them to sys.dropped ([C6]).
//
// Disconnect (a GPU reset, a dead peer; Endpoint.Disconnect or the peer's)
// closes both directions of the transport: the producing kernel's channel
// is suspended at once (emits get CHAN_CLOSED), the consuming one after its
// pump delivered what was published before the close; deliveries the relay
// still takes go to sys.dropped (with a window, below: they wait for the
// reconnect).
//
// # Redelivery
//
// A wire with an Ack cell (Wire.Ack) makes its channel survive a reset of
// the consuming kernel ([B4], [F5]). The consuming endpoint acknowledges
// what its kernel is done with: the kernel tells it of each delivery it
// ends (kernel.ChanObserve, asked for by the relay's Init) — completed by
// its handler, or ended otherwise: a failure or RETRY its supervisor did
// not retry, a poisoned type, a yield limit, a stale payload, a closed
// channel (to an error handler, sys.error or sys.dropped); never one it
// will run again (a retry, a yield, a failure awaiting its supervisor).
// The pump stores in the cell how many of the tasks it took out of the
// ring, counted in ring order, are done with (on a P2P lossless channel;
// other channels count a task done once delivered, and a task the channel
// refused is done when refused) and whose fence has passed: what the
// handlers had emitted onto this kernel's outgoing bridge channels by then
// has been published, dropped, or failed (Stats.Failed; track.go). The
// producing endpoint keeps every task it took in a window (window.go), its
// payload reference retained, until it is acknowledged.
//
// After the consumer's kernel is reset and booted again, Reconnect attaches
// the producing endpoint to the new transports (a region formatted for the
// next epoch: bridge.NextEpoch; sequence numbers continue) and fresh Ack
// cells: before anything new, the sender publishes again every task not
// acknowledged, in order, flagged task.Redelivered — a task is thus handled
// at least once, and a second time only as a redelivery. A lossy channel
// does not re-send: its unacknowledged tasks go to sys.dropped
// (Stats.Lapsed). The consuming side of a reconnecting endpoint (the CPU
// kernel's in-channels) drains what the old ring held, then starts over on
// the new one. Both kinds of channel resume (Kernel.ChanResume).
//
// A bridge channel of a deterministic type is acknowledged when delivered
// into the consuming kernel's deterministic lane (the lane renumbers its
// tasks, so the exact tracking above cannot follow them): a reset loses
// the lane's tasks, counted in the reset kernel's report; a deterministic
// run is recovered by replay from a snapshot ([F5]), not by redelivery.
//
// # Tick fences
//
// Fence ties the deterministic lanes of the kernels at the two ends
// (kernel.Fence): their ticks run in lockstep, and what one emits on a
// deterministic bridge channel at tick T runs on the other at T+1 ([D1]
// across kernels). The relay runs on the lane for those channels, and the
// marks carry how many deliveries each relay put into its outbox.
//
// Accounting: Stats per channel end, with the identities in Stats' doc;
// tasks in the ring are the producers' Sent minus the consumers' Received
// minus what reconnects discarded with old rings. Every task a relay takes
// is sent, dropped to sys.dropped, or — only when a kernel halts with the
// bridge still busy — released and counted abandoned; a sent task of a
// window is acknowledged, unacknowledged, or lapsed. A delivery the relay
// fails (a payload over Config.MaxPayload, a stale one), or the kernel
// ends before the relay runs, is never taken: it is counted Failed, and
// the kernel counts it where it went (sys.error, sys.dropped).
//
// # Concurrency rules
//
//   - The relay runs on kernel workers; each out-channel has one sender
//     goroutine and each in-channel one pump goroutine, started by Start and
//     ended by Stop, which waits for them.
//   - New, Module and Start are called once, in that order, around the
//     kernel's Boot (Module before it, Start after it). Reconnect is called
//     by the same owner, never with Stop. Stop, Disconnect and Stats are
//     safe from any goroutine. Close comes after the kernel's Halt.
//   - A window and its payload references belong to the sender goroutine;
//     a tracker's fifo to the pump. The kernel's reports of ended
//     deliveries run on its workers: they write only a tracker's done
//     slots and an out-lane's failed count (an atomic store or add each,
//     no allocation).
//   - Transports are the caller's: close them after both endpoints stopped.
//
// # The caller's duties
//
// Boot the kernel with Module(); Start it; for a loss-free halt make the
// system quiescent (no producer, both kernels idle, nothing in flight on
// the bridge: gpu/system does this), then Stop, Halt the kernel, Close.
package link
