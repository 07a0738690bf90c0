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
	for _, want := range []string{"# machine: cpu=", "GOMAXPROCS=", "# cross-core round trip before the cases: ", "# cross-core round trip after them: ", "p2p  ", "chan", "protoactor"} {
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

// Progress on a writer that is not a terminal (a CI log, a pipe): lines,
// no bar; the report on stdout is the same as with -q.
func TestRun_ProgressNotTerminal(t *testing.T) {
	args := []string{"-cases", "p2p", "-count", "1", "-benchtime", "200x"}
	var out, errOut, quiet, quietErr bytes.Buffer
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if code := run(append(args, "-q"), &quiet, &quietErr); code != 0 || quietErr.Len() != 0 {
		t.Fatalf("-q: exit %d, stderr %q", code, quietErr.String())
	}
	if strings.ContainsAny(errOut.String(), "\r█") || strings.Count(errOut.String(), "bench: p2p/") != 3 {
		t.Fatalf("stderr of a non-terminal run: %q, want 3 progress lines and no bar", errOut.String())
	}
	if strings.Count(out.String(), "\n") != strings.Count(quiet.String(), "\n") || strings.ContainsAny(out.String(), "\r█") {
		t.Fatalf("stdout differs in shape from -q's:\n%s\nvs\n%s", out.String(), quiet.String())
	}
	if isTerminal(&out) {
		t.Fatal("a buffer taken for a terminal")
	}
}
