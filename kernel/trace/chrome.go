package trace

import (
	"bufio"
	"encoding/json"
	"io"
	"slices"
	"strconv"
)

// WorkerRecord is a drained Record together with the worker that emitted it.
type WorkerRecord struct {
	Worker int
	Record
}

// Exporter writes records in the Chrome trace-event JSON format, which
// ui.perfetto.dev and chrome://tracing load. TaskStart/TaskEnd become "B"/"E"
// duration slices on the worker's thread (tid = worker); every other event is a
// thread-scoped instant ("i") named after the event, with args tenant, type,
// arg0 and arg1. Timestamps are microseconds, as the format wants.
//
// The format pairs "B" and "E" per thread by order, so records of one worker
// must appear in the order the worker emitted them (the order Drain returns);
// records of different workers may be interleaved freely.
type Exporter struct {
	// PID is the process id of every event (one per kernel, say).
	PID int
	// ProcessName, if set, names the process in the viewer.
	ProcessName string
	// TypeName names a task type for the slices; nil names it "type <n>".
	TypeName func(typ uint32) string
	// TickNS is the nanoseconds one logical tick is shown as, for records with
	// the Logical flag; 0 means 1000 (a tick shows as 1 µs).
	TickNS int64
}

// WriteChrome writes recs as a Chrome trace with process id pid and default
// names. It is Exporter{PID: pid}.Write.
func WriteChrome(w io.Writer, pid int, recs []WorkerRecord) error {
	e := Exporter{PID: pid}
	return e.Write(w, recs)
}

// chromeEvent is one element of traceEvents.
type chromeEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat,omitempty"`
	Ph   string         `json:"ph"`
	TS   float64        `json:"ts"`
	PID  int            `json:"pid"`
	TID  int            `json:"tid"`
	S    string         `json:"s,omitempty"`
	Args map[string]any `json:"args,omitempty"`
}

// Write writes {"traceEvents":[...],"displayTimeUnit":"ns"} to w: metadata
// events naming the process and each worker's thread, then one event per record.
// It returns the first error of w.
func (e *Exporter) Write(w io.Writer, recs []WorkerRecord) error {
	bw := bufio.NewWriter(w)
	enc := eventWriter{w: bw}
	enc.raw(`{"traceEvents":[`)
	if e.ProcessName != "" {
		enc.event(chromeEvent{Name: "process_name", Ph: "M", PID: e.PID,
			Args: map[string]any{"name": e.ProcessName}})
	}
	for _, worker := range workersOf(recs) {
		enc.event(chromeEvent{Name: "thread_name", Ph: "M", PID: e.PID, TID: worker,
			Args: map[string]any{"name": "worker " + strconv.Itoa(worker)}})
	}
	for i := range recs {
		enc.event(e.convert(&recs[i]))
	}
	enc.raw(`],"displayTimeUnit":"ns"}` + "\n")
	if enc.err != nil {
		return enc.err
	}
	return bw.Flush()
}

// convert maps one record to its Chrome event.
func (e *Exporter) convert(r *WorkerRecord) chromeEvent {
	ev := chromeEvent{Cat: "gmk", TS: e.micros(&r.Record), PID: e.PID, TID: r.Worker}
	switch r.Event {
	case TaskStart, TaskEnd:
		ev.Name = e.typeName(r.Type)
		ev.Ph = "B"
		if r.Event == TaskEnd {
			ev.Ph = "E"
		}
	default:
		ev.Name = r.Event.String()
		ev.Ph = "i"
		ev.S = "t"
	}
	ev.Args = map[string]any{
		"tenant": r.Tenant,
		"type":   r.Type,
		"arg0":   jsonUint(r.Arg0),
		"arg1":   jsonUint(r.Arg1),
	}
	if r.Flags != 0 {
		ev.Args["flags"] = flagNames(r.Flags)
	}
	return ev
}

// micros returns the record's timestamp in microseconds.
func (e *Exporter) micros(r *Record) float64 {
	if r.Flags&Logical == 0 {
		return float64(r.TS) / 1e3
	}
	tick := e.TickNS
	if tick <= 0 {
		tick = 1000
	}
	return float64(r.TS) * float64(tick) / 1e3
}

func (e *Exporter) typeName(typ uint32) string {
	if e.TypeName != nil {
		if n := e.TypeName(typ); n != "" {
			return n
		}
	}
	return "type " + strconv.FormatUint(uint64(typ), 10)
}

// maxExactJSON is the largest integer a JavaScript number (what trace viewers
// parse JSON numbers into) holds exactly.
const maxExactJSON = 1 << 53

// jsonUint returns v as a number when a viewer can hold it exactly, otherwise
// as a hex string, so handles and addresses are not silently rounded.
func jsonUint(v uint64) any {
	if v <= maxExactJSON {
		return v
	}
	return "0x" + strconv.FormatUint(v, 16)
}

// flagNames spells a record's flags, e.g. "sampled|logical".
func flagNames(f Flags) string {
	var s string
	for _, fl := range [...]struct {
		bit  Flags
		name string
	}{{Sampled, "sampled"}, {Forced, "forced"}, {Logical, "logical"}} {
		if f&fl.bit != 0 {
			if s != "" {
				s += "|"
			}
			s += fl.name
		}
	}
	return s
}

// workersOf returns the distinct workers of recs in ascending order.
func workersOf(recs []WorkerRecord) []int {
	var ws []int
	for i := range recs {
		ws = append(ws, recs[i].Worker)
	}
	slices.Sort(ws)
	return slices.Compact(ws)
}

// eventWriter writes comma-separated JSON values and keeps the first error.
type eventWriter struct {
	w     *bufio.Writer
	n     int
	err   error
	bytes []byte
}

func (ew *eventWriter) raw(s string) {
	if ew.err == nil {
		_, ew.err = ew.w.WriteString(s)
	}
}

func (ew *eventWriter) event(ev chromeEvent) {
	if ew.err != nil {
		return
	}
	if ew.bytes, ew.err = json.Marshal(ev); ew.err != nil {
		return
	}
	if ew.n > 0 {
		ew.raw(",\n")
	}
	ew.n++
	if ew.err == nil {
		_, ew.err = ew.w.Write(ew.bytes)
	}
}
