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
// Halt waits until the system is quiescent — both kernels idle and no task
// between a relay and its delivery — then stops the CPU end of the bridge,
// halts the GPU kernel and then the CPU kernel (reverse boot order), and
// releases the transports. Report.Check verifies the accounting identity
// across both kernels: each kernel's own ([C9]), and for every bridge
// channel that each task its relay took was delivered on the other kernel,
// dropped to a sys.dropped, abandoned at halt, or is still in the ring. A
// halt whose context ends first cuts the rest short, counts it, and
// returns ErrBusy.
//
// # Concurrency
//
// A System has one owner, which calls Boot, Disconnect and Halt; CPU(),
// GPU(), Links and Summary may be used from any goroutine, and the kernels'
// own methods are safe for concurrent use. Producers outside the kernels
// stop before Halt.
//
// Not here yet (later steps of the GPU work): the GPU daemon and its
// protoactor control path, the CUDA backend, and the heartbeat watchdog that
// resets and reboots a hung GPU kernel and reconnects the bridge.
package system
