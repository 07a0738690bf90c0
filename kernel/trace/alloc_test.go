//go:build !race

package trace

import "testing"

// [O2][O3] The worker's trace calls allocate nothing: Emit (including on a full
// ring), Sample and the level check. (Not under -race: the race detector changes
// allocation behaviour.)
func TestO2_ZeroAllocs(t *testing.T) {
	w := newTestWriter(0, 64, 8, 1)
	levels := NewLevels(2, All)
	dst := make([]Record, 64)
	r := Record{Event: TaskStart}
	for name, f := range map[string]func(){
		"Emit": func() {
			r.TS++
			w.Emit(&r)
			w.Drain(dst[:1])
		},
		"EmitFull": func() { w.Emit(&r) }, // fills the ring, then counts lost
		"Sample":   func() { w.Sample() },
		"Enabled":  func() { levels.Enabled(1, TaskStart) },
		"EmitStack": func() {
			rec := Record{TS: 1, Type: 2, Event: ChanFull}
			w.Emit(&rec)
		},
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, n)
		}
	}
}
