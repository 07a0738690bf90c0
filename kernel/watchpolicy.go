package kernel

import (
	"fmt"
	"time"
)

// The watchdog rule of [F4], shared by the monitors that apply it: the CPU
// kernel's watchdog module (modules/watchdog) and the GPU kernel's
// (gpu/system.Watch). A monitor samples the workers' heartbeats every
// Every; a worker whose beat stood still between two samples missed one.
// Warn misses in a row raise a warning, Reset misses in a row reset what is
// stalled. What a heartbeat is and what a reset does belong to the monitor;
// the counting is here, in one place.

// Defaults of WatchPolicy (the Defaults table of GMK.md: "poll 100 ms, warn
// after 2 missed, reset after 5").
const (
	DefaultWatchEvery = 100 * time.Millisecond
	DefaultWatchWarn  = 2
	DefaultWatchReset = 5
)

// WatchPolicy is the watchdog rule of [F4]. Zero (or negative) fields take
// their defaults.
type WatchPolicy struct {
	Every time.Duration // sampling period; default 100 ms
	Warn  int           // beats missed in a row before a warning; default 2
	Reset int           // beats missed in a row before a reset; default 5
}

// WithDefaults returns p with every zero or negative field set to its
// default.
func (p WatchPolicy) WithDefaults() WatchPolicy {
	if p.Every <= 0 {
		p.Every = DefaultWatchEvery
	}
	if p.Warn <= 0 {
		p.Warn = DefaultWatchWarn
	}
	if p.Reset <= 0 {
		p.Reset = DefaultWatchReset
	}
	return p
}

// Validate reports a policy whose warning could never come before its
// reset (after defaults). The error wraps ErrConfig.
func (p WatchPolicy) Validate() error {
	p = p.WithDefaults()
	if p.Warn > p.Reset {
		return fmt.Errorf("%w: watchdog: warn after %d misses is later than the reset after %d", ErrConfig, p.Warn, p.Reset)
	}
	return nil
}

// Missed says what the misses-th beat missed in a row calls for: a warning
// when it is the Warn-th, a reset when it is the Reset-th (both when Warn
// equals Reset). Each is called for once per stall: a monitor counts misses
// up from 1 and starts again from 0 when the beat moves.
func (p WatchPolicy) Missed(misses int) (warn, reset bool) {
	return misses == p.Warn, misses == p.Reset
}
