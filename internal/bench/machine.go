package bench

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// CoreRoundTrip is how long a cache line takes to go from one core to
// another and back, the figure that sets the price of GMK's cross-worker
// hops: two goroutines hand an atomic counter back and forth, spinning, for
// about budget/5, five times, and the median per round trip is returned. On
// a shared VM it changes over minutes (on the development VM 110–190 ns for
// a while, then 430–590 ns), so gmk-bench prints it before and after its
// cases: a run then says which conditions it met. It returns 0 when
// GOMAXPROCS is below 2, where the two could not run at once.
func CoreRoundTrip(budget time.Duration) time.Duration {
	if runtime.GOMAXPROCS(0) < 2 || budget <= 0 {
		return 0
	}
	var ds [5]time.Duration
	for i := range ds {
		ds[i] = pingPong(budget / time.Duration(len(ds)))
	}
	slices.Sort(ds[:])
	return ds[len(ds)/2]
}

// pingPong times round trips of a counter between two goroutines for about
// d: the starter moves it from even to odd, the other from odd to even; -1
// tells the other to stop. The clock is read every 64 round trips.
func pingPong(d time.Duration) time.Duration {
	var x atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			switch v := x.Load(); {
			case v < 0:
				return
			case v&1 == 1:
				x.Store(v + 1)
			}
		}
	})
	start := time.Now()
	var rounds int64
	for ; ; rounds++ {
		for x.Load() != 2*rounds {
		}
		if rounds&63 == 63 && time.Since(start) >= d {
			break
		}
		x.Store(2*rounds + 1)
	}
	elapsed := time.Since(start)
	x.Store(-1)
	wg.Wait()
	return elapsed / time.Duration(rounds)
}
