package system_test

import (
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/kernel"
)

// BenchmarkRoundTrip measures bridge channels end to end: inline tasks
// CPU → GPU (the simulated kernel's echo) → CPU, reported as round trips
// per second and ring transfers per task crossing ([B2]).
func BenchmarkRoundTrip(b *testing.B) {
	st := &store{}
	s := boot(b, system.Config{CPUModules: []kernel.Module{ingest, st.module()}, GPUModules: []gpu.Module{gpuEcho(0)}})
	b.ResetTimer()
	start := time.Now()
	emitInline(b, s.CPU(), b.N)
	for st.n.Load() < int64(b.N) {
		time.Sleep(50 * time.Microsecond)
	}
	el := time.Since(start)
	b.StopTimer()
	r := halt(b, s)
	var transfers, moved uint64
	for _, l := range r.Links {
		if l.Dir == link.Out {
			transfers += l.Transfers
			moved += l.Sent
		}
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "roundtrips/s")
	b.ReportMetric(float64(transfers)/float64(moved), "transfers/task")
}
