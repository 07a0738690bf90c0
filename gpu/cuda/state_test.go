package cuda

import "testing"

// TestG2_StateLayout pins the Go mirror of gmk_gpu_state_t and gmk_wstat_t
// (kernels/src/gmk_state.h; gmk_kernel.cu static_asserts the same sizes).
func TestG2_StateLayout(t *testing.T) {
	if stateSize != 144 {
		t.Errorf("gpuState is %d bytes, gmk_gpu_state_t is 144", stateSize)
	}
	if wstatSize != 256 {
		t.Errorf("WorkerStats is %d bytes, gmk_wstat_t is 256", wstatSize)
	}
}
