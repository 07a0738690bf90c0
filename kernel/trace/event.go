package trace

import (
	"errors"
	"fmt"
	"strings"
)

// Event is the type of a trace record ([O2]). The numeric values are the wire
// encoding shared with GPU trace records ([O4]); append new events at the end.
type Event uint8

// Trace events of [O2].
const (
	TaskStart  Event = iota // a task's handler starts; Arg0/Arg1 are kernel-defined
	TaskEnd                 // a task's handler returned
	TaskFail                // a handler failed
	TaskRetry               // a failed task was scheduled for a retry
	TaskYield               // a handler yielded
	AllocFail               // an allocation failed
	ChanEmit                // a task was emitted on a channel
	ChanFull                // an emit met a full channel
	ChanDrop                // a channel dropped a task
	ChanDrain               // a channel drained (deterministic tick boundary, backpressure relief)
	ChanOpen                // a channel was opened
	ChanClose               // a channel was closed
	Watchdog                // the watchdog fired (warn or reset)
	WorkerPark              // a worker parked
	WorkerWake              // a worker woke up

	// NumEvents is the number of defined events.
	NumEvents = int(WorkerWake) + 1
)

var eventNames = [NumEvents]string{
	TaskStart:  "TASK_START",
	TaskEnd:    "TASK_END",
	TaskFail:   "TASK_FAIL",
	TaskRetry:  "TASK_RETRY",
	TaskYield:  "TASK_YIELD",
	AllocFail:  "ALLOC_FAIL",
	ChanEmit:   "CHAN_EMIT",
	ChanFull:   "CHAN_FULL",
	ChanDrop:   "CHAN_DROP",
	ChanDrain:  "CHAN_DRAIN",
	ChanOpen:   "CHAN_OPEN",
	ChanClose:  "CHAN_CLOSE",
	Watchdog:   "WATCHDOG",
	WorkerPark: "WORKER_PARK",
	WorkerWake: "WORKER_WAKE",
}

// eventLevels maps each event to the least verbose module level that records it.
var eventLevels = [NumEvents]Level{
	TaskFail:   Error,
	AllocFail:  Error,
	Watchdog:   Error,
	ChanFull:   Warn,
	ChanDrop:   Warn,
	TaskRetry:  Warn,
	ChanOpen:   Info,
	ChanClose:  Info,
	TaskYield:  Info,
	WorkerPark: Info,
	WorkerWake: Info,
	TaskStart:  All,
	TaskEnd:    All,
	ChanEmit:   All,
	ChanDrain:  All,
}

// String returns the spec's name of the event, e.g. "TASK_START".
func (e Event) String() string {
	if int(e) < NumEvents {
		return eventNames[e]
	}
	return fmt.Sprintf("EVENT_%d", uint8(e))
}

// Level returns the least verbose module level at which e is recorded ([O3]):
// TaskFail, AllocFail and Watchdog at Error; ChanFull, ChanDrop and TaskRetry at
// Warn; ChanOpen, ChanClose, TaskYield, WorkerPark and WorkerWake at Info; the
// per-task events TaskStart, TaskEnd, ChanEmit and ChanDrain only at All, where
// they are also subject to sampling. An unknown event is recorded only at All.
func (e Event) Level() Level {
	if int(e) < NumEvents {
		return eventLevels[e]
	}
	return All
}

// Level is a per-module trace level ([O3]). Each level records the events of the
// levels below it.
type Level uint8

// Trace levels of [O3], from silent to verbose.
const (
	Off   Level = iota // record nothing (EMIT_TRACE tasks excepted)
	Error              // failures: TaskFail, AllocFail, Watchdog
	Warn               // the default: adds ChanFull, ChanDrop, TaskRetry
	Info               // adds lifecycle events: ChanOpen/Close, TaskYield, WorkerPark/Wake
	All                // adds the per-task events, sampled

	// DefaultLevel is the level of a module nobody configured.
	DefaultLevel = Warn
)

var levelNames = [...]string{Off: "OFF", Error: "ERROR", Warn: "WARN", Info: "INFO", All: "ALL"}

// String returns the level's name as the spec writes it, e.g. "WARN".
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("LEVEL_%d", uint8(l))
}

// ErrUnknownLevel is returned by ParseLevel for a string that names no level.
var ErrUnknownLevel = errors.New("trace: unknown level")

// ParseLevel parses a level name, case-insensitively: "off", "error", "warn" (or
// "warning"), "info", "all". Any other string returns an error wrapping
// ErrUnknownLevel.
func ParseLevel(s string) (Level, error) {
	name := strings.ToUpper(strings.TrimSpace(s))
	if name == "WARNING" {
		return Warn, nil
	}
	for l, n := range levelNames {
		if n == name {
			return Level(l), nil
		}
	}
	return Off, fmt.Errorf("%w: %q (want off, error, warn, info or all)", ErrUnknownLevel, s)
}

// MarshalText implements encoding.TextMarshaler, so a Level reads well in config.
func (l Level) MarshalText() ([]byte, error) {
	if int(l) >= len(levelNames) {
		return nil, fmt.Errorf("%w: %d", ErrUnknownLevel, uint8(l))
	}
	return []byte(levelNames[l]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseLevel.
func (l *Level) UnmarshalText(text []byte) error {
	v, err := ParseLevel(string(text))
	if err != nil {
		return err
	}
	*l = v
	return nil
}
