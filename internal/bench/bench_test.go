package bench

import "testing"

// BenchmarkCases runs every registered case × peer as a sub-benchmark
// (BenchmarkCases/p2p/chan …) for `go test -bench`; b.N is tasks, as in Run.
// cmd/gmk-bench prints the same measurements side by side with ratios.
func BenchmarkCases(b *testing.B) {
	for _, c := range Cases() {
		b.Run(c.Name, func(b *testing.B) {
			for _, impl := range c.Impls {
				b.Run(impl.Peer, func(b *testing.B) {
					b.ReportAllocs()
					impl.Run(b)
				})
			}
		})
	}
}
