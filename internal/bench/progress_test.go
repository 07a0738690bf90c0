package bench

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// Progress as lines (a log, not a terminal): one per implementation, no bar
// drawing; the report on the other writer is the same as without progress.
func TestProgress_LinesWithoutBar(t *testing.T) {
	var out, plain, prog bytes.Buffer
	cases := fakeCases(t, true)
	if err := run(&plain, cases, nil, Options{Count: 1}, fakeMeasure); err != nil {
		t.Fatal(err)
	}
	if err := run(&out, cases, nil, Options{Count: 1, Progress: &prog}, fakeMeasure); err != nil {
		t.Fatal(err)
	}
	if out.String() != plain.String() {
		t.Fatalf("progress changed the report:\n%s\nvs\n%s", out.String(), plain.String())
	}
	lines := strings.Split(strings.TrimSpace(prog.String()), "\n")
	if len(lines) != implCount(cases) || strings.ContainsAny(prog.String(), "\r█") {
		t.Fatalf("progress lines (want %d, no bar):\n%q", implCount(cases), prog.String())
	}
}

// The bar (forced on, into a buffer) advances through done/total, one step
// per implementation, is cleared when complete, and the report is unchanged.
func TestProgress_BarAdvances(t *testing.T) {
	var out, plain, prog bytes.Buffer
	cases := fakeCases(t, true)
	if err := run(&plain, cases, nil, Options{Count: 1}, fakeMeasure); err != nil {
		t.Fatal(err)
	}
	if err := run(&out, cases, nil, Options{Count: 1, Progress: &prog, Bar: true}, fakeMeasure); err != nil {
		t.Fatal(err)
	}
	if out.String() != plain.String() {
		t.Fatal("the bar changed the report")
	}
	total := implCount(cases)
	s := prog.String()
	for i := range total { // the last step completes the bar, which clears it
		if want := "(" + strconv.Itoa(i) + "/" + strconv.Itoa(total) + ")"; !strings.Contains(s, want) {
			t.Fatalf("bar never showed %s:\n%q", want, s)
		}
	}
	if last := s[strings.LastIndex(s[:len(s)-1], "\r"):]; strings.TrimSpace(last) != "" {
		t.Fatalf("the bar was not cleared at the end: %q", last)
	}
	if strings.Contains(s, "ns/task (median") {
		t.Fatalf("the bar printed progress lines too:\n%q", s)
	}
}

func implCount(cs []Case) int {
	n := 0
	for _, c := range cs {
		n += len(c.Impls)
	}
	return n
}
