package bench

import (
	"bytes"
	"regexp"
	"testing"
)

// DetOverhead measures a flood beside the deterministic lane and ends with
// the machine-readable line of issue 7 acceptance 3.
func TestDetOverheadLine(t *testing.T) {
	if testing.Short() {
		t.Skip("a real measurement (about a second)")
	}
	var out bytes.Buffer
	r, err := DetOverhead(&out, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^determinism overhead -?[0-9]+\.[0-9]%$`).Match(out.Bytes()) {
		t.Fatalf("no overhead line in:\n%s", out.String())
	}
	if r.Ticks == 0 || r.AloneNS <= 0 || r.BesideNS <= 0 || r.LaneNS <= 0 {
		t.Fatalf("result %+v", r)
	}
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
