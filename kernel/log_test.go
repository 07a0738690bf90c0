package kernel

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// The kernel logs through zap and logs nothing per task: boot and halt are
// logged once each, whatever the tasks did (successes, failures, retries).
func TestKernelLogsNothingPerTask(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	k, err := Boot(BootConfig{Workers: 2, ArenaSize: 1 << 20, QueueCap: 4096, MaxTypes: 8, Logger: zap.New(core),
		Poison: PoisonPolicy{Failures: 1 << 20}},
		Module{Name: "m", Handlers: []Handler{{Type: 1, Fn: func(c *Ctx) Status {
			switch c.Task().Meta0 % 3 {
			case 0:
				return FailCode(-9)
			case 1:
				if c.Task().Aux == 0 {
					return Retry
				}
			}
			return OK
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		if err := k.Submit(Task{Type: 1, Meta0: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if r.Stats.Errored != 1000 || r.Stats.Retried != 1000 {
		t.Fatalf("stats %v", r.Stats)
	}
	var msgs []string
	for _, e := range logs.All() {
		msgs = append(msgs, e.Message)
	}
	if len(msgs) != 2 || msgs[0] != "kernel booted" || msgs[1] != "kernel halted" {
		t.Fatalf("log entries %q, want boot and halt only", msgs)
	}
}
