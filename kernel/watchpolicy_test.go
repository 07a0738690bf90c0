package kernel_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel"
)

// [F4] The watchdog defaults are the spec's: poll 100 ms, warn after 2
// missed beats, reset after 5; a warning later than the reset is refused.
func TestF4_WatchPolicyDefaults(t *testing.T) {
	p := kernel.WatchPolicy{}.WithDefaults()
	if p.Every != 100*time.Millisecond || p.Warn != 2 || p.Reset != 5 {
		t.Fatalf("defaults %+v, want 100ms/2/5", p)
	}
	if err := (kernel.WatchPolicy{Warn: 6}).Validate(); !errors.Is(err, kernel.ErrConfig) {
		t.Fatalf("warn 6 > reset 5: %v, want ErrConfig", err)
	}
	if err := (kernel.WatchPolicy{Warn: 3, Reset: 3}).Validate(); err != nil {
		t.Fatalf("warn = reset: %v", err)
	}
}

// [F4] Counting misses up from 1, a stall calls for one warning at the
// Warn-th miss and one reset at the Reset-th, never again while it lasts.
func TestF4_WatchPolicyMissed(t *testing.T) {
	for _, tc := range []struct {
		p           kernel.WatchPolicy
		warn, reset int
	}{
		{kernel.WatchPolicy{}, 2, 5},
		{kernel.WatchPolicy{Warn: 1, Reset: 1}, 1, 1},
		{kernel.WatchPolicy{Warn: 3, Reset: 4}, 3, 4},
	} {
		p := tc.p.WithDefaults()
		var warns, resets []int
		for m := 1; m <= 10; m++ {
			w, r := p.Missed(m)
			if w {
				warns = append(warns, m)
			}
			if r {
				resets = append(resets, m)
			}
		}
		if len(warns) != 1 || warns[0] != tc.warn || len(resets) != 1 || resets[0] != tc.reset {
			t.Errorf("%+v: warnings at %v, resets at %v; want [%d] and [%d]", p, warns, resets, tc.warn, tc.reset)
		}
	}
}
