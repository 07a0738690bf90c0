package bench

import (
	"errors"
	"testing"
)

// TestMeasure_UsesTestingBenchmark runs the real measurement path with fixed
// iteration counts: it checks the plumbing (b.N, allocs, failures), not timing.
func TestMeasure_UsesTestingBenchmark(t *testing.T) {
	restore, err := setBenchtime("100x")
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	var sink []byte
	allocating := Impl{Peer: PeerChan, Run: func(b *testing.B) {
		for range b.N {
			sink = make([]byte, 64)
		}
	}}
	r, err := measure(CaseP2P, allocating, 3)
	if err != nil {
		t.Fatal(err)
	}
	_ = sink
	if r.N != 100 || r.Case != CaseP2P || r.Peer != PeerChan {
		t.Errorf("result %+v: want N 100 for p2p/chan", r)
	}
	if r.AllocsPerTask < 0.99 {
		t.Errorf("allocs/task = %v, want about 1", r.AllocsPerTask)
	}
	failing := Impl{Peer: PeerChan, Run: func(b *testing.B) { b.Fatal("lost an item") }}
	if _, err := measure(CaseP2P, failing, 1); !errors.Is(err, ErrImplFailed) {
		t.Errorf("failing impl: err = %v, want ErrImplFailed", err)
	}
}

// TestSetBenchtime_Restores checks that Run leaves testing's benchtime as it
// found it, so `go test -bench` after it is unaffected.
func TestSetBenchtime_Restores(t *testing.T) {
	restore, err := setBenchtime("7x")
	if err != nil {
		t.Fatal(err)
	}
	restore()
	restore2, err := setBenchtime("8x")
	if err != nil {
		t.Fatal(err)
	}
	restore2()
	if _, err := setBenchtime("bogus"); !errors.Is(err, ErrBadOptions) {
		t.Errorf("bogus benchtime: err = %v, want ErrBadOptions", err)
	}
}
