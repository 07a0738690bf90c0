//go:build !race

package bench

import "testing"

// TestChanBaselines_NoAllocationPerTask proves the Go-channel baselines pass
// task.Task by value: a run of n tasks allocates only its constant setup
// (channels, goroutines), far below one allocation per task.
func TestChanBaselines_NoAllocationPerTask(t *testing.T) {
	const n = 1 << 14
	for caseName, peers := range baselines {
		s := peers[PeerChan]
		allocs := testing.AllocsPerRun(3, func() {
			if err := s(n, nopTimer{}); err != nil {
				t.Fatal(err)
			}
		})
		if perTask := allocs / n; perTask > 0.01 {
			t.Errorf("%s/chan: %.0f allocations per run of %d tasks (%.4f per task)", caseName, allocs, n, perTask)
		}
	}
}
