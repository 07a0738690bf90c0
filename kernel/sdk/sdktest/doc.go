// Package sdktest is the sandbox in which a module is tested ([U4]: "test a
// module in a sandboxed context that captures emits, traces and
// allocations"): Boot starts a real kernel with the modules under test and
// a capture subscriber on each of their output channels, and the test
// drives it from outside as a client would (Send). The sandbox records
//
//   - every task emitted on the captured channels, with a copy of its
//     payload, in the order the capture ran them (Emits, WaitEmits);
//   - the kernel's trace records (Traces; the level is ALL unless the
//     BootConfig says otherwise, so every TASK_START and TASK_END is there);
//   - at Halt, the accounting of [C9] (every task created is completed,
//     errored, dropped or counted queued — a break of it fails the test),
//     the allocator statistics of tenant 0 and the payloads left live.
//
// It is what `gmk new` scaffolds a module's test with, and what `gmk test`
// runs; modules outside this repository import it like kernel/sdk.
//
// Captured by default: every channel a module under test declares Produce
// and none of them consumes, and every fan-out channel they produce (a
// fan-out channel takes one more subscriber). Config.Capture names the
// channels instead. The capture subscriber declares the producer's mode,
// guarantee and type, so a lossless output stays lossless in the sandbox.
//
// # Concurrency
//
// A Sandbox belongs to its test's goroutine; Emits, WaitEmits and Traces
// may also be called from others. Halt runs at the test's end (t.Cleanup)
// if the test did not call it, and waits for the kernel's workers to stop.
package sdktest
