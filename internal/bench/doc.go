// Package bench is the comparison harness behind `make bench` and cmd/gmk-bench:
// it runs the same workloads on GMK, on plain Go channels and on protoactor-go,
// in one process on one machine, and prints ns/task, tasks/s, allocs/task and the
// throughput ratio GMK/peer for each case (DESIGN.md "Performance rules").
//
// # Cases and what a task is
//
// A task is one item entering the system; b.N of an [Impl] is that number.
//
//	p2p        one item handed by a producer to its one consumer (1→1)
//	pipeline3  one item going producer → stage1 → stage2 → stage3; each stage adds
//	           1 to Meta0 and stage3 counts it
//	fanout3    one message emitted; it reaches all 3 subscribers (3 deliveries)
//	mpmc2x2    one item from one of 2 producers, consumed exactly once by one of
//	           2 consumers
//
// # Registry
//
// Implementations register themselves from init functions, one file per peer:
// chan.go (peer "chan"), protoactor.go (peer "protoactor") and gmk.go (peer "gmk").
// A case without a "gmk" implementation is still measured; it just has no ratio.
//
// floor_test.go holds a yardstick, not a peer: pipeline3 with the runtime taken
// out (the same handler statements and layout, goroutines joined by
// single-producer rings), run by BenchmarkPipeline3Floor. No runtime can run
// the case faster on the same machine; the README compares its targets with it.
//
// A GMK implementation should do what the baselines do, so that only the
// transport differs: feed item(i) for i in 0..b.N-1, apply the case's transform
// (Meta0++ per pipeline stage), record every delivery with tally.add, call
// b.ResetTimer after setup and b.StopTimer before teardown, check the tallies
// (tally.check) and b.Fatal on a mismatch. implOf adapts such a scenario.
//
// # Concurrency rules
//
// [Register] is meant for init functions; it takes a lock, so a later call is
// safe too (a [Run] already in progress just does not see it). [Run] runs
// one implementation at a time, never concurrently, because the numbers compare
// implementations that each want the whole machine; a case's repetitions go in
// rounds of one per implementation, so that a machine drifting between faster
// and slower phases moves every peer of a ratio alike. Every implementation
// must leave no goroutine behind when its Run function returns (the package
// tests check this with goleak) and must fail the benchmark (b.Fatal) when it
// loses, duplicates or corrupts an item: [Run] then returns [ErrImplFailed].
//
// [Run] measures through testing.Benchmark, whose benchtime is the process-wide
// test.benchtime flag: Run sets it for its duration and restores it afterwards,
// so it must not run while the same process runs other benchmarks.
package bench
