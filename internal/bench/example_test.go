package bench_test

import (
	"os"

	"github.com/gmkernel/gmk/internal/bench"
)

// WriteReport prints the table and the machine-readable ratio lines that
// bench.Run prints after measuring; here with fixed numbers.
func ExampleWriteReport() {
	_ = bench.WriteReport(os.Stdout, []bench.Result{
		{Case: bench.CasePipeline3, Peer: bench.PeerGMK, N: 1000000, NsPerTask: 50, AllocsPerTask: 0},
		{Case: bench.CasePipeline3, Peer: bench.PeerChan, N: 1000000, NsPerTask: 120, AllocsPerTask: 0},
		{Case: bench.CasePipeline3, Peer: bench.PeerProtoactor, N: 100000, NsPerTask: 900, AllocsPerTask: 4},
	})
	// Output:
	// # a task is one item entering the system; b.N = tasks:
	// #   pipeline3  one item through producer → stage1 → stage2 → stage3 (each stage Meta0++; stage3 counts)
	// # gmk/peer = GMK tasks/s ÷ peer tasks/s (above 1: GMK is faster)
	//
	// case       peer        ns/task   tasks/s  allocs/task  gmk/peer
	// pipeline3  gmk            50.0  20000000         0.00         1
	// pipeline3  chan          120.0   8333333         0.00       2.4
	// pipeline3  protoactor    900.0   1111111         4.00        18
	//
	// ratio pipeline3 vs=chan 2.4
	// ratio pipeline3 vs=protoactor 18
}
