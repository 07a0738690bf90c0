package trace

import (
	"errors"
	"sync"
	"testing"
)

// [O2] Every event of the spec exists, with the spec's name.
func TestO2_EventNames(t *testing.T) {
	want := []string{"TASK_START", "TASK_END", "TASK_FAIL", "TASK_RETRY", "TASK_YIELD",
		"ALLOC_FAIL", "CHAN_EMIT", "CHAN_FULL", "CHAN_DROP", "CHAN_DRAIN", "CHAN_OPEN",
		"CHAN_CLOSE", "WATCHDOG", "WORKER_PARK", "WORKER_WAKE"}
	if NumEvents != len(want) {
		t.Fatalf("NumEvents = %d, want %d", NumEvents, len(want))
	}
	for i, name := range want {
		if got := Event(i).String(); got != name {
			t.Errorf("Event(%d).String() = %q, want %q", i, got, name)
		}
	}
	if got := Event(200).String(); got != "EVENT_200" {
		t.Errorf("unknown event String() = %q", got)
	}
}

// eventLevel is the spec's table of [O3]: the least verbose level recording each event.
var eventLevel = map[Event]Level{
	TaskFail: Error, AllocFail: Error, Watchdog: Error,
	ChanFull: Warn, ChanDrop: Warn, TaskRetry: Warn,
	ChanOpen: Info, ChanClose: Info, TaskYield: Info, WorkerPark: Info, WorkerWake: Info,
	TaskStart: All, TaskEnd: All, ChanEmit: All, ChanDrain: All,
}

// [O3] Module levels filter by event: a table over all events × all levels.
func TestO3_LevelsFilterTable(t *testing.T) {
	if len(eventLevel) != NumEvents {
		t.Fatalf("table covers %d events, want %d", len(eventLevel), NumEvents)
	}
	levels := []Level{Off, Error, Warn, Info, All}
	l := NewLevels(len(levels), DefaultLevel)
	for m, lv := range levels {
		l.Set(m, lv)
	}
	for e := range Event(NumEvents) {
		if e.Level() != eventLevel[e] {
			t.Errorf("%v.Level() = %v, want %v", e, e.Level(), eventLevel[e])
		}
		for m, lv := range levels {
			want := lv != Off && eventLevel[e] <= lv
			if got := l.Enabled(m, e); got != want {
				t.Errorf("level %v, event %v: Enabled = %v, want %v", lv, e, got, want)
			}
		}
	}
	if Event(99).Level() != All {
		t.Errorf("unknown event level = %v, want ALL", Event(99).Level())
	}
}

// [O3] WARN is the default, and levels above All are stored as All.
func TestO3_LevelsDefaultsAndClamp(t *testing.T) {
	l := NewLevels(3, DefaultLevel)
	if l.Len() != 3 || l.Get(2) != Warn {
		t.Fatalf("Len %d, Get(2) %v; want 3, WARN", l.Len(), l.Get(2))
	}
	l.Set(1, Level(9))
	if l.Get(1) != All {
		t.Errorf("Set(Level(9)) stored %v, want ALL", l.Get(1))
	}
	l.SetAll(Off)
	for m := range 3 {
		if l.Enabled(m, TaskFail) {
			t.Errorf("module %d at OFF records TASK_FAIL", m)
		}
	}
}

// [O3] A level changed from another goroutine is seen by the worker's next check.
func TestO3_LevelsRuntimeChange(t *testing.T) {
	l := NewLevels(4, DefaultLevel)
	changed := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // the operator
		l.Set(2, All)
		close(changed)
	})
	if l.Enabled(1, TaskStart) {
		t.Fatal("module 1 records TASK_START at WARN")
	}
	<-changed // the Set happened before this receive
	if !l.Enabled(2, TaskStart) {
		t.Error("module 2 does not record TASK_START after Set(ALL)")
	}
	if l.Enabled(1, TaskStart) {
		t.Error("Set(2) changed module 1")
	}
	wg.Wait()

	// Concurrent readers and writers: race-clean, and readers only ever see
	// levels somebody stored.
	wg.Go(func() {
		for i := range 1000 {
			l.Set(3, Level(i%5))
		}
	})
	for range 1000 {
		if lv := l.Get(3); lv > All {
			t.Fatalf("Get = %v", lv)
		}
	}
	wg.Wait()
}

func TestO3_ParseLevel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Level
	}{{"off", Off}, {"ERROR", Error}, {"Warn", Warn}, {"warning", Warn}, {" info ", Info}, {"all", All}} {
		got, err := ParseLevel(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := ParseLevel("verbose"); !errors.Is(err, ErrUnknownLevel) {
		t.Errorf("ParseLevel(verbose) error = %v, want ErrUnknownLevel", err)
	}
	for lv := Off; lv <= All; lv++ {
		text, err := lv.MarshalText()
		var back Level
		if err != nil || back.UnmarshalText(text) != nil || back != lv {
			t.Errorf("%v does not round-trip through text: %q, %v, %v", lv, text, err, back)
		}
	}
	if _, err := Level(7).MarshalText(); !errors.Is(err, ErrUnknownLevel) {
		t.Errorf("Level(7).MarshalText error = %v", err)
	}
	if Level(7).String() != "LEVEL_7" {
		t.Errorf("Level(7).String() = %q", Level(7).String())
	}
}
