package supervise

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Reasons a child can fail with to report a normal or shutdown exit; the
// default Classify maps them (and errors wrapping them) to ExitNormal and
// ExitShutdown. Every other reason is ExitAbnormal.
var (
	ErrExitNormal   = errors.New("supervise: child exited normally")
	ErrExitShutdown = errors.New("supervise: child shut down")
)

// DefaultClassify maps ErrExitNormal and ErrExitShutdown to their Exit and
// everything else to ExitAbnormal.
func DefaultClassify(reason any) Exit {
	if err, ok := reason.(error); ok {
		switch {
		case errors.Is(err, ErrExitNormal):
			return ExitNormal
		case errors.Is(err, ErrExitShutdown):
			return ExitShutdown
		}
	}
	return ExitAbnormal
}

// Scheduler runs f once after d, on any goroutine. Backoff restarts go
// through it, so tests can fire them by hand.
type Scheduler interface {
	AfterFunc(d time.Duration, f func())
}

// TimerScheduler is the real Scheduler: time.AfterFunc.
type TimerScheduler struct{}

// AfterFunc implements Scheduler.
func (TimerScheduler) AfterFunc(d time.Duration, f func()) { time.AfterFunc(d, f) }

// Decision is what a Strategy did about one failure. It is published on the
// actor system's EventStream (as *Decision, next to protoactor's own
// *actor.SupervisorEvent) and passed to Config.OnFailedMessage.
type Decision struct {
	Supervisor *actor.PID      // nil if the supervisor has no Self
	Child      *actor.PID      // the failing child
	Reason     any             // the panic value or escalated reason
	Message    any             // the message being processed when it failed (may be nil)
	Exit       Exit            // Config.Classify(Reason)
	Directive  actor.Directive // for the failing child: Resume, Restart, Stop, Escalate
	Stop       []*actor.PID    // children stopped, reverse start order
	Restart    []*actor.PID    // children restarted, start order
	Delay      time.Duration   // restarts were scheduled this far ahead (backoff)
}

// Config configures a Strategy. The zero value plus Flags = DefaultFlags()
// behaves like OTP's default supervisor under protoactor.
type Config struct {
	Flags   Flags             // strategy and intensity, per supervisor
	Decider actor.DeciderFunc // reason → directive; nil = always Restart
	Backoff *Backoff          // delay restarts; nil = restart at once (OTP)
	// Classify maps a failure reason to an exit kind (for transient
	// children); nil = DefaultClassify.
	Classify func(reason any) Exit
	// OnFailedMessage receives the message the child was processing when it
	// failed, with the decision, on the supervisor's goroutine after the
	// decision was carried out; it must not block. The message is also in
	// the published Decision, so nothing is dropped when it is nil.
	OnFailedMessage func(child *actor.PID, message any, d *Decision)
	Scheduler       Scheduler        // nil = TimerScheduler
	Clock           func() time.Time // nil = time.Now
	Rand            func() float64   // [0, 1); nil = math/rand/v2.Float64
}

// Validate checks Flags and Backoff.
func (c *Config) Validate() error {
	if err := c.Flags.Validate(); err != nil {
		return err
	}
	if c.Backoff != nil {
		return c.Backoff.Validate()
	}
	return nil
}

// Strategy is GMK's actor.SupervisorStrategy with OTP semantics: see the
// package documentation. One Strategy may serve several supervisors; each
// gets its own child list and intensity. Its methods are safe for
// concurrent use.
type Strategy struct {
	cfg Config

	mu   sync.Mutex              // guards sups; held only while planning
	sups map[pidKey]*supervisorS // per supervisor, created on first use
}

var _ actor.SupervisorStrategy = (*Strategy)(nil)

type pidKey struct{ addr, id string }

func keyOf(p *actor.PID) pidKey {
	if p == nil {
		return pidKey{}
	}
	return pidKey{p.Address, p.Id}
}

func (k pidKey) String() string { return k.addr + "/" + k.id }

// supervisorS is one supervisor's state: its Tree (ids are pidKey strings),
// the PIDs behind those ids and each child's backoff row.
type supervisorS struct {
	tree    *Tree
	pids    map[string]*actor.PID
	backoff map[string]*BackoffState
}

// NewStrategy returns a Strategy for c, or the error of c.Validate.
func NewStrategy(c Config) (*Strategy, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Decider == nil {
		c.Decider = actor.DefaultDecider
	}
	if c.Classify == nil {
		c.Classify = DefaultClassify
	}
	if c.Scheduler == nil {
		c.Scheduler = TimerScheduler{}
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Float64
	}
	return &Strategy{cfg: c, sups: make(map[pidKey]*supervisorS)}, nil
}

// Add registers child of supervisor with restart type r. Supervisors add
// their children in the order they spawn them, which is the start order the
// strategies use. Adding a known child again moves it to the end: it was
// spawned again. Children a supervisor never added are learned, as
// Permanent, from supervisor.Children() at their first failure, in that
// order — which is spawn order only while no child has stopped, so add
// children explicitly when order matters.
func (s *Strategy) Add(supervisor, child *actor.PID, r Restart) error {
	if child == nil {
		return fmt.Errorf("%w: nil child", ErrUnknownChild)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stateLocked(keyOf(supervisor))
	id := keyOf(child).String()
	st.tree.Remove(id)
	if err := st.tree.Add(id, r); err != nil {
		return err
	}
	st.pids[id] = child
	return nil
}

// Remove forgets child of supervisor (call it on *actor.Terminated for a
// child the supervisor let go). Children that vanished from
// supervisor.Children() are also forgotten at the next failure.
func (s *Strategy) Remove(supervisor, child *actor.PID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.sups[keyOf(supervisor)]; ok {
		st.forget(keyOf(child).String())
	}
}

// Children returns supervisor's known children in start order.
func (s *Strategy) Children(supervisor *actor.PID) []Child {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.sups[keyOf(supervisor)]; ok {
		return st.tree.Children()
	}
	return nil
}

func (s *Strategy) stateLocked(k pidKey) *supervisorS {
	st, ok := s.sups[k]
	if !ok || st.tree.Terminated() {
		tree, _ := NewTree(s.cfg.Flags) // flags validated by NewStrategy
		st = &supervisorS{tree: tree, pids: map[string]*actor.PID{}, backoff: map[string]*BackoffState{}}
		s.sups[k] = st
	}
	return st
}

func (st *supervisorS) forget(id string) {
	st.tree.Remove(id)
	delete(st.pids, id)
	delete(st.backoff, id)
}

// sync makes the tree agree with the supervisor's live children: children
// that left are forgotten, unknown ones are appended as Permanent.
func (st *supervisorS) sync(live []*actor.PID, failing *actor.PID) {
	// live may be protoactor's own slice: never append to it.
	live = append(slices.Clip(live), failing)
	alive := make(map[string]*actor.PID, len(live))
	for _, p := range live {
		alive[keyOf(p).String()] = p
	}
	for _, c := range st.tree.Children() {
		if alive[c.ID] == nil {
			st.forget(c.ID)
		}
	}
	for _, p := range live {
		id := keyOf(p).String()
		if _, known := st.pids[id]; !known {
			_ = st.tree.Add(id, Permanent) // not dead: stateLocked renews
			st.pids[id] = p
		}
	}
}

func (st *supervisorS) resolve(ids []string) []*actor.PID {
	if len(ids) == 0 {
		return nil
	}
	out := make([]*actor.PID, 0, len(ids))
	for _, id := range ids {
		if p := st.pids[id]; p != nil {
			out = append(out, p)
		}
	}
	return out
}
