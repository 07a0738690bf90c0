// Package timer is the timer module ([U2], [G5]; [U1] timers once, repeat,
// cancel on the EVQ): clients set and cancel timers by id, and each firing
// is a task on a channel.
//
// # Channel contract
//
//	timer.set     consumed; P2P, lossless; type SetType (default 965)
//	              payload = sdk.TimerSpec (32 bytes): ID (non-zero), Delay
//	              (ns, >= 0), Period (ns, 0 = once), Chan (0 = timer.fire),
//	              Type (the firing's type; ignored when Chan is 0)
//	timer.cancel  consumed; P2P, lossless; type CancelType (default 966)
//	              meta0 = timer id
//	timer.fire    P2P, lossless; type TickType (default 968): the firings of
//	              timers set with Chan 0 (opened by Init, not declared as an
//	              output, so that set requests never wait for room on it)
//	firing        on the timer's channel, with the set request's tenant:
//	              meta0 = timer id, meta1 = firing number (1, 2, 3 …)
//
// Semantics. A timer fires first at set time + Delay, then (Period > 0)
// every Period after that on a fixed grid: set time + Delay + k·Period.
// When the kernel was late by more than a period, the missed grid points are
// skipped, not fired in a burst; the firing number counts firings made.
// Setting an id that is set replaces the timer (its next firing is the new
// one's first, numbered 1); cancelling an unknown id does nothing. A firing
// whose channel is full waits for room (lossless); one whose channel is
// closed or gone ends the timer with that failure (sys.error). A timer's
// channel needs a consumer: a lossless channel without one is full.
//
// Failure codes: CodeBadRequest (a payload that is not a TimerSpec, ID 0, a
// negative Delay or Period), CodeFull (MaxTimers timers set), CHAN_FULL or
// ALLOC_FAIL (the worker's EVQ or task slab is full).
//
// # Time and halt
//
// Times are kernel-clock nanoseconds (Kernel.Now; BootConfig.Clock in
// tests). A timer waits on the EVQ of the worker that set it, in steps of at
// most Config.Step: a replaced or cancelled timer leaves the EVQ within a
// step, and once Halt has begun no timer re-arms — a repeating timer stops,
// one not yet due is dropped — so Halt finishes within a step.
//
// # Concurrency
//
// The timer table is guarded by one mutex; set, cancel and firing handlers
// may run on any worker. The table is allocated at New (the id map sized
// for MaxTimers).
package timer
