package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// [K1] [B1]-[B4] The main job runs on a fresh clone with no GPU: the CPU
// kernel ingests records, the simulated GPU kernel transforms them, the CPU
// kernel stores and checks them; the boot summary and the final summary are
// printed, every record comes back transformed, and the accounting holds
// across both kernels and the bridge — for small records, inline ones, and
// 4 KiB payloads.
func TestK1_OffloadRunsSmall(t *testing.T) {
	for _, c := range []config{
		{n: 3000, size: 64, workers: 2, gpuWorkers: 2, window: 4096},
		{n: 3000, size: 0, workers: 2, gpuWorkers: 2, window: 4096},
		{n: 500, size: 4096, workers: 2, gpuWorkers: 2, window: 4096},
	} {
		var out bytes.Buffer
		if err := run(&out, c); err != nil {
			t.Fatalf("size %d: %v\n%s", c.size, err, out.String())
		}
		s := out.String()
		for _, want := range []string{
			"GMK/cpu.0 booted | peripheral | 2 workers | 2 modules",
			"GMK/gpu.0 booted (sim) | compute | 2 workers × 128 threads | 1 module",
			"bridge channels: 2 (host.rx, host.tx)",
			"stored " + strconv.Itoa(c.n) + " records (0 bad)",
			"bridge host.rx cpu.0→gpu.0 (mem): " + strconv.Itoa(c.n) + " tasks",
			"bridge host.tx gpu.0→cpu.0 (mem): " + strconv.Itoa(c.n) + " tasks",
			"accounting: ok",
		} {
			if !strings.Contains(s, want) {
				t.Fatalf("size %d: output lacks %q:\n%s", c.size, want, s)
			}
		}
	}
}
