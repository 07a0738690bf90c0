package watchdog

import "github.com/gmkernel/gmk/kernel"

// Kind names a watchdog event.
type Kind uint8

// Watchdog events.
const (
	Warning     Kind = iota + 1 // a worker missed Warn beats in a row (inside one handler call)
	Reset                       // it missed Reset beats: marked stalled, the reset hook called
	ResetFailed                 // the reset hook returned an error (the worker stays stalled)
	Recovered                   // a worker that was warned about or reset moved on
)

func (k Kind) String() string {
	switch k {
	case Warning:
		return "warning"
	case Reset:
		return "reset"
	case ResetFailed:
		return "reset failed"
	case Recovered:
		return "recovered"
	}
	return "?"
}

// Event is what the watchdog saw or did about one worker.
type Event struct {
	Kind   Kind
	Worker int    // the worker's index
	Module string // the module whose handler it was inside
	Misses int    // beats missed in a row (at Recovered: the count it reached)
	Err    error  // ResetFailed: the reset hook's error
}

// Stall is a worker the watchdog found stuck inside one handler call.
type Stall struct {
	Worker int
	Module string
	Misses int
}

// monitor is the watchdog's pure core: it is stepped with one sample of the
// beats per poll and returns what the poll calls for. It owns no goroutine
// and reads no clock (run.go drives it); it is not safe for concurrent use.
type monitor struct {
	policy  kernel.WatchPolicy
	prev    []beatSample // the last poll's sample, nil before the first
	misses  []int        // per worker: beats missed in a row inside one call
	stalled []bool       // per worker: reset, until its beat moves
}

func newMonitor(p kernel.WatchPolicy) *monitor { return &monitor{policy: p.WithDefaults()} }

// step compares cur with the previous sample and appends the events it
// calls for to evs. The first step only takes its sample.
func (m *monitor) step(cur []beatSample, names []string, evs []Event) []Event {
	if len(m.prev) != len(cur) {
		m.prev = append(m.prev[:0], cur...)
		m.misses = make([]int, len(cur))
		m.stalled = make([]bool, len(cur))
		return evs
	}
	for i, s := range cur {
		old := m.prev[i]
		stuck := s.inHandler() && s.n == old.n
		m.prev[i] = s
		if !stuck {
			if m.misses[i] >= m.policy.Warn {
				evs = append(evs, Event{Kind: Recovered, Worker: i, Module: modName(names, old.mod), Misses: m.misses[i]})
			}
			m.misses[i], m.stalled[i] = 0, false
			continue
		}
		m.misses[i]++
		warn, reset := m.policy.Missed(m.misses[i])
		e := Event{Worker: i, Module: modName(names, s.mod), Misses: m.misses[i]}
		if warn {
			e.Kind = Warning
			evs = append(evs, e)
		}
		if reset {
			m.stalled[i] = true
			e.Kind = Reset
			evs = append(evs, e)
		}
	}
	return evs
}

// stalls returns the workers marked stalled now.
func (m *monitor) stalls(names []string) []Stall {
	var out []Stall
	for i, st := range m.stalled {
		if st {
			out = append(out, Stall{Worker: i, Module: modName(names, m.prev[i].mod), Misses: m.misses[i]})
		}
	}
	return out
}

func modName(names []string, mod int32) string {
	if mod < 0 || int(mod) >= len(names) {
		return "?"
	}
	return names[mod]
}
