//go:build !race

package metrics

import "testing"

// [O1] The worker's metric calls allocate nothing: Shard.Add (first touch and
// re-touch), Shard.Flush, and the shared-path atomics. (Not under -race: the
// race detector changes allocation behaviour.)
func TestO1_ZeroAllocs(t *testing.T) {
	s := NewSet(64, 2)
	sh := s.Shard(1)
	var g Gauge
	var h Histogram
	i := 0
	for name, f := range map[string]func(){
		"Add": func() { i++; sh.Add(i&63, 1) },
		"AddFlush": func() {
			for idx := range 64 {
				sh.Add(idx, 2)
			}
			sh.Flush()
		},
		"Flush":     func() { sh.Flush() },
		"AddShared": func() { s.AddShared(3, 1) },
		"Value":     func() { s.Value(3) },
		"GaugeMax":  func() { i++; g.Max(int64(i)) },
		"Observe":   func() { h.Observe(uint64(i)) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, n)
		}
	}
}
