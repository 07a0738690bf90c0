// Package sched holds GMK's scheduling structures and the single enqueue core
// ([S1]) that every path making a task runnable goes through.
//
//   - RQ: the CPU ready queue, four multi-producer multi-consumer rings (one per
//     priority) popped with weights 8/4/2/1 through a per-worker Cursor ([S2]).
//   - GRQ: the type-bucketed ready queue of the GPU policy, selectable on the
//     CPU; homogeneous batches, bucket rotation and an aging scan every 64 pops
//     ([S3]).
//   - LQ: a worker's local queue with its 25 % yield reserve ([S4]), and the
//     one-task handoff slot a dispatch empties after each handler. Only its
//     owner worker touches it, so it needs no atomics.
//   - EVQ: a bounded min-heap of timed events (retries, timers), owned by one
//     worker ([S5]).
//   - Idle: the parking registry that lets producers wake parked workers ([S6]).
//   - Core: the enqueue core. Its methods assign seq to new tasks, pick the
//     target queue (own LQ below the watermark, the shared queue, the yield
//     overflow queue), and count the enqueue per tenant.
//
// Concurrency: RQ, GRQ, Core.Submit and Idle.Wake are safe from any goroutine.
// LQ, EVQ, Cursor, GCursor and a Local belong to one worker. Nothing here
// starts a goroutine or reads the clock: time is passed in.
package sched
