package kernel

import (
	"sync"
	"time"
)

// Action is what the kernel does with a failed task ([F1]–[F3], [X2]).
type Action uint8

// Actions a Supervisor can choose.
const (
	ActRetry   Action = iota // re-enqueue after Delay (Resume)
	ActError                 // the channel's error handler, else sys.error
	ActRestart               // re-Init the module, then retry after Delay (Restart)
	ActPoison                // poison the module's types; the task goes to sys.error (Stop)
	ActDefer                 // decided later: Kernel.Resolve(f.Ticket, d) (deferred.go)
)

func (a Action) String() string {
	return [...]string{"retry", "error", "restart", "poison", "defer"}[a]
}

// Failure describes one failed dispatch. The kernel reuses the value; a
// Supervisor must not keep the pointer.
type Failure struct {
	Task    Task
	Status  Status // RETRY, a FAIL code, PANICKED, YIELD_LIMIT
	Panic   any    // the recovered value when Status is PANICKED
	Module  string
	Worker  int
	Retries int    // retries this task already had
	Now     int64  // kernel clock, ns
	Rand    uint64 // a fresh random number for jitter
	Ticket  uint64 // names this failure to Kernel.Resolve after ActDefer
}

// Decision is a Supervisor's answer.
type Decision struct {
	Action Action
	Delay  time.Duration // for ActRetry and ActRestart
	Code   Status        // for ActError: the code recorded on sys.error (0 = f.Status)
}

// Supervisor decides what happens to failed tasks. It is called on the worker
// that ran the task (the slow path), possibly from several workers at once.
// A decision made elsewhere (the actor adaptation asks a protoactor
// supervisor) is returned as ActDefer and delivered later with Resolve.
type Supervisor interface {
	Decide(f *Failure) Decision
}

// Backoff is the built-in Supervisor ([F2]): RETRY is retried after an
// exponential backoff with jitter, up to a per-task limit; every other failure
// goes to the error path. Poisoning is rate-based and kept by the kernel for
// every supervisor ([F3]).
type Backoff struct {
	Policy RetryPolicy
	Limits func(typ uint32) int // per-type retry limit; nil or 0 = Policy.Max
}

// Decide implements Supervisor.
func (b *Backoff) Decide(f *Failure) Decision {
	if f.Status != Retry {
		return Decision{Action: ActError}
	}
	limit := b.Policy.Max
	if b.Limits != nil {
		if l := b.Limits(f.Task.Type); l > 0 {
			limit = l
		}
	}
	if f.Retries >= limit {
		return Decision{Action: ActError, Code: retryLimit}
	}
	return Decision{Action: ActRetry, Delay: BackoffDelay(b.Policy, f.Retries, f.Rand)}
}

// BackoffDelay returns min(cap, min·2ⁿ) scaled by a jitter factor in
// [1-j, 1+j] drawn from r, kept within [min, cap].
func BackoffDelay(p RetryPolicy, n int, r uint64) time.Duration {
	d := p.Cap
	if n < 40 && p.Min<<n < p.Cap && p.Min<<n > 0 {
		d = p.Min << n
	}
	u := float64(r>>11) / (1 << 53) // [0, 1)
	d = time.Duration(float64(d) * (1 + p.Jitter*(2*u-1)))
	if d < p.Min {
		d = p.Min
	}
	if d > p.Cap {
		d = p.Cap
	}
	return d
}

// failWindow keeps the ticks of a type's failures within the poison window
// for the rate rule of [F3], oldest first: its memory is bounded by the
// failures of one window (at most the policy's limit), not by the limit
// itself, which may be set very high to all but disable poisoning.
// Failures are the slow path, so a mutex is fine.
type failWindow struct {
	mu    sync.Mutex
	ticks []uint64 // ticks[head:]: failures within the window, oldest first
	head  int
}

// record adds a failure at tick now and reports whether the type now has
// limit failures within window ticks.
func (f *failWindow) record(now uint64, limit int, window uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.head < len(f.ticks) && now-f.ticks[f.head] >= window && now >= f.ticks[f.head] {
		f.head++ // left the window
	}
	if f.head > 0 && f.head >= len(f.ticks)/2 { // compact: amortised O(1) per failure
		f.ticks = append(f.ticks[:0], f.ticks[f.head:]...)
		f.head = 0
	}
	f.ticks = append(f.ticks, now)
	if n := len(f.ticks) - f.head; n > limit {
		f.head += n - limit // only the last limit failures matter
	}
	return len(f.ticks)-f.head >= limit
}

func (f *failWindow) reset() {
	f.mu.Lock()
	f.ticks, f.head = f.ticks[:0], 0
	f.mu.Unlock()
}
