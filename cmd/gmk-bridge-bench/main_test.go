package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRunMem runs a tiny in-memory measurement and checks the output shape.
func TestRunMem(t *testing.T) {
	lines, out := runLines(t, "-transports", "mem", "-batches", "1,8", "-payloads", "inline", "-tasks", "1000", "-count", "1", "-rtt", "0")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "bridge mem batch=1 inline ") ||
		!strings.HasSuffix(lines[1], "transfers_per_task=0.125") {
		t.Fatalf("output:\n%s", out.String())
	}
}

// TestRunLL runs a tiny measurement over LL rings and a few round trips,
// and checks the output shape: one throughput line, two bridge-rtt lines.
func TestRunLL(t *testing.T) {
	lines, out := runLines(t, "-transports", "mem-ll", "-batches", "8", "-payloads", "4k", "-tasks", "800", "-count", "1", "-rtt", "100")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "bridge mem-ll batch=8 4k ") ||
		!strings.HasPrefix(lines[1], "bridge-rtt mem inline p50=") || !strings.HasPrefix(lines[2], "bridge-rtt mem-ll inline p50=") {
		t.Fatalf("output:\n%s", out.String())
	}
}

// TestRunBadFlags: bad input exits 2 with a message, nothing measured.
func TestRunBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-batches", "x"}, {"-nope"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-transports", "tcp"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "unknown transport") {
		t.Errorf("unknown transport: exit %d, stderr %q", code, errb.String())
	}
}

// runLines runs the command with args and returns its output's lines that
// are not comments, and the whole output.
func runLines(t *testing.T, args ...string) ([]string, *bytes.Buffer) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines, &out
}
