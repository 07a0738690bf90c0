// Package daemon runs a GPU kernel in its own process, the GPU daemon
// (cmd/gmk-gpud; DESIGN.md decision 7), and drives it from the host: the
// host side is Backend, a gpu.Backend ("daemon") that gpu/system selects by
// configuration (system.Config.Daemon) in place of the in-process simulated
// kernel; the daemon side is Serve, which gmk-gpud runs.
//
// # Two paths
//
// The data path is the bridge ring ABI in shared memory: for each bridge
// transport the host creates a memfd region (bridge.NewShm; Backend is a
// gpu.Bridger) and passes it to the daemon as an inherited file descriptor
// (4 and up), which maps it (bridge.OpenShm) — no system call per task.
// Next to the regions the host passes a status page (descriptor 3): one
// acknowledgement cell per region, through which the daemon's kernel
// acknowledges the host's tasks it handled (link.Wire.Ack; [B4], [F5]).
//
// The control path is protoactor remote on 127.0.0.1: the daemon's GPU
// kernel is a remote actor (ActorName) that boots the kernel (daemonpb.Boot:
// modules by name from the daemon's catalogue, the wires, the geometry),
// answers heartbeat samples with telemetry (daemonpb.Sample), halts it
// (daemonpb.Halt) and exits. Heartbeats go over the control path rather than
// a shared-memory array: the sample is taken in the daemon exactly as the
// in-process backend takes it (a worker between tasks is credited a beat),
// no sampling goroutine runs in the daemon, and a daemon that does not
// answer — hung as a whole, or stopped — misses its samples and is seen as
// stalled, which a heartbeat array left behind by a frozen process would
// hide. A sample per watchdog period (100 ms) costs nothing worth counting.
//
// # Supervision
//
// Boot starts the daemon (Config.Exe), waits for its ready line
// ("gmk-gpud ready ADDRESS" on its standard output), and boots the kernel;
// a goroutine waits for the process, and Dead (gpu.Mortal) is closed the
// moment it exits — the host's watchdog then resets and reboots at once,
// without waiting for missed heartbeats ([F4]). Reset is SIGKILL: a hung
// or dead GPU kernel is recovered by restarting the daemon; the killed
// kernel's own counts die with it (HaltReport.Lost) and its bridge ends are
// counted from the rings. RenewBridge formats each region for the next
// epoch in place (bridge.Shm.Reformat) before the next daemon maps it. The
// daemon exits on its own when its standard input ends: a host that dies
// leaves no daemon behind.
//
// GPU modules are Go code compiled into the daemon: Config.Modules names
// them in the catalogue (Names: xform, checksum, echo, and hang, a fault
// injector for the watchdog), and the host builds the same modules for
// their channel declarations (Modules).
//
// # Concurrency
//
// A Backend has one owner (the system, its watchdog): Boot, Halt, Reset,
// NewBridge and RenewBridge are serialised; Heartbeat, Quiescent, Links,
// Info, Dead and Pid are safe from any goroutine. Halt ends the control
// path (the host's ActorSystem) and unmaps the status page: the bridges'
// Ack cells must not be used after it (gpu/system stops its bridge end
// first). A failed Boot ends the control path too, and keeps the status
// page for the next Boot, which starts the control path again. No
// goroutine of the package outlives Halt or a failed Boot; the daemon
// process outlives neither.
//
// The package runs on Linux (memfd); elsewhere Backend's NewBridge returns
// bridge.ErrUnsupported.
package daemon
