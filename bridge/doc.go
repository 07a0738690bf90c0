// Package bridge carries tasks between two GMK kernels — the CPU kernel and a
// GPU kernel, in one process or in two — over the bridge ring ABI of GMK.md
// §14 ([B1]-[B4]): one single-producer single-consumer ring per direction in
// one shared region, each ring a header, an array of 64-byte task slots and a
// payload staging area.
//
// # The ABI
//
// The region layout and its memory-ordering rules are defined once, in C, in
// kernels/include/gmk_bridge.h (the reference producer and consumer, usable by
// host C and CUDA device code, are in gmk_bridge_ring.h). This package mirrors
// it (abi.go) and its tests check every size, offset and constant against the
// header through cgo, and run the C reference code against the Go code both
// ways. A slot holds the 48-byte task record ([T1]) as it is, a bridge sequence
// number and the staging position of its payload. Payloads cross by copy
// ([B3]): the sender copies them into the staging area, the receiver copies
// them out into its own memory and rewrites Task.Payload; inline tasks
// (PayloadLen 0) touch no staging.
//
// # LL rings
//
// Config.LL formats a region's rings in the low-latency (LL) slot format of
// gmk_bridge.h (GMK_BRIDGE_LL, ring version 2): 128-byte slots of sixteen
// 8-byte words, each word 4 data bytes and a 4-byte tag of the slot's
// sequence number, so a receiver knows a slot is complete from the slot
// itself — no load of tail, no fence — which is what a device polling host
// memory over PCIe needs for a 2 µs round trip. Words 0-7 carry an inline
// task; words 8-15 the payload reference, length and staging position (and
// the runtime fields), written only when the task needs them. Sender and
// Receiver behave the same in both formats (ll.go); the head index, the
// staging area, batching, the wake line and gap detection are shared.
//
// # Transports
//
// A Transport is one kernel's end of a bridge: a Sender for the outgoing
// direction and a Receiver for the incoming one. NewMemPair builds both ends
// of a bridge in this process (a simulated GPU kernel, tests); NewShm and
// OpenShm share a memfd between two processes (the GPU daemon, DESIGN.md
// decision 7) — the same ring code over memory from another place. A CUDA
// transport (the region in pinned host memory the device maps) and a
// protoactor-remote one (batches as messages) fit the same interfaces.
//
// No system call happens per task or per batch: a batch is published by one
// release store of the ring's tail and released by one store of its head. A
// side with nothing to do spins briefly, yields, then sleeps on a futex in the
// ring header; the other side rings it only when it sleeps.
//
// # Batching
//
// A Batcher ([B2]) publishes staged tasks when a batch of Size (default 64) is
// full or, on Tick, when the sender has been idle with a partial batch for
// Interval (default 10 µs), and receives at most Size tasks per release. Stats
// count transfers, so transfers per task (1/Size when batching works) can be
// reported; Bench and cmd/gmk-bridge-bench measure throughput.
//
// The Batcher starts no goroutine; its owner's sending loop looks like this:
//
//	for {
//		n := source(buf) // e.g. a channel's subscription queue
//		for i := range buf[:n] {
//			for errors.Is(b.Add(&buf[i], payloadOf(&buf[i])), bridge.ErrFull) {
//				tx.Wait(time.Millisecond) // backpressure: the peer is behind
//			}
//		}
//		if n == 0 {
//			b.Tick()             // publish a batch idle for Interval
//			d, _ := b.Deadline() // then wait for input until d
//		}
//	}
//
// (ErrStagingFull is an ErrFull; other errors end the loop), and its receiving
// loop calls Poll, with Receiver.Wait when Poll returns 0.
//
// # Guarantees
//
// Lossless, in order ([B4]): every slot carries a sequence number; the
// receiver checks each one and reports a gap (*GapError, ErrSeqGap) instead of
// consuming it. Backpressure: a full ring or staging area refuses with ErrFull
// or ErrStagingFull (both CHAN_FULL) and stages nothing; the caller Waits and
// retries. Disconnect (a reset, a dead peer) closes both directions: senders
// get ErrClosed (CHAN_CLOSED) at once, receivers after draining what was
// published before.
//
// # Epochs
//
// After a peer reset (a GPU kernel rebooted, a GPU daemon restarted) the
// creator reads what each ring carried (States, RingState) and starts the
// next epoch (NextEpoch): FormatEpoch, NewMemPairEpoch or Shm.Reformat
// give empty, open rings with the epoch number bumped and each ring's
// sequence numbers continuing where its producer stopped, while neither
// side runs (epoch.go). A transport of an old epoch no longer closes the
// new epoch's rings.
//
// # Concurrency rules
//
//   - A Sender is used by one goroutine at a time (Stage, Staged, Publish,
//     Wait), a Receiver by one goroutine at a time (Peek, Release, Wait); the
//     two may be different goroutines, in different processes. Breaking this
//     discipline on a mem transport is a data race the race detector reports.
//   - A Batcher's Add, Flush, Tick and Deadline belong to the Sender's
//     goroutine, its Poll to the Receiver's.
//   - Stats (on a Sender, Receiver or Batcher), Kind and Disconnect are safe
//     from any goroutine.
//   - Close must not overlap any other use of the transport, its Sender or its
//     Receiver: it unmaps the region. Stop the goroutines first.
//   - In Go memory-model terms: a Publish synchronizes before the Peek that
//     returns its tasks, so the payload bytes the sender staged are visible to
//     the receiver; a Release synchronizes before the Stage that reuses the
//     released slots and staging bytes.
//
// # The caller's duties
//
// Payload views returned by Peek (and handed to Poll's function) point into
// the ring: copy what you keep before Release. Pass Stage a payload whose
// length equals Task.PayloadLen. Formatted regions must be LineSize-aligned
// and not shared until formatted. Later layers (the kernel's bridge channels)
// own the rest of [B3]-[B4]: rewriting payload references into their arena,
// releasing the source payload, dropping to sys.dropped on lossy channels,
// retrying transfers and reconnecting after a reset.
package bridge
