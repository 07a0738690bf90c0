package hosttest_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/kernel/task"
	"github.com/gmkernel/gmk/kernels/hosttest"
	"github.com/gmkernel/gmk/modules/gate"
	"github.com/gmkernel/gmk/modules/log"
	"github.com/gmkernel/gmk/modules/reduce"
	"github.com/gmkernel/gmk/modules/stats"
)

// [G5] [U2] gate on the GPU opens where modules/gate opens (round by
// round) and fails the same arrivals: N = 0, N above the limit, an N other
// than its round's, more gate ids than the table holds. Every 4th arrival
// first finds the out buffer full, so an opening is sent on the re-run and
// the arrival counted once.
func TestG5_GateMatchesGoModule(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var reqs []req
	for i := range 800 {
		id, n := uint32(rng.IntN(6)), uint32(1+int(id(rng))%3)
		switch i % 97 {
		case 13:
			n = 0
		case 41:
			n = 101
		case 60:
			n = 4 // disagrees with the gate's round unless it is empty
		}
		reqs = append(reqs, req{Task: task.Task{Type: gate.DefaultArriveType, Meta0: sdk.GateMeta(id, n)}})
	}
	c := bootCPU(t, kernel.BootConfig{}, gate.Module(gate.Config{MaxGates: 4, MaxArrivals: 100}), "gate.open",
		gate.DefaultOpenType, kernel.ChanSpec{Mode: kernel.FanOut, Guarantee: kernel.Lossless})
	m := openMods(t, hosttest.ModsConfig{GateMax: 4, GateMaxArrivals: 100})
	gouts, gcodes, retries := device(t, m, reqs, 4)
	couts, ccodes := c.Run(t, "gate.arrive", reqs, len(gouts), len(gcodes))
	same(t, "gate", gouts, couts, gcodes, ccodes)
	if len(gouts) < 100 || len(gcodes) < 10 || retries == 0 {
		t.Fatalf("%d openings, %d failures, %d retries: too few to compare", len(gouts), len(gcodes), retries)
	}
}

// id picks a gate's N from the gate id, so most arrivals agree on N.
func id(rng *rand.Rand) int { return rng.IntN(2) }

// [G5] [U2] stats on the GPU ends with modules/stats' values — counter,
// gauges (set and add in order), histogram buckets and sum — and fails the
// same updates (unknown id, an op the kind lacks) with CodeBadRequest.
func TestG5_StatsMatchesGoModule(t *testing.T) {
	metrics := []stats.Metric{{Name: "c", Kind: stats.Counter}, {Name: "g", Kind: stats.Gauge},
		{Name: "h", Kind: stats.Histogram}, {Name: "g2", Kind: stats.Gauge}}
	rng := rand.New(rand.NewPCG(9, 10))
	var reqs []req
	for range 2000 {
		mid, op := uint32(rng.IntN(5)), sdk.StatOp(rng.IntN(3))
		v := rng.Uint64() >> rng.IntN(64)
		reqs = append(reqs, req{Task: task.Task{Type: stats.DefaultInType, Meta0: sdk.StatMeta(mid, op), Meta1: v}})
	}
	s, err := stats.New(stats.Config{Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	c := bootCPU(t, kernel.BootConfig{}, s.Module(), "", 0, kernel.ChanSpec{})
	m := openMods(t, hosttest.ModsConfig{StatsKinds: []uint8{0, 1, 2, 1}})
	_, gcodes, _ := device(t, m, reqs, 0)
	_, ccodes := c.Run(t, "stats.in", reqs, 0, len(gcodes))
	same(t, "stats", nil, nil, gcodes, ccodes)
	reg := s.Registry()
	ctr, _ := reg.Counter("c")
	if got, want := m.Stat(0).Value, reg.CounterValue(ctr); got != want {
		t.Errorf("counter: GPU %d, Go %d", got, want)
	}
	for i, name := range []string{"g", "g2"} {
		if got, want := int64(m.Stat(uint32(1+2*i)).Value), reg.Gauge(name).Load(); got != want {
			t.Errorf("gauge %s: GPU %d, Go %d", name, got, want)
		}
	}
	h, gh := reg.Histogram("h").Snapshot(), m.Stat(2)
	if gh.Hist != h.Buckets || gh.Sum != h.Sum || h.Count == 0 {
		t.Errorf("histogram: GPU %v sum %d, Go %v sum %d", gh.Hist, gh.Sum, h.Buckets, h.Sum)
	}
}

// [G5] [U2] log on the GPU forwards to the CPU kernel exactly the records
// modules/log writes (at or above the level), unchanged, so the lines the
// CPU log module renders from them are modules/log's lines; malformed
// records fail with CodeBadRequest on both.
func TestG5_LogForwardsWhatGoModuleWrites(t *testing.T) {
	type rec struct {
		lv     sdk.Level
		format string
		args   []uint64
	}
	recs := []rec{{sdk.LevelInfo, "hello %d %u %x", []uint64{sdk.I(-3), 7, 255}}, {sdk.LevelDebug, "hidden", nil},
		{sdk.LevelError, "%f %t %c %% %q", []uint64{sdk.F(1.5), 1, 'z'}}, {sdk.LevelWarn, "missing %d %d", []uint64{1}}}
	var reqs []req
	for i := range 40 {
		r := recs[i%len(recs)]
		meta0, p := sdk.AppendLog(nil, r.lv, r.format, r.args...)
		switch i % 10 {
		case 7:
			meta0 += 1 << 16 // format length one more than the payload holds
		case 9:
			meta0 = meta0&^0xFF | 4 // level above ERROR
		}
		reqs = append(reqs, req{Task: task.Task{Type: log.DefaultRecType, Meta0: meta0, Meta1: uint64(i)}, Payload: p})
	}
	var buf bytes.Buffer // written by the log module's worker; read after halt
	c := bootCPU(t, kernel.BootConfig{}, log.Module(log.Config{Level: sdk.LevelInfo, Writer: &buf, Ticks: true}), "", 0, kernel.ChanSpec{})
	m := openMods(t, hosttest.ModsConfig{LogLevel: uint8(sdk.LevelInfo)})
	gouts, gcodes, _ := device(t, m, reqs, 0)
	_, ccodes := c.Run(t, "log.write", reqs, 0, len(gcodes))
	same(t, "log", nil, nil, gcodes, ccodes)
	var lines bytes.Buffer // the forwarded records, rendered as modules/log renders them
	for _, o := range gouts {
		x := task.Task{Type: o.Type, Meta0: o.Meta0, Meta1: o.Meta1}
		r, ok := sdk.ParseLog(&x, []byte(o.Payload))
		if !ok {
			t.Fatalf("forwarded record %v does not parse", o)
		}
		lines.WriteString(r.Level.String() + " t=")
		lines.WriteString(itoa(r.Tick) + " ")
		lines.Write(r.AppendMessage(nil))
		lines.WriteString("\n")
	}
	if lines.String() != buf.String() || buf.Len() == 0 {
		t.Errorf("forwarded records render as\n%s\nmodules/log wrote\n%s", lines.String(), buf.String())
	}
}

func itoa(v uint64) string { return string(appendUint(nil, v)) }

func appendUint(b []byte, v uint64) []byte {
	if v >= 10 {
		b = appendUint(b, v/10)
	}
	return append(b, byte('0'+v%10))
}

// [G5] [U2] reduce on the GPU sends modules/reduce's results for the same
// elements in a shuffled order — sum of int64, min and max of float64 (with
// ±0, ±Inf and NaN: Go's math.Min/Max, bit for bit), max of uint64, concat —
// and fails the same elements (duplicate index, a second last element, an
// index above the last, an index beyond the limit, too many open groups).
func TestG5_ReduceMatchesGoModule(t *testing.T) {
	floats := []float64{1.5, -0.0, 0.0, math.Inf(1), -2.25, 1e300, math.Inf(-1), 3}
	for _, tc := range []struct {
		name string
		r    sdk.Reducer
		val  func(rng *rand.Rand) uint64
	}{
		{"sum-int", sdk.Reducer{Op: sdk.OpSum, Kind: sdk.KindInt}, func(rng *rand.Rand) uint64 { return uint64(rng.Int64N(2000) - 1000) }},
		{"min-float", sdk.Reducer{Op: sdk.OpMin, Kind: sdk.KindFloat}, func(rng *rand.Rand) uint64 { return math.Float64bits(floats[rng.IntN(len(floats))]) }},
		{"max-float", sdk.Reducer{Op: sdk.OpMax, Kind: sdk.KindFloat}, func(rng *rand.Rand) uint64 { return math.Float64bits(floats[rng.IntN(len(floats))]) }},
		{"sum-float", sdk.Reducer{Op: sdk.OpSum, Kind: sdk.KindFloat}, func(rng *rand.Rand) uint64 { return math.Float64bits(rng.Float64()*1e6 - 5e5) }},
		{"max-uint", sdk.Reducer{Op: sdk.OpMax, Kind: sdk.KindUint}, func(rng *rand.Rand) uint64 { return rng.Uint64() }},
		{"concat", sdk.Reducer{Op: sdk.OpConcat}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) { reduceCase(t, tc.r, tc.val) })
	}
}

func reduceCase(t *testing.T, r sdk.Reducer, val func(*rand.Rand) uint64) {
	rng := rand.New(rand.NewPCG(11, 12))
	var reqs []req
	for g := range uint32(40) {
		n := 1 + rng.IntN(12)
		order := rng.Perm(n)
		for k, i := range order {
			x := req{Task: task.Task{Type: reduce.DefaultInType, Meta0: sdk.ElemMeta(g%6, uint32(i), i == n-1)}}
			if val != nil {
				x.Task.Meta1 = val(rng)
			} else if rng.IntN(4) > 0 {
				x.Payload = bytes.Repeat([]byte{byte('a' + i)}, 1+rng.IntN(5))
			}
			reqs = append(reqs, x)
			switch {
			case k == 0 && g%5 == 1: // a duplicate of the first element
				reqs = append(reqs, x)
			case k == 0 && g%7 == 2: // an index beyond the limit
				reqs = append(reqs, req{Task: task.Task{Type: reduce.DefaultInType, Meta0: sdk.ElemMeta(g%6, 20, false)}})
			}
		}
		if g%9 == 3 { // a second last element for a group that completed: opens a new group, then a mismatch
			reqs = append(reqs, req{Task: task.Task{Type: reduce.DefaultInType, Meta0: sdk.ElemMeta(g%6, 3, true)}},
				req{Task: task.Task{Type: reduce.DefaultInType, Meta0: sdk.ElemMeta(g%6, 5, false)}},
				req{Task: task.Task{Type: reduce.DefaultInType, Meta0: sdk.ElemMeta(g%6, 2, true)}})
		}
	}
	cfg := reduce.Config{Reducer: r, MaxGroups: 3, MaxElems: 16}
	c := bootCPU(t, kernel.BootConfig{Workers: 2}, reduce.Module(cfg), "reduce.out", reduce.DefaultOutType, modtest.Lossless)
	m := openMods(t, hosttest.ModsConfig{ReduceOp: uint8(r.Op), ReduceKind: uint8(r.Kind), ReduceGroups: 3, ReduceElems: 16})
	gouts, gcodes, _ := device(t, m, reqs, 3)
	couts, ccodes := c.Run(t, "reduce.in", reqs, len(gouts), len(gcodes))
	same(t, "reduce", gouts, couts, gcodes, ccodes)
	if len(gouts) < 10 || len(gcodes) < 5 {
		t.Fatalf("%d results, %d failures: too few to compare", len(gouts), len(gcodes))
	}
}
