package kernel

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestO1_PrometheusCollector: the kernel's metrics are exposed through a
// client_golang collector and match the kernel's own counters ([O1]).
func TestO1_PrometheusCollector(t *testing.T) {
	k, err := Boot(BootConfig{Workers: 2, Tenants: 2, ArenaSize: 1 << 20, MaxTypes: 16, Poison: PoisonPolicy{Failures: 1000}},
		Module{Name: "m", Handlers: []Handler{{Type: 3, Fn: func(c *Ctx) Status {
			if c.Task().Meta0%2 == 1 {
				return FailCode(-7)
			}
			return OK
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if err := k.Submit(Task{Type: 3, Tenant: uint16(i % 2), Meta0: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	haltOK(t, k)
	reg := prometheus.NewRegistry()
	if err := reg.Register(k.Collector()); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP gmk_type_tasks_total Handler results per task type.
# TYPE gmk_type_tasks_total counter
gmk_type_tasks_total{kernel="cpu.0",result="fail",type="3"} 50
gmk_type_tasks_total{kernel="cpu.0",result="ok",type="3"} 50
gmk_type_tasks_total{kernel="cpu.0",result="retry",type="3"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gmk_type_tasks_total"); err != nil {
		t.Fatal(err)
	}
	want = `
# HELP gmk_tenant_tasks_total Tasks per tenant by event.
# TYPE gmk_tenant_tasks_total counter
gmk_tenant_tasks_total{event="completed",kernel="cpu.0",tenant="0"} 50
gmk_tenant_tasks_total{event="completed",kernel="cpu.0",tenant="1"} 0
gmk_tenant_tasks_total{event="dequeued",kernel="cpu.0",tenant="0"} 50
gmk_tenant_tasks_total{event="dequeued",kernel="cpu.0",tenant="1"} 50
gmk_tenant_tasks_total{event="enqueued",kernel="cpu.0",tenant="0"} 50
gmk_tenant_tasks_total{event="enqueued",kernel="cpu.0",tenant="1"} 50
gmk_tenant_tasks_total{event="errored",kernel="cpu.0",tenant="0"} 0
gmk_tenant_tasks_total{event="errored",kernel="cpu.0",tenant="1"} 50
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gmk_tenant_tasks_total"); err != nil {
		t.Fatal(err)
	}
	n, err := testutil.GatherAndCount(reg)
	if err != nil || n < 20 {
		t.Fatalf("gathered %d series, err %v", n, err)
	}
}
