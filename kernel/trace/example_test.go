//go:build !gmk_notrace

// The examples show the traced build; with -tags gmk_notrace the guarded code
// they demonstrate records nothing, so their output would differ.

package trace_test

import (
	"fmt"
	"os"

	"github.com/gmkernel/gmk/kernel/trace"
)

// A worker traces a channel event through its module's level, the host drains
// the ring, and an operator raises the level at run time.
func ExampleWriter() {
	const module = 0
	levels := trace.NewLevels(1, trace.DefaultLevel) // WARN
	mem := make([]byte, trace.RingBytes(64))         // an arena region in the kernel
	w := trace.NewWriter(0, mem, 1, 42)

	emit := func(e trace.Event, arg0 uint64) {
		if trace.Enabled && levels.Enabled(module, e) {
			r := trace.Record{TS: 100, Type: 7, Event: e, Arg0: arg0}
			w.Emit(&r)
		}
	}
	emit(trace.ChanFull, 3) // WARN: recorded
	emit(trace.ChanOpen, 3) // INFO: filtered
	levels.Set(module, trace.Info)
	emit(trace.ChanOpen, 4) // recorded now

	dst := make([]trace.Record, 16)
	n := w.Drain(dst)
	for _, r := range dst[:n] {
		fmt.Println(r.Event, r.Arg0)
	}
	fmt.Println("lost:", w.Lost())
	// Output:
	// CHAN_FULL 3
	// CHAN_OPEN 4
	// lost: 0
}

// Drained records become a Chrome/Perfetto trace: a task slice on worker 0's
// track and an instant inside it.
func ExampleExporter() {
	recs := []trace.WorkerRecord{
		{Worker: 0, Record: trace.Record{TS: 1000, Type: 7, Event: trace.TaskStart}},
		{Worker: 0, Record: trace.Record{TS: 1500, Type: 7, Event: trace.ChanEmit, Arg0: 3}},
		{Worker: 0, Record: trace.Record{TS: 2000, Type: 7, Event: trace.TaskEnd}},
	}
	e := trace.Exporter{PID: 1, TypeName: func(uint32) string { return "kv.get" }}
	if err := e.Write(os.Stdout, recs); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"traceEvents":[{"name":"thread_name","ph":"M","ts":0,"pid":1,"tid":0,"args":{"name":"worker 0"}},
	// {"name":"kv.get","cat":"gmk","ph":"B","ts":1,"pid":1,"tid":0,"args":{"arg0":0,"arg1":0,"tenant":0,"type":7}},
	// {"name":"CHAN_EMIT","cat":"gmk","ph":"i","ts":1.5,"pid":1,"tid":0,"s":"t","args":{"arg0":3,"arg1":0,"tenant":0,"type":7}},
	// {"name":"kv.get","cat":"gmk","ph":"E","ts":2,"pid":1,"tid":0,"args":{"arg0":0,"arg1":0,"tenant":0,"type":7}}],"displayTimeUnit":"ns"}
}
