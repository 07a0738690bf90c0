package bench

import (
	"runtime"
	"testing"
	"time"
)

// TestCoreRoundTrip: with two processors the round trip is measured (a
// positive duration); with one it is not (0), rather than spinning for a
// scheduler time slice per hand-over.
func TestCoreRoundTrip(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	if d := CoreRoundTrip(10 * time.Millisecond); d <= 0 {
		t.Errorf("GOMAXPROCS 2: CoreRoundTrip = %v, want a positive duration", d)
	}
	runtime.GOMAXPROCS(1)
	if d := CoreRoundTrip(10 * time.Millisecond); d != 0 {
		t.Errorf("GOMAXPROCS 1: CoreRoundTrip = %v, want 0", d)
	}
}
