package metrics

import "sync/atomic"

// Gauge is an int64 that any goroutine may set, add to, or raise: queue depths,
// subscriber counts, high watermarks ([O1]). Every method is one atomic
// operation (Max a short CAS loop), so a Gauge is for values that change per
// batch or per event, not per task on a worker's hot path; per-task counts
// belong in a Set. The zero Gauge is ready to use and reads 0.
type Gauge struct {
	v atomic.Int64 // written and read by any goroutine
}

// Set stores v.
func (g *Gauge) Set(v int64) { g.v.Store(v) }

// Add adds d (negative to subtract) and returns the new value.
func (g *Gauge) Add(d int64) int64 { return g.v.Add(d) }

// Load returns the current value.
func (g *Gauge) Load() int64 { return g.v.Load() }

// Max raises the gauge to v if v is larger, and reports whether it did: the
// update of a high watermark. Concurrent Max calls leave the largest value.
func (g *Gauge) Max(v int64) bool {
	for {
		cur := g.v.Load()
		if v <= cur {
			return false // already at or above v: nothing to publish
		}
		// Publish v only if nobody changed the gauge since we read cur; if
		// somebody did, re-read and compare against their value instead.
		if g.v.CompareAndSwap(cur, v) {
			return true
		}
	}
}

// Reset sets the gauge to 0 and returns the value it held (a watermark read
// and restarted for the next interval).
func (g *Gauge) Reset() int64 { return g.v.Swap(0) }
