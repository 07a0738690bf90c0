package stats_test

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/stats"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// [U2] stats' contract: updates by metric id reach the named counter,
// gauge and histogram with their op; an unknown id or an op the kind lacks
// fails with CodeBadRequest and changes nothing.
func TestU2_StatsContract(t *testing.T) {
	var errs modtest.Sink
	s, err := stats.New(stats.Config{Metrics: []stats.Metric{
		{Name: "requests", Kind: stats.Counter},
		{Name: "depth", Kind: stats.Gauge},
		{Name: "latency_ns", Kind: stats.Histogram},
	}})
	if err != nil {
		t.Fatal(err)
	}
	k := modtest.Boot(t, kernel.BootConfig{}, s.Module(), errs.Module("errs", kernel.SysError, 1, modtest.LossyFan))
	in, err := sdk.Dial(k, "stats.in")
	if err != nil {
		t.Fatal(err)
	}
	send := func(id uint32, op sdk.StatOp, v uint64) {
		if err := sdk.EmitInline(context.Background(), k, in, 0, sdk.StatMeta(id, op), v); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		send(0, sdk.StatAdd, 3)
		send(2, sdk.StatObserve, uint64(100*i))
	}
	send(1, sdk.StatSet, 40)
	minus2 := int64(-2)
	send(1, sdk.StatAdd, uint64(minus2))
	send(3, sdk.StatAdd, 1)       // no metric 3
	send(0, sdk.StatSet, 1)       // counters have no set
	send(2, sdk.StatAdd, 1)       // histograms only observe
	send(1, sdk.StatObserve, 999) // gauges do not observe
	errs.Wait(t, 4)
	modtest.Halt(t, k)
	for _, e := range errs.Records() {
		if e.Code != sdk.CodeBadRequest {
			t.Fatalf("error code %v", e.Code)
		}
	}
	reg := s.Registry()
	ctr, _ := reg.Counter("requests")
	h := reg.Histogram("latency_ns").Snapshot()
	if v := reg.CounterValue(ctr); v != 30 {
		t.Errorf("counter %d, want 30", v)
	}
	if g := reg.Gauge("depth").Load(); g != 38 {
		t.Errorf("gauge %d, want 38", g)
	}
	if h.Count != 10 || h.Sum != 4500 {
		t.Errorf("histogram count %d sum %d, want 10 and 4500", h.Count, h.Sum)
	}
}

// [U2] A configuration naming a metric twice fails boot.
func TestU2_StatsBadConfig(t *testing.T) {
	m := stats.Module(stats.Config{Metrics: []stats.Metric{{Name: "x"}, {Name: "x", Kind: stats.Gauge}}})
	if _, err := kernel.Boot(kernel.BootConfig{Workers: 1, ArenaSize: 1 << 20}, m); err == nil {
		t.Fatal("boot accepted a metric declared twice")
	}
}
