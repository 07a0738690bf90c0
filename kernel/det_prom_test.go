package kernel

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// [O1] [D1] The deterministic lane's tick, tick durations, busy time and
// task count are exported: after a 5-tick chain the tick gauge reads 5 and
// the task counter 5, and the durations are those DetStats reports.
func TestO1_DetMetrics(t *testing.T) {
	chain := Module{Name: "chain", Handlers: []Handler{{Type: 1, Flags: DetHandler, Fn: func(c *Ctx) Status {
		if h := c.Task().Meta1; h > 0 && c.Emit(Task{Type: 1, Meta1: h - 1}) != nil {
			return FailCode(-1)
		}
		return OK
	}}}}
	k := fxBoot(t, BootConfig{Workers: 2, Types: detTypes(1)}, chain)
	if err := k.Submit(Task{Type: 1, Meta1: 4}); err != nil {
		t.Fatal(err)
	}
	checkIdentity(t, haltOK(t, k))
	reg := prometheus.NewRegistry()
	if err := reg.Register(k.Collector()); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP gmk_det_tick The deterministic lane's logical tick.
# TYPE gmk_det_tick gauge
gmk_det_tick{kernel="cpu.0"} 5
# HELP gmk_det_tasks_total Deterministic tasks run.
# TYPE gmk_det_tasks_total counter
gmk_det_tasks_total{kernel="cpu.0"} 5
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gmk_det_tick", "gmk_det_tasks_total"); err != nil {
		t.Fatal(err)
	}
	s := k.DetStats()
	if got := counterValue(t, reg, "gmk_det_seconds_total", "busy"); got != float64(s.BusyNS)/1e9 || got <= 0 {
		t.Fatalf("busy seconds %v, DetStats %d ns", got, s.BusyNS)
	}
}

// counterValue returns the value of the sample of counter family name whose
// stat label is stat.
func counterValue(t *testing.T, reg *prometheus.Registry, name, stat string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if mf.GetName() == name && l.GetName() == "stat" && l.GetValue() == stat {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{stat=%q}", name, stat)
	return 0
}
