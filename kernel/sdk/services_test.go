package sdk_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// logTask builds a log record as Logger.Log lays it out.
func logTask(lv sdk.Level, format string, args ...uint64) (kernel.Task, []byte) {
	meta0, p := sdk.AppendLog(nil, lv, format, args...)
	return kernel.Task{Meta0: meta0, Meta1: 99}, p
}

// [U1] log: the limited formatting renders each verb from its arg, and
// reports missing args and unknown verbs in place instead of failing.
func TestU1_LogFormat(t *testing.T) {
	for _, c := range []struct {
		format string
		args   []uint64
		want   string
	}{
		{"plain", nil, "plain"},
		{"%d|%u|%x", []uint64{sdk.I(-5), 7, 255}, "-5|7|ff"},
		{"%c%c=%t,%t", []uint64{'o', 'k', sdk.B(true), 0}, "ok=true,false"},
		{"pi=%f 100%%", []uint64{sdk.F(3.25)}, "pi=3.25 100%"},
		{"%d %d", []uint64{1}, "1 %!d(MISSING)"},
		{"%s!", []uint64{1}, "%!s(BAD)!"},
		{"trailing %", nil, "trailing %"},
		{"extra", []uint64{1, 2}, "extra"},
	} {
		x, p := logTask(sdk.LevelWarn, c.format, c.args...)
		r, ok := sdk.ParseLog(&x, p)
		if !ok || r.Level != sdk.LevelWarn || r.Tick != 99 {
			t.Fatalf("%q: parse ok=%v %+v", c.format, ok, r)
		}
		if got := string(r.AppendMessage(nil)); got != c.want {
			t.Errorf("%q: %q, want %q", c.format, got, c.want)
		}
	}
	x, p := logTask(sdk.LevelInfo, "ab", 1)
	if _, ok := sdk.ParseLog(&x, p[:len(p)-1]); ok {
		t.Error("a record shorter than its header says was accepted")
	}
}

// [U1] reduce: Fold applies the operation in index order for each kind;
// float sums depend on order, so a permuted input gives the same result only
// when it is put back in index order first (what the reduce module does).
func TestU1_ReduceFold(t *testing.T) {
	neg := func(v int64) uint64 { return uint64(v) }
	for _, c := range []struct {
		r    sdk.Reducer
		in   []uint64
		want uint64
	}{
		{sdk.Reducer{Op: sdk.OpSum, Kind: sdk.KindInt}, []uint64{neg(-3), 5, neg(-10)}, neg(-8)},
		{sdk.Reducer{Op: sdk.OpMin, Kind: sdk.KindInt}, []uint64{neg(-3), 5, neg(-10)}, neg(-10)},
		{sdk.Reducer{Op: sdk.OpMin, Kind: sdk.KindUint}, []uint64{neg(-3), 5, 10}, 5},
		{sdk.Reducer{Op: sdk.OpMax, Kind: sdk.KindInt}, []uint64{neg(-3), 5, neg(-10)}, 5},
		{sdk.Reducer{Op: sdk.OpMax, Kind: sdk.KindUint}, []uint64{neg(-3), 5, 10}, neg(-3)},
		{sdk.Reducer{Op: sdk.OpSum, Kind: sdk.KindFloat}, []uint64{sdk.F(0.5), sdk.F(0.25)}, sdk.F(0.75)},
		{sdk.Reducer{Op: sdk.OpMax, Kind: sdk.KindFloat}, []uint64{sdk.F(-1), sdk.F(2.5)}, sdk.F(2.5)},
		{sdk.Reducer{Op: sdk.OpCustom, Init: 1, Fn: func(a, v uint64) uint64 { return a*31 + v }}, []uint64{2, 3}, (31+2)*31 + 3},
		{sdk.Reducer{Op: sdk.OpSum}, nil, 0},
	} {
		if err := c.r.Validate(); err != nil {
			t.Fatal(err)
		}
		if got := c.r.Fold(c.in); got != c.want {
			t.Errorf("%v/%d over %v: %d, want %d", c.r.Op, c.r.Kind, c.in, got, c.want)
		}
	}
	if (sdk.Reducer{Op: sdk.OpCustom}).Validate() == nil || (sdk.Reducer{Op: 9}).Validate() == nil {
		t.Error("invalid reducers validated")
	}
	// A float sum whose value depends on the order: in index order it is
	// the sequential sum, bit for bit.
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]uint64, 1000)
	var ref float64
	for i := range vals {
		v := rng.NormFloat64() * math.Pow(10, float64(rng.IntN(12)))
		vals[i], ref = sdk.F(v), ref+v
	}
	if got := (sdk.Reducer{Op: sdk.OpSum, Kind: sdk.KindFloat}).Fold(vals); got != sdk.F(ref) {
		t.Fatalf("float sum %v, sequential reference %v", math.Float64frombits(got), ref)
	}
	for _, c := range []struct {
		g, i uint32
		last bool
	}{{0, 0, false}, {7, sdk.MaxIndex, true}, {math.MaxUint32, 12, true}} {
		g, i, last := sdk.SplitElemMeta(sdk.ElemMeta(c.g, c.i, c.last))
		if g != c.g || i != c.i || last != c.last {
			t.Errorf("elem meta round trip %+v → %d %d %v", c, g, i, last)
		}
	}
}

// [U1] gates: a barrier of N arrivals opens exactly once per N, for exactly
// one of the arrivals, under concurrent arrivals.
func TestU1_GateOpensOncePerRound(t *testing.T) {
	const n, goroutines, each = 7, 8, 700
	g := sdk.NewGate(n)
	var mu sync.Mutex
	opened := map[uint64]int{}
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range each {
				if ok, round := g.Arrive(); ok {
					mu.Lock()
					opened[round]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if want := goroutines * each / n; len(opened) != want {
		t.Fatalf("%d rounds opened, want %d", len(opened), want)
	}
	for round, c := range opened {
		if c != 1 || round < 1 || round > goroutines*each/n {
			t.Fatalf("round %d opened %d times", round, c)
		}
	}
	if id, n := sdk.SplitGateMeta(sdk.GateMeta(5, 9)); id != 5 || n != 9 {
		t.Fatalf("gate meta round trip: %d %d", id, n)
	}
}

// [U1], [O1] stats: a counter incremented in handlers is the kernel's user
// counter; gauges and histograms are registered by name and exposed to
// Prometheus with the kernel's id.
func TestU1_Stats(t *testing.T) {
	const typ = 1
	var st *sdk.Stats
	var hits sdk.Counter
	m := kernel.Module{Name: "m", Handlers: []kernel.Handler{{Type: typ, Fn: func(c *kernel.Ctx) kernel.Status {
		hits.Add(c, 2)
		st.Histogram("lat").Observe(c.Task().Meta0)
		return kernel.OK
	}}}}
	k := boot(t, kernel.BootConfig{}, m)
	st = sdk.NewStats(k)
	var err error
	if hits, err = st.Counter("hits"); err != nil {
		t.Fatal(err)
	}
	st.Histogram("lat")
	st.Gauge("depth").Set(-4)
	for i := range 10 {
		submit(t, k, kernel.Task{Type: typ, Meta0: uint64(i)})
	}
	halt(t, k)
	if v := st.CounterValue(hits); v != 20 {
		t.Fatalf("counter %d, want 20", v)
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(st.Collector()); err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			switch f.GetName() {
			case "gmk_user_gauge":
				found = append(found, fmt.Sprintf("%s=%v", f.GetName(), m.GetGauge().GetValue()))
			case "gmk_user_histogram":
				if h := m.GetHistogram(); h.GetSampleCount() != 10 || h.GetSampleSum() != 45 {
					t.Errorf("histogram count %d sum %v", h.GetSampleCount(), h.GetSampleSum())
				}
				found = append(found, f.GetName())
			}
		}
	}
	if len(found) != 2 || found[0] != "gmk_user_gauge=-4" {
		t.Fatalf("exposed %q", found)
	}
}
