package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"go.uber.org/zap/zapcore"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/trace"
)

// traceItem is a drained trace record and the index of its kernel.
type traceItem struct {
	kernel int
	rec    trace.WorkerRecord
}

// drainTraces moves every kernel's pending trace records into the trace
// feed ([O2]: the host drains without stalling workers). drainMu keeps
// DrainTrace to one goroutine at a time, as it requires.
func (s *Server) drainTraces() {
	s.drainMu.Lock()
	defer s.drainMu.Unlock()
	for i, k := range s.cfg.Kernels {
		var items []traceItem
		k.K.DrainTrace(func(w int, r *trace.Record) {
			items = append(items, traceItem{kernel: i, rec: trace.WorkerRecord{Worker: w, Record: *r}})
		})
		s.traces.publish(items...)
	}
}

// traceFilter is a trace stream's query.
type traceFilter struct {
	kernel string
	level  trace.Level
	module string
	typ    uint32
	hasTyp bool
	sample float64 // keep this fraction, spread evenly
	seen   float64
	mods   []map[uint32]string // per kernel: the module a type's tasks run in
}

// typeModules maps each type to the module its tasks run in: its direct
// handler's, else that of a module consuming a channel of the type.
func typeModules(k *kernel.Kernel) map[uint32]string {
	m := map[uint32]string{}
	for _, mi := range k.Modules() {
		for _, d := range mi.Channels {
			if d.Dir == kernel.Consume && d.Type != kernel.AnyType {
				m[d.Type] = mi.Name
			}
		}
	}
	for _, mi := range k.Modules() {
		for _, t := range mi.Types {
			m[t] = mi.Name
		}
	}
	return m
}

func (s *Server) parseTraceFilter(r *http.Request) (*traceFilter, error) {
	q := r.URL.Query()
	f := &traceFilter{kernel: q.Get("kernel"), level: trace.All, module: q.Get("module"), sample: 1}
	for _, k := range s.cfg.Kernels {
		f.mods = append(f.mods, typeModules(k.K))
	}
	if _, err := s.kernelsFor(r); err != nil {
		return nil, err
	}
	if v := q.Get("level"); v != "" {
		lv, err := trace.ParseLevel(v)
		if err != nil {
			return nil, badRequest("%v", err)
		}
		f.level = lv
	}
	if v := q.Get("type"); v != "" {
		k, _ := s.kernelByID(f.kernel)
		rt, err := s.resolveType(k.K, v)
		if err != nil {
			return nil, err
		}
		f.typ, f.hasTyp = rt.id, true
	}
	if v := q.Get("sample"); v != "" {
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || p <= 0 || p > 1 {
			return nil, badRequest("sample %q: want a fraction in (0, 1]", v)
		}
		f.sample = p
	}
	return f, nil
}

// event converts an item that passes the filter.
func (s *Server) traceEvent(f *traceFilter, seq uint64, it traceItem) (TraceEvent, bool) {
	k := s.cfg.Kernels[it.kernel].K
	r := &it.rec.Record
	if f.kernel != "" && k.ID() != f.kernel || r.Event.Level() > f.level || f.hasTyp && r.Type != f.typ {
		return TraceEvent{}, false
	}
	mod := "kernel"
	if r.Event != trace.WorkerPark && r.Event != trace.WorkerWake {
		mod = f.mods[it.kernel][r.Type]
	}
	if f.module != "" && mod != f.module {
		return TraceEvent{}, false
	}
	before := f.seen
	f.seen += f.sample // even sampling: keep when the running sum crosses an integer
	if int64(f.seen) == int64(before) {
		return TraceEvent{}, false
	}
	return TraceEvent{Seq: seq, Kernel: k.ID(), Worker: it.rec.Worker, TS: r.TS, Event: r.Event.String(),
		Level: r.Event.Level().String(), Type: r.Type, TypeName: s.typeName(k, r.Type), Module: mod,
		Tenant: r.Tenant, Arg0: r.Arg0, Arg1: r.Arg1, Flags: flagNames(r.Flags)}, true
}

func flagNames(f trace.Flags) string {
	var b []byte
	for _, x := range []struct {
		f trace.Flags
		n string
	}{{trace.Sampled, "sampled"}, {trace.Forced, "forced"}, {trace.Logical, "logical"}} {
		if f&x.f != 0 {
			if len(b) > 0 {
				b = append(b, ',')
			}
			b = append(b, x.n...)
		}
	}
	return string(b)
}

// streamTrace serves the trace records as NDJSON ([O2], [O3] filters).
func (s *Server) streamTrace(w http.ResponseWriter, r *http.Request) {
	f, err := s.parseTraceFilter(r)
	if err != nil {
		writeError(w, err)
		return
	}
	s.drainTraces()
	stream(s, w, r, s.traces, 0, func(seq uint64, it traceItem) (any, bool) { return s.traceEvent(f, seq, it) })
}

// streamLogs serves the node's log as NDJSON.
func (s *Server) streamLogs(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Logs == nil {
		w.Header().Set("Content-Type", "application/x-ndjson")
		return
	}
	min := zapcore.DebugLevel
	if v := r.URL.Query().Get("level"); v != "" {
		if err := min.Set(v); err != nil {
			writeError(w, badRequest("level %q: %v", v, err))
			return
		}
	}
	stream(s, w, r, s.cfg.Logs.feed, 100, func(seq uint64, e LogEntry) (any, bool) {
		var lv zapcore.Level
		if lv.Set(e.Level) != nil || lv < min {
			return nil, false
		}
		e.Seq = seq
		return e, true
	})
}

// stream writes a feed's items as NDJSON: the last n (query n, else
// defaultN; 0 = all kept), then — with follow=1 — new ones as they come,
// until the client leaves or the server closes.
func stream[T any](s *Server, w http.ResponseWriter, r *http.Request, f *feed[T], defaultN uint64, conv func(uint64, T) (any, bool)) {
	q := r.URL.Query()
	n, err := parseUint(q.Get("n"))
	if err != nil {
		writeError(w, err)
		return
	}
	if !q.Has("n") {
		n = defaultN
	}
	follow := q.Get("follow") == "1" || q.Get("follow") == "true"
	cursor := uint64(0)
	if newest := f.newest(); n > 0 && newest > n {
		cursor = newest - n
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	for {
		items, last, _, wake := f.since(cursor, 4096)
		first := last - uint64(len(items)) + 1
		for i, it := range items {
			if v, ok := conv(first+uint64(i), it); ok {
				if enc.Encode(v) != nil {
					return
				}
			}
		}
		cursor = last
		if rc.Flush() != nil || !follow && len(items) == 0 {
			return
		}
		if len(items) > 0 {
			continue
		}
		select {
		case <-wake:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}

// exportTrace writes the kept trace records of every kernel (or of query
// kernel) as one Chrome/Perfetto JSON trace: a process per kernel, a thread
// per worker (kernel/trace's Exporter, one per kernel, merged).
func (s *Server) exportTrace(w http.ResponseWriter, r *http.Request) {
	ks, err := s.kernelsFor(r)
	if err != nil {
		writeError(w, err)
		return
	}
	s.drainTraces()
	items, _, _, _ := s.traces.since(0, 0)
	var events []json.RawMessage
	for i, k := range s.cfg.Kernels {
		if !containsKernel(ks, k.K.ID()) {
			continue
		}
		var recs []trace.WorkerRecord
		for _, it := range items {
			if it.kernel == i {
				recs = append(recs, it.rec)
			}
		}
		kk := k.K
		e := trace.Exporter{PID: i + 1, ProcessName: kk.ID(), TickNS: int64(kk.Config().Tick),
			TypeName: func(typ uint32) string { return s.typeName(kk, typ) }}
		var buf bytes.Buffer
		var doc struct {
			TraceEvents []json.RawMessage `json:"traceEvents"`
		}
		if err := e.Write(&buf, recs); err != nil || json.Unmarshal(buf.Bytes(), &doc) != nil {
			writeError(w, &apiError{http.StatusInternalServerError, "trace export failed"})
			return
		}
		events = append(events, doc.TraceEvents...)
	}
	if events == nil {
		events = []json.RawMessage{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"traceEvents": events, "displayTimeUnit": "ns"})
}

func containsKernel(ks []Kernel, id string) bool {
	for _, k := range ks {
		if k.K.ID() == id {
			return true
		}
	}
	return false
}
