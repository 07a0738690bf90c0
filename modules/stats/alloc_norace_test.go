//go:build !race

// Allocation tests run without the race detector, which changes allocation
// behaviour (STYLE.md rule 9).

package stats_test

import (
	"testing"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/stats"
)

// The update handler allocates nothing, for every kind: measured by calling
// the module's own handler inside a handler of a one-worker kernel, with the
// running task's meta (which a handler owns) set to each update.
func TestU2_StatsUpdateZeroAlloc(t *testing.T) {
	const tRun = 1
	s, err := stats.New(stats.Config{Metrics: []stats.Metric{
		{Name: "c", Kind: stats.Counter}, {Name: "g", Kind: stats.Gauge}, {Name: "h", Kind: stats.Histogram}}})
	if err != nil {
		t.Fatal(err)
	}
	mod := s.Module()
	update := mod.Handlers[0].Fn
	res := make(chan [2]float64, 1)
	run := kernel.Module{Name: "run", Handlers: []kernel.Handler{{Type: tRun, Fn: func(c *kernel.Ctx) kernel.Status {
		x := c.Task()
		var bad float64
		n := testing.AllocsPerRun(200, func() {
			for _, m := range [...][2]uint64{{sdk.StatMeta(0, sdk.StatAdd), 1}, {sdk.StatMeta(1, sdk.StatSet), 7},
				{sdk.StatMeta(2, sdk.StatObserve), 1000}} {
				x.Meta0, x.Meta1 = m[0], m[1]
				if update(c) != kernel.OK {
					bad++
				}
			}
		})
		res <- [2]float64{n, bad}
		return kernel.OK
	}}}}
	k := modtest.Boot(t, kernel.BootConfig{Workers: 1}, mod, run)
	modtest.Submit(t, k, kernel.Task{Type: tRun})
	if r := <-res; r[0] != 0 || r[1] != 0 {
		t.Fatalf("%v allocations per round of updates, %v failed updates", r[0], r[1])
	}
	modtest.Halt(t, k)
	if h := s.Registry().Histogram("h").Snapshot(); h.Count != 201 {
		t.Fatalf("histogram count %d, want 201 (the handler really ran)", h.Count)
	}
}
