package supervise

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// recordSupervisor is a complete actor.Supervisor that records the calls a
// strategy makes, so protoactor's strategies and GMK's can be compared call
// by call.
type recordSupervisor struct {
	mu       sync.Mutex
	self     *actor.PID
	children []*actor.PID
	calls    []string
	done     chan struct{} // one send per call, when non-nil
}

func (r *recordSupervisor) Self() *actor.PID                { return r.self }
func (r *recordSupervisor) Children() []*actor.PID          { return r.children }
func (r *recordSupervisor) RestartChildren(p ...*actor.PID) { r.rec("restart", p) }
func (r *recordSupervisor) StopChildren(p ...*actor.PID)    { r.rec("stop", p) }
func (r *recordSupervisor) ResumeChildren(p ...*actor.PID)  { r.rec("resume", p) }
func (r *recordSupervisor) EscalateFailure(reason, message any) {
	r.rec(fmt.Sprintf("escalate(%v)", message), nil)
}

func (r *recordSupervisor) rec(verb string, p []*actor.PID) {
	r.mu.Lock()
	r.calls = append(r.calls, strings.TrimSpace(verb+" "+strings.Join(names(p), " ")))
	r.mu.Unlock()
	if r.done != nil {
		r.done <- struct{}{}
	}
}

func (r *recordSupervisor) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

// TestX2_CompareWithProtoactor shows, scenario by scenario, what
// protoactor's own strategies do and what GMK's do instead: the budget is
// per supervisor (not per child), exceeding it escalates after stopping the
// children in reverse start order (protoactor just stops the child),
// temporary children are not restarted, rest_for_one exists, and the
// failing message is kept.
func TestX2_CompareWithProtoactor(t *testing.T) {
	system := newSystem()
	defer system.Shutdown()
	type failure struct{ child, msg string }
	cases := []struct {
		name     string
		theirs   actor.SupervisorStrategy
		ours     Flags
		temp     string // a child registered as Temporary with GMK
		failures []failure
		proto    []string
		gmk      []string
	}{
		{"budget: one restart each for two children",
			actor.NewOneForOneStrategy(1, 10*time.Second, actor.DefaultDecider), Flags{OneForOne, 1, 10 * time.Second}, "",
			[]failure{{"a", "m1"}, {"b", "m2"}},
			[]string{"restart a", "restart b"},
			[]string{"restart a", "stop c b a", "escalate(m2)"}}, // per supervisor: 2nd restart > 1
		{"budget: the same child twice",
			actor.NewOneForOneStrategy(1, 10*time.Second, actor.DefaultDecider), Flags{OneForOne, 1, 10 * time.Second}, "",
			[]failure{{"a", "m1"}, {"a", "m2"}},
			[]string{"restart a", "stop a"},
			[]string{"restart a", "stop c b a", "escalate(m2)"}},
		{"all-for-one with a temporary child",
			actor.NewAllForOneStrategy(5, 10*time.Second, actor.DefaultDecider), Flags{OneForAll, 5, 10 * time.Second}, "c",
			[]failure{{"a", "m1"}},
			[]string{"restart a b c"},
			[]string{"stop c", "restart a b"}},
		{"rest-for-one (protoactor has none: all-for-one is closest)",
			actor.NewAllForOneStrategy(5, 10*time.Second, actor.DefaultDecider), Flags{RestForOne, 5, 10 * time.Second}, "",
			[]failure{{"b", "m1"}},
			[]string{"restart a b c"},
			[]string{"restart b c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kids := []*actor.PID{system.NewLocalPID("a"), system.NewLocalPID("b"), system.NewLocalPID("c")}
			byName := map[string]*actor.PID{"a": kids[0], "b": kids[1], "c": kids[2]}
			var kept []any
			ours := newStrategy(t, Config{Flags: tc.ours, OnFailedMessage: func(_ *actor.PID, m any, _ *Decision) { kept = append(kept, m) }})
			sup := &recordSupervisor{self: system.NewLocalPID("sup"), children: kids}
			for _, k := range kids {
				r := Permanent
				if names([]*actor.PID{k})[0] == tc.temp {
					r = Temporary
				}
				_ = ours.Add(sup.self, k, r)
			}
			for _, s := range []struct {
				strategy actor.SupervisorStrategy
				want     []string
			}{{tc.theirs, tc.proto}, {ours, tc.gmk}} {
				stats := map[string]*actor.RestartStatistics{} // protoactor keeps them per child
				for _, f := range tc.failures {
					if stats[f.child] == nil {
						stats[f.child] = actor.NewRestartStatistics()
					}
					s.strategy.HandleFailure(system, sup, byName[f.child], stats[f.child], errBoom, f.msg)
				}
				if got := sup.take(); !slices.Equal(got, s.want) {
					t.Errorf("%T: %q, want %q", s.strategy, got, s.want)
				}
			}
			if len(kept) != len(tc.failures) {
				t.Errorf("GMK kept %d failing messages of %d", len(kept), len(tc.failures))
			}
		})
	}
}

// TestX2_CompareBackoffWithProtoactor: protoactor's "exponential" backoff
// waits failures×initial (+0–499 ns): linear and uncapped. GMK's doubles
// from Min and never exceeds Max. protoactor's delays are lower bounds
// measured on its real timer (a timer never fires early); GMK's are exact.
func TestX2_CompareBackoffWithProtoactor(t *testing.T) {
	system := newSystem()
	defer system.Shutdown()
	const initial = time.Millisecond
	theirs := actor.NewExponentialBackoffStrategy(10*time.Second, initial)
	sup := &recordSupervisor{children: []*actor.PID{system.NewLocalPID("a")}, done: make(chan struct{}, 1)}
	rs := actor.NewRestartStatistics()
	gmk := Backoff{Min: initial, Max: 4 * initial}
	var s BackoffState
	wantGMK := []time.Duration{1, 2, 4, 4, 4, 4}
	for n := 1; n <= 6; n++ {
		start := time.Now()
		theirs.HandleFailure(system, sup, sup.children[0], rs, errBoom, nil)
		<-sup.done // its time.AfterFunc restarted the child
		waited := time.Since(start)
		if rs.FailureCount() != n || waited < time.Duration(n)*initial {
			t.Fatalf("protoactor failure %d: count %d, waited %v < %v", n, rs.FailureCount(), waited, time.Duration(n)*initial)
		}
		if d, _ := s.Next(gmk, t0, 0); d != wantGMK[n-1]*initial {
			t.Fatalf("GMK failure %d: %v, want %v", n, d, wantGMK[n-1]*initial)
		}
		if n == 6 && waited <= gmk.Max {
			t.Fatalf("protoactor's 6th delay %v should exceed GMK's cap %v", waited, gmk.Max)
		}
	}
	if got := sup.take(); len(got) != 6 || got[5] != "restart a" {
		t.Fatalf("protoactor restarts %q: no limit, never stops", got)
	}
}
