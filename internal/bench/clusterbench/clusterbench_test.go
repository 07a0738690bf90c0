//go:build !race

// These tests start protoactor cluster members, whose own code trips the
// race detector (see the actor issue); they run in the plain build.

package clusterbench

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/internal/leaktest"
)

// TestMain checks that no goroutine of GMK's outlives the tests; protoactor
// leaves some of its own after Shutdown, ignored by name.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, leaktest.Protoactor()...)
}

// TestX5_PairDeliversEveryTaskOnce runs both scenarios of the
// cluster-channel benchmark at sizes around the batch and window sizes:
// each checks that B saw every task exactly once ([X5]: lossless across
// members), on one pair reused across runs as the benchmark does.
func TestX5_PairDeliversEveryTaskOnce(t *testing.T) {
	p, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}()
	for _, n := range []int{1, 255, 4097, 70_000} {
		if err := p.Channel(n, nopTimer{}); err != nil {
			t.Fatalf("channel, %d tasks: %v", n, err)
		}
		if err := p.Remote(n, nopTimer{}); err != nil {
			t.Fatalf("remote, %d tasks: %v", n, err)
		}
	}
}

// BenchmarkPair measures both, as `go test -bench` (cmd/gmk-bench prints
// them side by side with the ratio).
func BenchmarkPair(b *testing.B) {
	p, err := Start()
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	b.Run("gmk", func(b *testing.B) {
		b.ReportAllocs()
		if err := p.Channel(b.N, b); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("protoactor-remote", func(b *testing.B) {
		b.ReportAllocs()
		if err := p.Remote(b.N, b); err != nil {
			b.Fatal(err)
		}
	})
}
