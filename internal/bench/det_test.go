package bench

import (
	"bytes"
	"regexp"
	"testing"
)

// The determinism overhead measurement (small, so that it stays quick
// under -race) runs the three forms, the lane every tick of the
// simulation, measures its fence and drain time, and ends with the
// machine-readable line of issue 7 acceptance 3.
func TestDetOverheadLine(t *testing.T) {
	if testing.Short() {
		t.Skip("a real measurement")
	}
	r, err := detOverhead(1, detSize{flood: 50_000, rounds: 200})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := r.write(&out, 50_000, 200); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^determinism overhead -?[0-9]+\.[0-9]%$`).Match(out.Bytes()) {
		t.Fatalf("no overhead line in:\n%s", out.String())
	}
	if r.Ticks != 200 || r.AloneNS <= 0 || r.LaneNS <= 0 || r.PlainNS <= 0 || r.BoundaryNS <= 0 || r.BusyNS <= r.BoundaryNS {
		t.Fatalf("result %+v", r)
	}
	t.Log(out.String())
}

// FenceCost runs the exchange on two fenced kernels and on one, and reports
// both per tick (issue 7: the fence's cost per tick).
func TestFenceCostLine(t *testing.T) {
	if testing.Short() {
		t.Skip("a real measurement")
	}
	var out bytes.Buffer
	r, err := FenceCost(&out, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^tick fence cpu\.0 ⇄ gpu\.0 \(simulated\): [0-9.]+ µs/tick fenced, [0-9.]+ µs/tick on one kernel`).Match(out.Bytes()) {
		t.Fatalf("no fence line in:\n%s", out.String())
	}
	if r.FencedNS <= 0 || r.LocalNS <= 0 {
		t.Fatalf("result %+v", r)
	}
	t.Log(out.String())
}

// BenchmarkDetFlood times one flood per iteration, alone, beside the lane
// and beside the plain form (for profiling: -cpuprofile; for spreads:
// -benchtime 1x -count 8).
func BenchmarkDetFlood(b *testing.B) {
	for _, m := range []struct {
		name string
		mode detMode
	}{{"alone", detAlone}, {"lane", detLane}, {"plain", detPlain}} {
		b.Run(m.name, func(b *testing.B) {
			var ns, boundary float64
			for range b.N {
				s, err := detRun(m.mode, detSize{DetFlood, DetRounds})
				if err != nil {
					b.Fatal(err)
				}
				ns += s.nsPerTask
				boundary += float64(s.boundaryNS) / float64(max(s.ticks, 1))
			}
			b.ReportMetric(ns/float64(b.N), "ns/flood-task")
			b.ReportMetric(boundary/float64(b.N), "boundary-ns/tick")
		})
	}
}
