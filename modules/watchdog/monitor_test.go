package watchdog

import (
	"slices"
	"testing"

	"github.com/gmkernel/gmk/kernel"
)

// [F4] The monitor's rule, sample by sample: worker 0 sits in one call of
// module "a" from the first poll on; worker 1 runs short calls. Worker 0
// misses a beat per poll from the second sample that finds it: the warning
// comes at the 2nd miss, the reset at the 5th, once each; when its beat
// moves it recovers and its stall mark clears. Worker 1 never misses one.
func TestF4_MonitorRule(t *testing.T) {
	names := []string{"a", "b"}
	m := newMonitor(kernel.WatchPolicy{})
	m.step([]beatSample{{n: 0}, {n: 0}}, names, nil) // baseline before the call
	type want struct {
		kinds  []Kind
		misses int
	}
	var got []want
	for poll := 1; poll <= 8; poll++ {
		w1 := beatSample{n: uint64(2*poll + 1), mod: 1} // a new call of b each poll
		evs := m.step([]beatSample{{n: 1, mod: 0}, w1}, names, nil)
		var kinds []Kind
		for _, e := range evs {
			if e.Worker != 0 || e.Module != "a" {
				t.Fatalf("poll %d: event %+v, want worker 0 module a", poll, e)
			}
			kinds = append(kinds, e.Kind)
		}
		got = append(got, want{kinds, m.misses[0]})
		if st := m.stalls(names); (poll >= 6) != (len(st) == 1) {
			t.Fatalf("poll %d: stalls %v", poll, st)
		}
	}
	exp := []want{{nil, 0}, {nil, 1}, {[]Kind{Warning}, 2}, {nil, 3}, {nil, 4}, {[]Kind{Reset}, 5}, {nil, 6}, {nil, 7}}
	for i := range exp {
		if !slices.Equal(got[i].kinds, exp[i].kinds) || got[i].misses != exp[i].misses {
			t.Fatalf("poll %d: %v misses %d, want %v misses %d", i+1, got[i].kinds, got[i].misses, exp[i].kinds, exp[i].misses)
		}
	}
	evs := m.step([]beatSample{{n: 2}, {n: 100}}, names, nil)
	if len(evs) != 1 || evs[0].Kind != Recovered || evs[0].Module != "a" || evs[0].Misses != 7 {
		t.Fatalf("after the call returned: %+v, want one Recovered of a after 7 misses", evs)
	}
	if st := m.stalls(names); len(st) != 0 {
		t.Fatalf("stalls after recovery: %v", st)
	}
}

// [F4] A worker idle between two samples (even beat, unchanged) misses
// nothing, however long it idles; a short stall below Warn raises nothing,
// not even a recovery.
func TestF4_MonitorIdleAndShortStall(t *testing.T) {
	m := newMonitor(kernel.WatchPolicy{Warn: 3, Reset: 4})
	names := []string{"a"}
	seq := []uint64{4, 4, 4, 5, 5, 5, 6, 6}
	for i, n := range seq {
		if evs := m.step([]beatSample{{n: n}}, names, nil); len(evs) != 0 {
			t.Fatalf("sample %d (beat %d): %+v, want nothing", i, n, evs)
		}
	}
}

// The sampler keeps a beat's module only when the count did not move
// while it read them.
func TestSampleReadsEveryWorker(t *testing.T) {
	bs := make([]beat, 3)
	bs[1].mod.Store(7)
	bs[1].n.Store(3)
	got := sample(bs, nil)
	if len(got) != 3 || got[1] != (beatSample{n: 3, mod: 7}) || got[0].inHandler() || !got[1].inHandler() {
		t.Fatalf("sample %+v", got)
	}
}
