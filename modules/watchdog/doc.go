// Package watchdog is the CPU kernel's watchdog module ([U2], [F4]): it
// finds workers stuck inside one handler call, warns about them and resets
// them, while the rest of the kernel keeps running.
//
// # Heartbeats and the rule
//
// The watched modules are wrapped (Wrap, or Modules for a whole set) so
// that a worker publishes, per handler call, a heartbeat: which module it
// is in and a count that is odd while it is inside (beat.go says why the
// beat lives at the module boundary and not in the kernel's worker loop).
// Every Every (default 100 ms) the watchdog samples the beats; a worker
// found inside the same call as at the previous sample missed a beat. The
// rule is kernel.WatchPolicy, shared with the GPU watchdog (gpu/system):
// at the Warn-th miss in a row (default 2) a warning, at the Reset-th
// (default 5) a reset. A worker between handlers — idle, parked, or busy
// with many short calls — never misses a beat. A stall is counted from the
// first sample that finds the call, so a warning comes Warn+1 samples after
// the call began at the latest, Warn at the earliest.
//
// # What a reset is on the CPU
//
// Go cannot stop a goroutine stuck in a function, so the CPU kernel cannot
// take a worker back from a hung handler. A reset therefore (1) marks the
// worker stalled — Stalled reports it, Stats and the kernel counter
// watchdog.resets count it — and (2) calls the reset hook Config.OnReset
// with the worker and the module. The default hook, PoisonModule, poisons
// the hung module's types: its later tasks go to sys.error instead of
// stalling the next worker, until an operator clears it (`gmk mod reset`).
// A node supplies another hook where there is more to do, e.g. resetting
// and rebooting a GPU kernel through gpu/system. The stalled worker's
// queued tasks wait for it; if the handler ever returns, the worker goes
// on, the mark clears and a Recovered event says so.
//
// # Channel contract
//
//	watchdog.event  produced; fan-out, lossy; type EventType (default 982):
//	                meta0 = worker, meta1 = kind<<32 | misses (SplitReport);
//	                kinds Warning, Reset, ResetFailed, Recovered
//	report          internal; type ReportType (default 981): submitted by
//	                the watchdog per event, handled on a worker, which
//	                writes the WATCHDOG trace record ([O2]; a0 = worker,
//	                a1 as meta1), adds to the kernel counter and emits the
//	                event
//
// Kernel user counters ([O1], Kernel.MetricValue, gmk_user_total):
// watchdog.warnings, watchdog.resets, watchdog.reset_failed,
// watchdog.recoveries. Every event is also logged (zap, level warn) with
// the kernel, worker, module and misses.
//
// The trace record, the kernel counters and the event are written by a
// worker: while every worker is stuck they wait. A subscription of
// watchdog.event is drained by its home worker: one homed on the stuck
// worker gets the events when it recovers (pin it — ChanDecl.Pin — to a
// worker of its own to see them at once). Stats, Stalled, the log,
// OnEvent and the reset hook come from the watchdog's own goroutine and do
// not.
//
// # Concurrency
//
// One goroutine per running watchdog, from the module's Init to its Fini
// (Fini waits for it); it alone steps the monitor and calls OnReset and
// OnEvent. Config.Tick replaces its ticker in tests: each value sent is one
// poll. Wrap must be called before Boot. Stalled and Stats may be called
// from any goroutine. Each wrapped handler call costs its worker two
// uncontended atomic adds and a store on a cache line of its own.
package watchdog
