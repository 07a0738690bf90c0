package supervise

import (
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// selfer is implemented by protoactor's actor context, the Supervisor that
// protoactor passes to HandleFailure.
type selfer interface{ Self() *actor.PID }

// HandleFailure implements actor.SupervisorStrategy. It runs on the
// supervisor's goroutine: it plans under the lock, then (without it) carries
// the plan out through supervisor, publishes the Decision and hands the
// failing message to Config.OnFailedMessage.
func (s *Strategy) HandleFailure(system *actor.ActorSystem, supervisor actor.Supervisor,
	child *actor.PID, _ *actor.RestartStatistics, reason, message any) {
	d := &Decision{Child: child, Reason: reason, Message: message, Exit: s.cfg.Classify(reason)}
	if me, ok := supervisor.(selfer); ok {
		d.Supervisor = me.Self()
	}
	d.Directive = s.cfg.Decider(reason)
	if d.Directive == actor.RestartDirective || d.Directive == actor.StopDirective {
		s.plan(d, supervisor.Children())
	}
	s.apply(supervisor, d)
	if system != nil {
		if d.Directive != actor.EscalateDirective { // the parent logs escalations
			system.EventStream.Publish(&actor.SupervisorEvent{Child: child, Reason: reason, Directive: d.Directive})
		}
		system.EventStream.Publish(d)
	}
	if s.cfg.OnFailedMessage != nil {
		s.cfg.OnFailedMessage(child, message, d)
	}
}

// plan fills d.Stop, d.Restart, d.Delay (and may turn d.Directive into
// Stop or Escalate) for a Restart or Stop directive.
func (s *Strategy) plan(d *Decision, live []*actor.PID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := keyOf(d.Supervisor)
	st := s.stateLocked(k)
	st.sync(live, d.Child)
	id := keyOf(d.Child).String()
	now := s.cfg.Clock()
	if d.Directive == actor.RestartDirective && s.cfg.Backoff != nil && st.exhausted(id, *s.cfg.Backoff, now) {
		d.Directive = actor.StopDirective // Akka: max restarts in a row → stop
	}
	if d.Directive == actor.StopDirective {
		st.forget(id)
		d.Stop = []*actor.PID{d.Child}
		return
	}
	order := st.tree.Children()
	p, _ := st.tree.Exit(id, d.Exit, now) // known after sync; not dead: stateLocked renews
	d.Stop, d.Restart = st.resolve(p.Stop), st.resolve(p.Restart)
	if p.Escalate { // the failed child is suspended, not gone: stop it in its place
		d.Stop = st.resolve(escalationStops(order, p.Stop, id))
	}
	for _, r := range p.Removed {
		st.forget(r)
	}
	switch {
	case p.Escalate:
		d.Directive = actor.EscalateDirective
		delete(s.sups, k) // the supervisor terminates; it starts afresh
	case !slices.Contains(p.Restart, id):
		d.Directive = actor.StopDirective // not restartable: let it go
		d.Stop = append([]*actor.PID{d.Child}, d.Stop...)
		st.forget(id)
	case s.cfg.Backoff != nil:
		d.Delay = st.delay(id, *s.cfg.Backoff, now, s.cfg.Rand())
	}
}

// escalationStops lists the children of order (start order) that are in
// stop or are the failed one, last started first.
func escalationStops(order []Child, stop []string, failed string) []string {
	var out []string
	for j := len(order) - 1; j >= 0; j-- {
		if id := order[j].ID; id == failed || slices.Contains(stop, id) {
			out = append(out, id)
		}
	}
	return out
}

func (st *supervisorS) row(id string) *BackoffState {
	b := st.backoff[id]
	if b == nil {
		b = new(BackoffState)
		st.backoff[id] = b
	}
	return b
}

// exhausted reports whether child id has used up MaxRestarts in a row at now.
func (st *supervisorS) exhausted(id string, b Backoff, now time.Time) bool {
	r := *st.row(id) // a copy: Next on it must not count
	_, ok := r.Next(b, now, 0)
	return !ok
}

func (st *supervisorS) delay(id string, b Backoff, now time.Time, u float64) time.Duration {
	d, _ := st.row(id).Next(b, now, u)
	return d
}

// apply carries d out through protoactor's Supervisor: stops in the plan's
// (reverse start) order, then restarts in start order — now, or through the
// Scheduler after d.Delay. protoactor restarts a child in place (Restarting,
// then Started, on the same PID), so a sibling both stopped and restarted
// gets one Restart; the stop-only ones (temporary) get Stop.
func (s *Strategy) apply(sup actor.Supervisor, d *Decision) {
	switch d.Directive {
	case actor.ResumeDirective:
		sup.ResumeChildren(d.Child)
		return
	case actor.EscalateDirective:
		if len(d.Stop) > 0 {
			sup.StopChildren(d.Stop...)
		}
		sup.EscalateFailure(d.Reason, d.Message)
		return
	}
	var stopOnly []*actor.PID
	for _, p := range d.Stop {
		if !slices.Contains(d.Restart, p) {
			stopOnly = append(stopOnly, p)
		}
	}
	if len(stopOnly) > 0 {
		sup.StopChildren(stopOnly...)
	}
	if len(d.Restart) == 0 {
		return
	}
	if d.Delay <= 0 {
		sup.RestartChildren(d.Restart...)
		return
	}
	restart := d.Restart
	s.cfg.Scheduler.AfterFunc(d.Delay, func() { sup.RestartChildren(restart...) })
}
