package kernel

import (
	"io"

	"github.com/gmkernel/gmk/kernel/trace"
)

// traceEvent reports whether ev is recorded for module mod (EMIT_TRACE tasks
// always are).
func (w *worker) traceEvent(ev trace.Event, mod int32, t *Task) bool {
	if t != nil && t.Flags&EmitTrace != 0 {
		return true
	}
	return w.k.levels.Enabled(int(mod), ev)
}

func (w *worker) trace(ev trace.Event, t *Task, a0, a1 uint64) {
	r := trace.Record{TS: w.k.clock(), Type: t.Type, Tenant: t.Tenant, Event: ev, Arg0: a0, Arg1: a1}
	if t.Flags&EmitTrace != 0 {
		r.Flags |= trace.Forced
	} else if ev == trace.TaskStart || ev == trace.TaskEnd {
		r.Flags |= trace.Sampled
	}
	w.tw.Emit(&r)
}

func (w *worker) traceRaw(ev trace.Event, tenant int, typ uint32, a0, a1 uint64) {
	r := trace.Record{TS: w.k.clock(), Type: typ, Tenant: uint16(tenant), Event: ev, Arg0: a0, Arg1: a1}
	w.tw.Emit(&r)
}

// SetTraceLevel changes a module's trace level at run time ([O3]); module ""
// or "kernel" is the kernel's own events (park, wake, drain, drops).
func (k *Kernel) SetTraceLevel(module string, lv trace.Level) error {
	if module == "" {
		module = "kernel"
	}
	mod := k.modIndex(module)
	if mod < 0 {
		return errUnknownModule(module)
	}
	k.levels.Set(int(mod), lv)
	k.chans.Gen().Add(1) // after the change: runTask's short path re-checks (plainNow)
	return nil
}

// TraceLevel returns a module's trace level.
func (k *Kernel) TraceLevel(module string) (trace.Level, error) {
	if module == "" {
		module = "kernel"
	}
	mod := k.modIndex(module)
	if mod < 0 {
		return 0, errUnknownModule(module)
	}
	return k.levels.Get(int(mod)), nil
}

// DrainTrace moves every pending trace record of every worker to fn, without
// stalling the workers ([O2]). Call it from one goroutine at a time.
func (k *Kernel) DrainTrace(fn func(worker int, r *trace.Record)) (n int) {
	var buf [256]trace.Record
	for _, w := range k.workers {
		for {
			m := w.tw.Drain(buf[:])
			for i := range buf[:m] {
				fn(w.id, &buf[i])
			}
			n += m
			if m < len(buf) {
				break
			}
		}
	}
	return n
}

// TraceLost returns the number of records lost to full trace rings.
func (k *Kernel) TraceLost() uint64 {
	var n uint64
	for _, w := range k.workers {
		n += w.tw.Lost()
	}
	return n
}

// WriteTrace drains the trace rings and writes them in the Chrome/Perfetto
// JSON trace format ([O2]).
func (k *Kernel) WriteTrace(out io.Writer) error {
	var recs []trace.WorkerRecord
	k.DrainTrace(func(w int, r *trace.Record) {
		recs = append(recs, trace.WorkerRecord{Worker: w, Record: *r})
	})
	return trace.WriteChrome(out, 1, recs)
}

// codeArg stores a status code in a trace argument.
func codeArg(s Status) uint64 { return uint64(int64(s)) }
