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
