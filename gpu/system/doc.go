// Package system boots GMK as a system of two peer kernels ([K1], [K2]):
// the CPU kernel and a GPU kernel — the simulated one unless a backend is
// given — joined by bridge channels (bridge/link), so that modules never
// know on which kernel their channel partner runs.
//
// # Boot
//
// Boot exchanges the two kernels' channel declarations and routes them by
// locality (link.Route): a channel produced on one kernel and consumed on
// the other becomes a bridge channel; declarations that disagree across the
// kernels fail the boot with a message naming both sides. It makes one
// in-memory transport per pair of opposite bridge channels (host.rx CPU→GPU
// with host.tx GPU→CPU, the default pair), boots the CPU kernel with its
// modules and the bridge's relay module, boots the GPU kernel through its
// gpu.Backend with its modules and its ends of the bridge, and starts the
// CPU end. Summary is the boot banner:
//
//	GMK/cpu.0 booted | peripheral | 2 workers | 2 modules | rq, batch 32
//	GMK/gpu.0 booted (sim) | compute | 2 workers × 128 threads | 1 module | grq, batches of 32 sorted by type
//	bridge channels: 2 (host.rx, host.tx)
//	  host.rx    cpu.0 → gpu.0  p2p/lossless  type 990  mem
//	  host.tx    gpu.0 → cpu.0  p2p/lossless  type 991  mem
//
// # Halt and accounting
//
// Halt stops the watchdog and the GPU kernel's actor, waits until the
// system is quiescent — both kernels idle, no task between a relay and its
// delivery, everything the CPU kernel sent over the bridge acknowledged as
// handled — then stops the CPU end of the bridge, halts the GPU kernel and
// then the CPU kernel (reverse boot order), and releases the transports.
// Report.Check verifies the accounting identity across every kernel —
// the CPU kernel, the running GPU kernel and each one a reset ended ([C9];
// a killed daemon's kernel took its counts with it) — and for every bridge
// channel: each end's identity (link.Stats: a task re-sent after a reset
// counts once) and that the current ring holds nothing a quiescent halt
// should have delivered. A halt whose context ends first cuts the rest
// short, counts it, and returns ErrBusy. So does, at once, a halt that
// finds the GPU kernel down — reset, and its reboot failed — while the
// bridge holds tasks only a reboot would move (unacknowledged, or kept
// for the reconnect); with none, such a halt is quiescent.
//
// # The watchdog: reset, reboot, redelivery
//
// Watch samples the GPU kernel's heartbeats ([F4]): two stalled samples in
// a row raise a warning, five take the bridge down (CHAN_CLOSED on both
// kernels) and reset the GPU kernel; a backend whose kernel can die on its
// own (gpu.Mortal: the GPU daemon) is reset the moment it does. The same
// sample reboots it: the CPU end lets go of the old rings (Detach), the
// transports are renewed for the next epoch (bridge.NextEpoch: in memory a
// new region, in shared memory the same one formatted afresh) with fresh
// acknowledgement cells, the GPU kernel boots on them, and the CPU end
// reconnects. The CPU kernel runs throughout; its producers of bridge
// channels see CHAN_CLOSED meanwhile and retry.
//
// Nothing handed to a lossless bridge channel is lost ([B4], [F5]): the GPU
// kernel acknowledges the tasks it is done with — its handler completed
// them, or the kernel ended them otherwise (a failure, a poisoned type, a
// yield limit; kernel.ChanObserve tells the bridge end), and what the
// handlers emitted back over the bridge had been published, as far as the
// kernel's counters show — and the CPU end keeps
// every task until then; after the reboot it sends the rest again, first,
// flagged task.Redelivered (Report.Redelivered counts them). A task is thus
// handled at least once, and a second time only as a redelivery. What a
// reset GPU kernel held of its own making (its queues, outputs not yet
// published) is counted in its report. A lossy channel reports its
// unacknowledged tasks to sys.dropped instead (link.Stats.Lapsed).
//
// The simulated kernel cannot stop a goroutine stuck in a handler: a reset
// leaves that kernel behind and boots a new one; Halt reaps the old one
// once its handler returned.
//
// # Backends
//
// The GPU kernel runs in this process (gpu/sim, the default) or in the GPU
// daemon (Config.Daemon: gpu/daemon, cmd/gmk-gpud; DESIGN.md decision 7),
// whose bridge rings are shared memory and whose control path is
// protoactor remote.
//
// # The GPU kernel as an actor, and its traces
//
// With Config.Actor the GPU kernel has a PID ([X6], PID): a message sent to
// it becomes tasks on a bridge channel to the GPU kernel, and the outputs
// come back to the sender as messages (actor.go). With Config.Trace its
// trace records travel to the CPU over sys.trace ([O4]), and DrainTrace
// hands out the records of both kernels together.
//
// # Concurrency
//
// A System has one owner, which calls Boot, Watch, Disconnect and Halt; the
// watchdog's goroutine resets and reboots the GPU kernel, and Halt stops it
// first. CPU(), GPU(), PID, Links, Resets, Summary, ActorStats and
// TraceLost may be used from any goroutine — a CPU handler included: the
// system's lock is never held while the CPU kernel or its bridge end is
// waited for — DrainTrace from one at a time, and the kernels' own methods
// are safe for concurrent use. Producers outside the kernels stop before
// Halt.
package system
