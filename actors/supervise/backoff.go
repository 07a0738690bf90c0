package supervise

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrBadBackoff is returned by Backoff.Validate.
var ErrBadBackoff = errors.New("supervise: invalid backoff")

// Backoff is a restart delay policy in the style of Akka's BackoffSupervisor:
// the n-th restart in a row (n from 0) waits
//
//	min(Max, Min·2ⁿ) × (1 + u·Factor), u uniform in [0, 1)
//
// and the result is kept within [Min, Max]. Akka applies the random factor
// after the cap, so its delays can exceed maxBackoff by up to the factor;
// GMK never waits longer than Max. The count of restarts in a row resets
// when the child ran Reset (default Min) without failing after its last
// restart. With MaxRestarts > 0, the failure that would be restart number
// MaxRestarts+1 in a row stops the child instead (Akka's maxNrOfRetries).
type Backoff struct {
	Min         time.Duration // first delay; > 0
	Max         time.Duration // cap; >= Min
	Factor      float64       // random factor, >= 0 (Akka: randomFactor, often 0.2)
	Reset       time.Duration // quiet period that resets the count; 0 = Min
	MaxRestarts int           // restarts in a row before stopping; 0 = no limit
}

// Validate reports ErrBadBackoff (wrapped with the field) when b is unusable.
func (b Backoff) Validate() error {
	switch {
	case b.Min <= 0:
		return fmt.Errorf("%w: min %v <= 0", ErrBadBackoff, b.Min)
	case b.Max < b.Min:
		return fmt.Errorf("%w: max %v < min %v", ErrBadBackoff, b.Max, b.Min)
	case b.Factor < 0 || math.IsNaN(b.Factor):
		return fmt.Errorf("%w: factor %v", ErrBadBackoff, b.Factor)
	case b.Reset < 0:
		return fmt.Errorf("%w: reset %v < 0", ErrBadBackoff, b.Reset)
	case b.MaxRestarts < 0:
		return fmt.Errorf("%w: max restarts %d < 0", ErrBadBackoff, b.MaxRestarts)
	}
	return nil
}

// Delay returns the delay of the n-th restart in a row (n from 0) for the
// random draw u in [0, 1). It is pure: the caller supplies the randomness.
func (b Backoff) Delay(n int, u float64) time.Duration {
	d := b.Max
	if n < 62 && b.Min<<n > 0 && b.Min<<n < b.Max { // no overflow, below cap
		d = b.Min << n
	}
	d = time.Duration(float64(d) * (1 + u*b.Factor))
	if d < b.Min || d < 0 { // d < 0: float overflow of a huge Max
		d = b.Min
	}
	if d > b.Max {
		d = b.Max
	}
	return d
}

func (b Backoff) quiet() time.Duration {
	if b.Reset > 0 {
		return b.Reset
	}
	return b.Min
}

// BackoffState counts one child's restarts in a row. The zero value is
// ready. It is not safe for concurrent use.
type BackoffState struct {
	n         int       // restarts in a row so far
	restartAt time.Time // when the last scheduled restart happens
}

// Next records a failure at now and returns the delay before the restart,
// drawn with u in [0, 1); ok is false when MaxRestarts in a row are used up
// (the child should stop). A failure at least b.Reset (default b.Min) after
// the previous restart took effect starts a new row.
func (s *BackoffState) Next(b Backoff, now time.Time, u float64) (d time.Duration, ok bool) {
	if s.n > 0 && now.Sub(s.restartAt) >= b.quiet() {
		s.n = 0
	}
	if b.MaxRestarts > 0 && s.n >= b.MaxRestarts {
		return 0, false
	}
	d = b.Delay(s.n, u)
	s.n++
	s.restartAt = now.Add(d)
	return d, true
}

// InARow returns the number of restarts in the current row.
func (s *BackoffState) InARow() int { return s.n }
