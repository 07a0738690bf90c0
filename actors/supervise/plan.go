package supervise

import "time"

// Exit records that child id ended with kind e at time now and returns what
// the supervisor does, following OTP's supervisor:
//
//   - A child whose restart type forbids a restart (temporary; transient
//     after a normal or shutdown exit) is not restarted, its siblings are
//     untouched and nothing counts against the intensity. A temporary
//     child's spec is deleted (Plan.Removed); a transient one stays, not
//     running.
//   - Otherwise the restart counts against the intensity of the whole
//     supervisor (all children together). More than Flags.Intensity
//     restarts within Flags.Period: every running child is terminated in
//     reverse start order and Plan.Escalate is set; the tree is then
//     Terminated until Reset.
//   - Else the strategy picks the affected siblings (none, all others, the
//     later ones); the running ones are stopped in reverse start order,
//     temporary ones are deleted, and the exited child and the other
//     siblings restart in start order. As in OTP, a sibling that was not
//     running (a transient child that ended normally) is started again too.
//
// It returns ErrUnknownChild for an id never added (or removed) and
// ErrTerminated after an escalation.
func (t *Tree) Exit(id string, e Exit, now time.Time) (Plan, error) {
	if t.dead {
		return Plan{}, ErrTerminated
	}
	i := t.index(id)
	if i < 0 {
		return Plan{}, ErrUnknownChild
	}
	t.children[i].Running = false
	if !restartable(t.children[i].Restart, e) {
		return t.noRestart(i), nil
	}
	if t.exceeds(now) {
		return t.escalate(), nil
	}
	return t.restart(i), nil
}

// restartable is OTP's do_restart decision for one child.
func restartable(r Restart, e Exit) bool {
	switch r {
	case Permanent:
		return true
	case Transient:
		return e == ExitAbnormal
	}
	return false
}

// noRestart handles an exit that its restart type does not restart.
func (t *Tree) noRestart(i int) Plan {
	if t.children[i].Restart != Temporary {
		return Plan{}
	}
	id := t.children[i].ID
	t.Remove(id)
	return Plan{Removed: []string{id}}
}

// exceeds records one restart at now and reports whether the supervisor now
// has more than Intensity restarts within Period.
func (t *Tree) exceeds(now time.Time) bool {
	t.prune(now)
	t.restarts = append(t.restarts, now)
	return len(t.restarts) > t.flags.Intensity
}

// escalate terminates every running child, last started first.
func (t *Tree) escalate() Plan {
	var p Plan
	for j := len(t.children) - 1; j >= 0; j-- {
		if t.children[j].Running {
			p.Stop = append(p.Stop, t.children[j].ID)
			t.children[j].Running = false
		}
	}
	p.Escalate = true
	t.dead = true
	return p
}

// restart applies the strategy to the exit of child i.
func (t *Tree) restart(i int) Plan {
	lo := i // affected siblings are children[lo:], minus i itself
	switch t.flags.Strategy {
	case OneForOne:
		lo = len(t.children)
	case OneForAll:
		lo = 0
	}
	var p Plan
	failed := t.children[i].ID
	for j := len(t.children) - 1; j >= lo; j-- { // terminate, reverse order
		c := &t.children[j]
		if j == i {
			continue
		}
		if c.Running {
			p.Stop = append(p.Stop, c.ID)
			c.Running = false
		}
		if c.Restart == Temporary {
			p.Removed = append(p.Removed, c.ID)
		}
	}
	for _, id := range p.Removed {
		t.Remove(id)
	}
	for j := range t.children { // restart, start order
		c := &t.children[j]
		if c.ID == failed || (!c.Running && t.affected(j, failed)) {
			p.Restart = append(p.Restart, c.ID)
			c.Running = true
		}
	}
	return p
}

// affected reports whether child j (indexed after temporary siblings were
// removed) lies in the affected range: after the failed child for
// rest_for_one, anywhere for one_for_all, nowhere for one_for_one.
func (t *Tree) affected(j int, failed string) bool {
	switch t.flags.Strategy {
	case OneForAll:
		return true
	case RestForOne:
		return j > t.index(failed)
	}
	return false
}
