package trace

import "sync/atomic"

// Levels holds the trace level of every module ([O3]), indexed by module id.
//
// Concurrency: any goroutine may call Set at any time (an operator changing a
// level at run time); workers call Enabled or Get on every traced event. Each
// level is an atomic.Uint32: a Set synchronizes before every Get/Enabled that
// observes it, and a worker sees a change on its next check, without locks.
// Levels are written rarely, so the read-shared cache lines stay in every core's
// cache and a check costs one plain load on amd64 and arm64.
type Levels struct {
	lv []atomic.Uint32 // written by Set (any goroutine), read by Get/Enabled (workers)
}

// NewLevels returns levels for module ids 0..modules-1, each set to def.
func NewLevels(modules int, def Level) *Levels {
	l := &Levels{lv: make([]atomic.Uint32, modules)}
	for i := range l.lv {
		l.lv[i].Store(uint32(clampLevel(def)))
	}
	return l
}

// Len returns the number of modules.
func (l *Levels) Len() int { return len(l.lv) }

// Set changes the level of a module; a level above All is stored as All.
// It panics if module is out of range.
func (l *Levels) Set(module int, lv Level) { l.lv[module].Store(uint32(clampLevel(lv))) }

// SetAll changes the level of every module.
func (l *Levels) SetAll(lv Level) {
	for i := range l.lv {
		l.lv[i].Store(uint32(clampLevel(lv)))
	}
}

// Get returns the level of a module. It panics if module is out of range.
func (l *Levels) Get(module int) Level { return Level(l.lv[module].Load()) }

// Enabled reports whether the module's level records event e: e.Level() is at
// or below the module's level, and the level is not Off. Records of EMIT_TRACE
// tasks (Forced) are written whatever this says, and per-task events at level All
// are also subject to Writer.Sample; both decisions belong to the caller.
func (l *Levels) Enabled(module int, e Event) bool {
	// Every event's Level is at least Error, so Off records nothing.
	return e.Level() <= l.Get(module)
}

func clampLevel(lv Level) Level {
	if lv > All {
		return All
	}
	return lv
}
