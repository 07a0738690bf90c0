package gate_test

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/gate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var fanLossless = kernel.ChanSpec{Mode: kernel.FanOut, Guarantee: kernel.Lossless}

func arrive(t *testing.T, k *kernel.Kernel, p sdk.Port, id, n uint32) {
	t.Helper()
	if err := sdk.EmitInline(context.Background(), k, p, 0, sdk.GateMeta(id, n), 0); err != nil {
		t.Fatal(err)
	}
}

// [U2] gate's contract: a gate opens on the N-th arrival of each round,
// once, with its round number, to every subscriber of gate.open; gates are
// independent; a round may change N; bad arrivals fail with their codes and
// are not counted.
func TestU2_GateContract(t *testing.T) {
	var a, b, errs modtest.Sink
	k := modtest.Boot(t, kernel.BootConfig{}, gate.Module(gate.Config{MaxGates: 3}),
		a.Module("a", "gate.open", gate.DefaultOpenType, fanLossless),
		b.Module("b", "gate.open", gate.DefaultOpenType, fanLossless),
		errs.Module("errs", kernel.SysError, 1, modtest.LossyFan))
	p, err := sdk.Dial(k, "gate.arrive")
	if err != nil {
		t.Fatal(err)
	}
	seq := []struct{ id, n uint32 }{
		{1, 3}, {2, 2}, {1, 3}, {2, 2}, // gate 2 opens (round 1)
		{1, 0},         // bad N: not counted
		{1, 4},         // N mismatch: not counted
		{1, 3},         // gate 1 opens (round 1)
		{1, 1},         // a new round with N = 1: opens (round 2)
		{2, 2}, {2, 2}, // gate 2 round 2
		{3, 5}, {4, 1}, // gate 4 is one gate too many
	}
	for _, s := range seq {
		arrive(t, k, p, s.id, s.n)
	}
	opens := a.Wait(t, 4)
	e := errs.Wait(t, 3)
	modtest.Halt(t, k)
	want := []struct {
		id, n uint32
		round uint64
	}{{2, 2, 1}, {1, 3, 1}, {1, 1, 2}, {2, 2, 2}}
	if len(opens) != len(want) || b.Len() != len(want) {
		t.Fatalf("%d and %d openings, want %d", len(opens), b.Len(), len(want))
	}
	for i, w := range want {
		id, n := sdk.SplitGateMeta(opens[i].Task.Meta0)
		bt := b.Records()[i].Task
		if id != w.id || n != w.n || opens[i].Task.Meta1 != w.round || bt.Meta0 != opens[i].Task.Meta0 || bt.Meta1 != w.round {
			t.Fatalf("opening %d: gate %d N %d round %d, want %+v", i, id, n, opens[i].Task.Meta1, w)
		}
	}
	codes := []kernel.Status{e[0].Code, e[1].Code, e[2].Code}
	if codes[0] != sdk.CodeBadRequest || codes[1] != sdk.CodeMismatch || codes[2] != sdk.CodeFull {
		t.Fatalf("codes %v, want CodeBadRequest, CodeMismatch, CodeFull", codes)
	}
}

// [U2] Under a stream of arrivals through 2-slot channels, every round of a
// gate opens exactly once and in order.
func TestU2_GateRoundsInOrder(t *testing.T) {
	const rounds, n = 400, 3
	var a modtest.Sink
	k := modtest.Boot(t, kernel.BootConfig{}, gate.Module(gate.Config{Slots: 2}),
		a.Module("a", "gate.open", gate.DefaultOpenType, kernel.ChanSpec{Mode: kernel.FanOut, Guarantee: kernel.Lossless, Slots: 2}))
	p, _ := sdk.Dial(k, "gate.arrive")
	for range rounds * n {
		arrive(t, k, p, 9, n)
	}
	opens := a.Wait(t, rounds)
	r := modtest.Halt(t, k)
	if len(opens) != rounds || r.Stats.Errored != 0 {
		t.Fatalf("%d openings, %d errors", len(opens), r.Stats.Errored)
	}
	for i, o := range opens {
		if o.Task.Meta1 != uint64(i+1) {
			t.Fatalf("opening %d has round %d", i, o.Task.Meta1)
		}
	}
}
