//go:build !race

package kernel

import "testing"

// [D1] The deterministic lane allocates nothing per task or per tick once
// its buffers have grown: a tick of the simulation of det_bench_test.go
// (16 steps, 16 channel deliveries, the boundary's drain, numbering and
// sort) runs without a heap allocation. Stepped on the test's goroutine
// (the worker goroutine is stopped), so AllocsPerRun sees only the lane.
func TestD1_ZeroAllocLane(t *testing.T) {
	k, _ := benchSimKernel(t, true)
	defer stepHalt(k)
	w := k.workers[0]
	tick := func() {
		for end := k.DetStats().Tick + 1; k.DetStats().Tick < end; {
			w.runDet()
		}
	}
	for range 8 { // the lane's slices reach their size
		tick()
	}
	if allocs := testing.AllocsPerRun(100, tick); allocs != 0 {
		t.Fatalf("%v allocations per tick of the lane, want 0", allocs)
	}
	if s := k.DetStats(); s.Ran < 100*2*benchEntities {
		t.Fatalf("the lane ran %d tasks", s.Ran)
	}
}
