package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestRun_BadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-count", "-1"}, &out, &errOut); code != 2 {
		t.Errorf("-count -1: exit %d, want 2 (stderr %q)", code, errOut.String())
	}
	if code := run([]string{"-cases", "nope", "-q"}, &out, &errOut); code != 1 {
		t.Errorf("unknown case: exit %d, want 1 (stderr %q)", code, errOut.String())
	}
}

// TestRun_OneCase runs one case with a small fixed task count: a smoke test of
// the whole path, not a measurement.
func TestRun_OneCase(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-cases", "p2p", "-count", "1", "-benchtime", "200x", "-q"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"# machine: cpu=", "GOMAXPROCS=", "p2p  ", "chan", "protoactor"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSplitList(t *testing.T) {
	if got := splitList(" p2p, ,fanout3,"); strings.Join(got, "|") != "p2p|fanout3" {
		t.Errorf("splitList = %q", got)
	}
	if got := splitList(""); got != nil {
		t.Errorf("splitList(\"\") = %q, want nil", got)
	}
}

// TestMain checks that a run leaves no goroutine (or actor) behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
