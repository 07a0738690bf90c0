package actors

import (
	"slices"
	"sync"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/gmkernel/gmk/actors/supervise"
	"github.com/gmkernel/gmk/kernel"
)

// entry is a node of the supervision tree — a module or a supervisor — and
// outlives the actors that incarnate it: a restart in place keeps the actor,
// a stop and respawn makes a new one under the same name.
type entry struct {
	name     string
	module   bool
	parent   *entry
	children []*entry // supervisors: start order
	restart  supervise.Restart
	strategy actor.SupervisorStrategy // supervisors: the strategy (tapped at spawn)
	gmk      *supervise.Strategy      // when it is GMK's own: children are Added in start order

	mu       sync.Mutex
	pid      *actor.PID
	alive    bool
	stopped  bool              // stopped since its last start: its types are poisoned
	starts   int               // starts so far (first start and restarts)
	bootErr  error             // Init failed on the first start
	pending  map[*Failure]bool // reported, not resolved
	restarts []*Failure        // resolved when the module starts again
	up       chan struct{}     // closed at the next start; replaced after
	tried    chan struct{}     // closed when the next start ends, whether Init succeeded or not; replaced after
	down     chan struct{}     // closed at the next stop; replaced after

	// holdMu orders hold and unhold; holding is under it. It is not mu: a
	// hold waits for the workers to leave the module's handlers, and a
	// worker whose handler fails meanwhile reports it (report takes mu).
	holdMu  sync.Mutex
	holding bool // the kernel holds the module's handlers (restart or stop)
}

// hold stops the module's handlers (once) while its actor restarts or stops.
func (e *entry) hold(k *kernel.Kernel) {
	e.holdMu.Lock()
	defer e.holdMu.Unlock()
	if !e.holding {
		e.holding = true
		_ = k.HoldModule(e.name)
	}
}

// unhold ends hold.
func (e *entry) unhold(k *kernel.Kernel) {
	e.holdMu.Lock()
	defer e.holdMu.Unlock()
	if e.holding {
		e.holding = false
		_ = k.ReleaseModule(e.name)
	}
}

// PID returns the current actor's PID (nil before the first spawn).
func (e *entry) PID() *actor.PID {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pid
}

// report hands r to the module actor; false when the actor is not running.
func (e *entry) report(sys *actor.ActorSystem, r *Failure) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.alive || e.pid == nil {
		return false
	}
	if e.pending == nil {
		e.pending = map[*Failure]bool{}
	}
	e.pending[r] = true
	sys.Root.Send(e.pid, r)
	return true
}

func (e *entry) forget(r *Failure) {
	e.mu.Lock()
	delete(e.pending, r)
	e.mu.Unlock()
}

// awaitStart keeps r until the module's next start (the Restart directive).
func (e *entry) awaitStart(r *Failure) {
	e.mu.Lock()
	e.restarts = append(e.restarts, r)
	e.mu.Unlock()
}

// started records a start and returns the failures waiting for it and
// whether the module was stopped before (so its poison must be cleared).
func (e *entry) started(pid *actor.PID) (waiting []*Failure, wasStopped bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pid, e.alive, e.starts = pid, true, e.starts+1
	wasStopped, e.stopped = e.stopped, false
	waiting, e.restarts = e.restarts, nil
	fire(&e.up)
	fire(&e.tried)
	return waiting, wasStopped
}

// startFailed records a start whose Init failed: the actor fails with it,
// and its supervisor decides, once it is no longer waiting for this start.
func (e *entry) startFailed() {
	e.mu.Lock()
	defer e.mu.Unlock()
	fire(&e.tried)
}

// stoppedNow records a stop and returns the failures to send to sys.error:
// those no strategy has seen (still in the mailbox, which protoactor drops).
// The others are decided by their taps, or wait for a restart.
func (e *entry) stoppedNow() []*Failure {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.alive, e.stopped = false, true
	fire(&e.down)
	var out []*Failure
	for r := range e.pending {
		if !r.seen.Load() && !slices.Contains(e.restarts, r) {
			out = append(out, r)
		}
	}
	return out
}

// isAlive reports whether the entry's actor is running.
func (e *entry) isAlive() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.alive
}

// nextStop returns a channel closed at the entry's next stop.
func (e *entry) nextStop() <-chan struct{} { return e.next(&e.down) }

// nextTry returns a channel closed when the entry's next start ends, also
// when its Init fails. A supervisor that starts its children one at a time
// waits for this, not for nextStart: a child's failed start is a message to
// that same supervisor, which it reads only when it stops waiting.
func (e *entry) nextTry() <-chan struct{} { return e.next(&e.tried) }

// nextStart returns a channel closed at the entry's next start.
func (e *entry) nextStart() <-chan struct{} { return e.next(&e.up) }

// next returns the event channel *ch, made on first use; fire closes it.
func (e *entry) next(ch *chan struct{}) <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if *ch == nil {
		*ch = make(chan struct{})
	}
	return *ch
}

// fire closes event channel *ch, if anyone asked for it, and forgets it:
// the next event gets a new one. Caller holds e.mu.
func fire(ch *chan struct{}) {
	if *ch != nil {
		close(*ch)
		*ch = nil
	}
}
