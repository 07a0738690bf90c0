package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// [X4][X1][X2] Issue 3 acceptance 4: the example boots the pipeline from
// its YAML supervision tree (nested supervisors, two strategies), prints the
// configured and the live tree, survives the crash through a restart, reports
// the bad records, and loses nothing (run checks the counts).
func TestX4_TreeExample(t *testing.T) {
	defer goleak.VerifyNone(t,
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"))
	var out bytes.Buffer
	if err := run(&out, "../configs/pipeline.yaml", 20_000); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"supervisor stages (permanent) rest_for_one",
		"module transform: gmk-cpu.0/root/stages/transform",
		"module errors: gmk-cpu.0/root/errors",
		"20 bad records reported on sys.error",
		"1 panics, 2 restarts (transform initialised 2 times, store 2)",
		"+ 0 dropped + 0 queued",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
