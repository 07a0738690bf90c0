package supervise

import (
	"errors"
	"fmt"
	"time"
)

// Kind is a restart strategy, as in OTP's supervisor flags.
type Kind uint8

// Restart strategies.
const (
	// OneForOne restarts only the child that exited.
	OneForOne Kind = iota
	// OneForAll terminates every other child (reverse start order), then
	// restarts them all (start order).
	OneForAll
	// RestForOne terminates the children started after the one that exited
	// (reverse start order), then restarts it and them (start order). Earlier
	// children are untouched.
	RestForOne
)

func (k Kind) String() string {
	switch k {
	case OneForOne:
		return "one_for_one"
	case OneForAll:
		return "one_for_all"
	case RestForOne:
		return "rest_for_one"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Restart is a child's restart type (OTP: permanent, transient, temporary).
type Restart uint8

// Child restart types. The zero value is Permanent, OTP's default.
const (
	// Permanent children are always restarted.
	Permanent Restart = iota
	// Transient children are restarted only after an abnormal exit.
	Transient
	// Temporary children are never restarted, not even when a sibling's
	// failure terminates them; their spec is deleted when they end.
	Temporary
)

func (r Restart) String() string {
	switch r {
	case Permanent:
		return "permanent"
	case Transient:
		return "transient"
	case Temporary:
		return "temporary"
	}
	return fmt.Sprintf("Restart(%d)", uint8(r))
}

// Exit is how a child ended. The zero value is ExitAbnormal: a failure.
type Exit uint8

// Exit kinds.
const (
	ExitAbnormal Exit = iota // a crash: panic, error, escalated failure
	ExitNormal               // the child finished its work
	ExitShutdown             // the child was asked to stop
)

func (e Exit) String() string {
	switch e {
	case ExitAbnormal:
		return "abnormal"
	case ExitNormal:
		return "normal"
	case ExitShutdown:
		return "shutdown"
	}
	return fmt.Sprintf("Exit(%d)", uint8(e))
}

// Errors of Flags.Validate and Tree.
var (
	ErrBadFlags     = errors.New("supervise: invalid supervisor flags")
	ErrDuplicate    = errors.New("supervise: child already added")
	ErrUnknownChild = errors.New("supervise: unknown child")
	ErrTerminated   = errors.New("supervise: supervisor terminated (intensity exceeded)")
)

// Flags are a supervisor's flags: strategy and restart intensity. More than
// Intensity restarts within Period terminate the supervisor.
type Flags struct {
	Strategy  Kind
	Intensity int           // MaxR; 0 = any restart terminates the supervisor
	Period    time.Duration // MaxT; > 0
}

// DefaultFlags are OTP's defaults: one_for_one, 1 restart in 5 s. Production
// trees usually want a burst tolerance and a sustained rate instead, for
// example 5 restarts in 30 s.
func DefaultFlags() Flags {
	return Flags{Strategy: OneForOne, Intensity: 1, Period: 5 * time.Second}
}

// Validate reports ErrBadFlags (wrapped with the field) when f is unusable.
func (f Flags) Validate() error {
	switch {
	case f.Strategy > RestForOne:
		return fmt.Errorf("%w: strategy %v", ErrBadFlags, f.Strategy)
	case f.Intensity < 0:
		return fmt.Errorf("%w: intensity %d < 0", ErrBadFlags, f.Intensity)
	case f.Period <= 0:
		return fmt.Errorf("%w: period %v <= 0", ErrBadFlags, f.Period)
	}
	return nil
}

// Child is one child spec as Tree.Children reports it.
type Child struct {
	ID      string
	Restart Restart
	Running bool
}

// Plan is what a supervisor does after a child exit. The exited child is
// already gone; the caller terminates Stop, in that order, then starts
// Restart, in that order.
type Plan struct {
	// Stop lists running siblings to terminate, in reverse start order. On
	// escalation it lists every running child.
	Stop []string
	// Restart lists the children to start again, in start order: the exited
	// child (when its restart type allows) and the terminated siblings that
	// are not temporary.
	Restart []string
	// Removed lists children whose spec was deleted: temporary children that
	// ended, whether by their own exit or terminated as a sibling.
	Removed []string
	// Escalate is set when the restart exceeded the intensity: Stop holds
	// every running child, nothing restarts, and the supervisor terminates;
	// its parent decides.
	Escalate bool
}

// Tree is the pure state machine of one OTP-style supervisor: its child
// specs in start order and its restart history. It reads no clock (time is
// passed in) and starts nothing. A Tree is not safe for concurrent use; its
// owner serialises calls.
type Tree struct {
	flags    Flags
	children []Child     // start order
	restarts []time.Time // restart times within the last Period, oldest first
	dead     bool        // intensity exceeded; only Add after Reset revives it
}

// NewTree returns an empty supervisor with flags f, or ErrBadFlags.
func NewTree(f Flags) (*Tree, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &Tree{flags: f}, nil
}

// Flags returns the tree's flags.
func (t *Tree) Flags() Flags { return t.flags }

// Add appends a running child with restart type r: children start in the
// order they are added. It returns ErrDuplicate for a known id and
// ErrTerminated after an escalation.
func (t *Tree) Add(id string, r Restart) error {
	if t.dead {
		return ErrTerminated
	}
	if t.index(id) >= 0 {
		return ErrDuplicate
	}
	t.children = append(t.children, Child{ID: id, Restart: r, Running: true})
	return nil
}

// Remove deletes a child spec (OTP terminate_child + delete_child, or a
// child the caller saw disappear) and reports whether it existed.
func (t *Tree) Remove(id string) bool {
	i := t.index(id)
	if i < 0 {
		return false
	}
	t.children = append(t.children[:i], t.children[i+1:]...)
	return true
}

// Children returns a copy of the child specs in start order.
func (t *Tree) Children() []Child {
	return append([]Child(nil), t.children...)
}

// Terminated reports whether the tree escalated.
func (t *Tree) Terminated() bool { return t.dead }

// Reset forgets the children and the restart history: the supervisor was
// restarted by its own parent and will add its children again.
func (t *Tree) Reset() {
	t.children, t.restarts, t.dead = t.children[:0], t.restarts[:0], false
}

// Restarts returns how many restarts count against the intensity at now.
func (t *Tree) Restarts(now time.Time) int {
	t.prune(now)
	return len(t.restarts)
}

func (t *Tree) index(id string) int {
	for i := range t.children {
		if t.children[i].ID == id {
			return i
		}
	}
	return -1
}

// prune drops restarts older than Period: a restart at r counts at now
// while now-r < Period.
func (t *Tree) prune(now time.Time) {
	k := 0
	for k < len(t.restarts) && now.Sub(t.restarts[k]) >= t.flags.Period {
		k++
	}
	t.restarts = append(t.restarts[:0], t.restarts[k:]...)
}
