package supervise

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

type spec struct {
	id string
	r  Restart
}

func newTree(t *testing.T, f Flags, specs ...spec) *Tree {
	t.Helper()
	tr, err := NewTree(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		if err := tr.Add(s.id, s.r); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

func ids(cs []Child) (running, all []string) {
	for _, c := range cs {
		all = append(all, c.ID)
		if c.Running {
			running = append(running, c.ID)
		}
	}
	return running, all
}

func flags(k Kind) Flags { return Flags{Strategy: k, Intensity: 10, Period: time.Minute} }

// TestX2_OTP_RestartSets checks, point by point against OTP's supervisor,
// which children each strategy stops (reverse start order), restarts
// (start order) and deletes (temporary ones) when one child exits.
func TestX2_OTP_RestartSets(t *testing.T) {
	perm := []spec{{"a", Permanent}, {"b", Permanent}, {"c", Permanent}, {"d", Permanent}, {"e", Permanent}}
	mixed := []spec{{"a", Permanent}, {"b", Temporary}, {"c", Permanent}, {"d", Transient}, {"e", Temporary}}
	cases := []struct {
		name     string
		kind     Kind
		children []spec
		exit     string
		how      Exit
		want     Plan
		left     []string // child specs afterwards, start order
	}{
		{"one_for_one restarts only the child", OneForOne, perm, "c", ExitAbnormal,
			Plan{Restart: []string{"c"}}, []string{"a", "b", "c", "d", "e"}},
		{"one_for_all stops all others reversed, restarts all in order", OneForAll, perm, "c", ExitAbnormal,
			Plan{Stop: []string{"e", "d", "b", "a"}, Restart: []string{"a", "b", "c", "d", "e"}}, []string{"a", "b", "c", "d", "e"}},
		{"rest_for_one stops later ones reversed, restarts it and them", RestForOne, perm, "c", ExitAbnormal,
			Plan{Stop: []string{"e", "d"}, Restart: []string{"c", "d", "e"}}, []string{"a", "b", "c", "d", "e"}},
		{"rest_for_one of the first child is one_for_all", RestForOne, perm, "a", ExitAbnormal,
			Plan{Stop: []string{"e", "d", "c", "b"}, Restart: []string{"a", "b", "c", "d", "e"}}, []string{"a", "b", "c", "d", "e"}},
		{"rest_for_one of the last child is one_for_one", RestForOne, perm, "e", ExitAbnormal,
			Plan{Restart: []string{"e"}}, []string{"a", "b", "c", "d", "e"}},
		{"one_for_all: temporary siblings stopped and deleted, never restarted", OneForAll, mixed, "c", ExitAbnormal,
			Plan{Stop: []string{"e", "d", "b", "a"}, Restart: []string{"a", "c", "d"}, Removed: []string{"e", "b"}}, []string{"a", "c", "d"}},
		{"rest_for_one: temporary later sibling deleted, earlier temporary untouched", RestForOne, mixed, "c", ExitAbnormal,
			Plan{Stop: []string{"e", "d"}, Restart: []string{"c", "d"}, Removed: []string{"e"}}, []string{"a", "b", "c", "d"}},
		{"temporary child exit touches no sibling", OneForAll, mixed, "b", ExitAbnormal,
			Plan{Removed: []string{"b"}}, []string{"a", "c", "d", "e"}},
		{"transient normal exit touches no sibling and keeps its spec", OneForAll, mixed, "d", ExitNormal,
			Plan{}, []string{"a", "b", "c", "d", "e"}},
		{"transient abnormal exit restarts per strategy", OneForAll, mixed, "d", ExitAbnormal,
			Plan{Stop: []string{"e", "c", "b", "a"}, Restart: []string{"a", "c", "d"}, Removed: []string{"e", "b"}}, []string{"a", "c", "d"}},
		{"permanent child restarted even after a normal exit", RestForOne, perm, "d", ExitNormal,
			Plan{Stop: []string{"e"}, Restart: []string{"d", "e"}}, []string{"a", "b", "c", "d", "e"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t, flags(tc.kind), tc.children...)
			got, err := tr.Exit(tc.exit, tc.how, t0)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("plan = %+v, want %+v", got, tc.want)
			}
			if _, all := ids(tr.Children()); !reflect.DeepEqual(all, tc.left) {
				t.Fatalf("children = %v, want %v", all, tc.left)
			}
		})
	}
}

// TestX2_OTP_RestartTypes is the matrix of OTP's do_restart: permanent ×
// transient × temporary against normal, shutdown and abnormal exits.
func TestX2_OTP_RestartTypes(t *testing.T) {
	want := map[Restart][3]bool{ // indexed by Exit: abnormal, normal, shutdown
		Permanent: {true, true, true},
		Transient: {true, false, false},
		Temporary: {false, false, false},
	}
	for r, row := range want {
		for e, restarted := range row {
			tr := newTree(t, flags(OneForOne), spec{"x", r})
			p, err := tr.Exit("x", Exit(e), t0)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(p.Restart) == 1; got != restarted {
				t.Errorf("%v child, %v exit: restarted = %v, want %v", r, Exit(e), got, restarted)
			}
			if counted := tr.Restarts(t0) == 1; counted != restarted {
				t.Errorf("%v/%v: counted against intensity = %v, want %v", r, Exit(e), counted, restarted)
			}
			running, all := ids(tr.Children())
			if (r == Temporary) != (len(all) == 0) {
				t.Errorf("%v/%v: spec kept = %v", r, Exit(e), all)
			}
			if (len(running) == 1) != restarted {
				t.Errorf("%v/%v: running = %v", r, Exit(e), running)
			}
		}
	}
}

// TestX2_OTP_IntensityPerSupervisor: restarts of different children count
// together; the one that makes more than MaxR within MaxT terminates all
// running children in reverse start order and escalates.
func TestX2_OTP_IntensityPerSupervisor(t *testing.T) {
	tr := newTree(t, Flags{Strategy: OneForOne, Intensity: 2, Period: 10 * time.Second},
		spec{"a", Permanent}, spec{"b", Permanent}, spec{"c", Permanent}, spec{"d", Permanent})
	for i, id := range []string{"a", "b"} {
		if p, _ := tr.Exit(id, ExitAbnormal, t0.Add(time.Duration(i)*time.Second)); p.Escalate {
			t.Fatalf("restart %d of %s escalated", i+1, id)
		}
	}
	p, err := tr.Exit("c", ExitAbnormal, t0.Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := Plan{Stop: []string{"d", "b", "a"}, Escalate: true}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("third restart in 10 s: %+v, want %+v", p, want)
	}
	if running, _ := ids(tr.Children()); len(running) != 0 || !tr.Terminated() {
		t.Fatalf("after escalation running = %v, terminated = %v", running, tr.Terminated())
	}
	if _, err := tr.Exit("d", ExitAbnormal, t0); !errors.Is(err, ErrTerminated) {
		t.Fatalf("Exit after escalation: %v", err)
	}
	if err := tr.Add("z", Permanent); !errors.Is(err, ErrTerminated) {
		t.Fatalf("Add after escalation: %v", err)
	}
	tr.Reset()
	if err := tr.Add("a", Permanent); err != nil || tr.Restarts(t0) != 0 {
		t.Fatalf("Reset: err %v, restarts %d", err, tr.Restarts(t0))
	}
}

// TestX2_OTP_IntensityWindow: restarts older than MaxT no longer count
// (a restart at r counts while now-r < MaxT); OTP's defaults are 1 in 5 s.
func TestX2_OTP_IntensityWindow(t *testing.T) {
	if f := DefaultFlags(); f != (Flags{OneForOne, 1, 5 * time.Second}) {
		t.Fatalf("DefaultFlags = %+v", f)
	}
	cases := []struct {
		gap      time.Duration
		escalate bool
	}{{0, true}, {4999 * time.Millisecond, true}, {5 * time.Second, false}, {time.Hour, false}}
	for _, tc := range cases {
		tr := newTree(t, DefaultFlags(), spec{"a", Permanent}, spec{"b", Permanent})
		if p, _ := tr.Exit("a", ExitAbnormal, t0); p.Escalate {
			t.Fatal("first restart escalated with MaxR = 1")
		}
		p, _ := tr.Exit("b", ExitAbnormal, t0.Add(tc.gap))
		if p.Escalate != tc.escalate {
			t.Errorf("second restart %v later: escalate = %v, want %v", tc.gap, p.Escalate, tc.escalate)
		}
	}
	tr := newTree(t, Flags{OneForOne, 0, time.Second}, spec{"a", Permanent})
	if p, _ := tr.Exit("a", ExitAbnormal, t0); !p.Escalate || len(p.Stop) != 0 {
		t.Fatalf("MaxR = 0: %+v, want escalation", p)
	}
}

// TestX2_OTP_NoRestartNoIntensity: exits that are not restarted never count.
func TestX2_OTP_NoRestartNoIntensity(t *testing.T) {
	tr := newTree(t, Flags{OneForAll, 1, time.Minute}, spec{"p", Permanent}, spec{"t", Transient})
	for i := 0; i < 5; i++ {
		if p, _ := tr.Exit("t", ExitNormal, t0); p.Escalate || len(p.Restart) != 0 {
			t.Fatalf("transient normal exit %d: %+v", i, p)
		}
	}
	// OTP's one_for_all restarts every non-temporary spec, running or not.
	p, _ := tr.Exit("p", ExitAbnormal, t0)
	if want := (Plan{Restart: []string{"p", "t"}}); !reflect.DeepEqual(p, want) {
		t.Fatalf("plan %+v, want %+v", p, want)
	}
}

func TestTreeErrors(t *testing.T) {
	for _, f := range []Flags{{Strategy: 9, Period: 1}, {Intensity: -1, Period: 1}, {Intensity: 1}} {
		if _, err := NewTree(f); !errors.Is(err, ErrBadFlags) {
			t.Errorf("NewTree(%+v) = %v", f, err)
		}
	}
	tr := newTree(t, DefaultFlags(), spec{"a", Permanent})
	if err := tr.Add("a", Transient); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate Add: %v", err)
	}
	if _, err := tr.Exit("nope", ExitAbnormal, t0); !errors.Is(err, ErrUnknownChild) {
		t.Errorf("unknown Exit: %v", err)
	}
	if !tr.Remove("a") || tr.Remove("a") {
		t.Error("Remove")
	}
	for _, s := range []string{OneForAll.String(), Transient.String(), ExitShutdown.String(), Kind(7).String()} {
		if s == "" {
			t.Error("empty String")
		}
	}
}
