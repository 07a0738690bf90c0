package trace

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// chromeRecords is a small trace of two workers: a sampled task with a channel
// emit inside, a forced failing task, a full channel, a park, and a logical tick.
func chromeRecords() []WorkerRecord {
	return []WorkerRecord{
		{0, Record{TS: 1_000, Type: 7, Tenant: 1, Event: TaskStart, Flags: Sampled}},
		{1, Record{TS: 1_500, Type: 9, Event: TaskStart, Flags: Forced}},
		{0, Record{TS: 1_750, Type: 7, Tenant: 1, Event: ChanEmit, Flags: Sampled, Arg0: 3, Arg1: 1 << 60}},
		{0, Record{TS: 2_500, Type: 7, Tenant: 1, Event: TaskEnd, Flags: Sampled}},
		{1, Record{TS: 3_000, Type: 9, Event: TaskFail, Flags: Forced, Arg0: 2}},
		{1, Record{TS: 3_100, Type: 9, Event: TaskEnd, Flags: Forced}},
		{0, Record{TS: 4_000, Event: ChanFull, Arg0: 3, Arg1: 64}},
		{1, Record{TS: 5_000, Event: WorkerPark}},
		{0, Record{TS: 6, Event: ChanDrain, Flags: Logical, Arg0: 3}},
	}
}

type chromeFile struct {
	TraceEvents []struct {
		Name string         `json:"name"`
		Ph   string         `json:"ph"`
		TS   float64        `json:"ts"`
		PID  int            `json:"pid"`
		TID  int            `json:"tid"`
		S    string         `json:"s"`
		Args map[string]any `json:"args"`
	} `json:"traceEvents"`
	DisplayTimeUnit string `json:"displayTimeUnit"`
}

// [O2] The Chrome export is valid JSON that parses back to the records: B/E
// slices per worker named by type, instants for the rest, microsecond stamps.
func TestO2_ChromeExportParsesBack(t *testing.T) {
	var buf bytes.Buffer
	names := map[uint32]string{7: "kv.get"}
	e := Exporter{PID: 4, ProcessName: "gmk/cpu", TypeName: func(typ uint32) string { return names[typ] }}
	if err := e.Write(&buf, chromeRecords()); err != nil {
		t.Fatal(err)
	}
	var f chromeFile
	if err := json.Unmarshal(buf.Bytes(), &f); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, buf.Bytes())
	}
	if f.DisplayTimeUnit != "ns" {
		t.Errorf("displayTimeUnit = %q", f.DisplayTimeUnit)
	}
	// process_name, thread_name ×2, then one event per record.
	recs := chromeRecords()
	if len(f.TraceEvents) != 3+len(recs) {
		t.Fatalf("%d events, want %d", len(f.TraceEvents), 3+len(recs))
	}
	meta := f.TraceEvents[:3]
	if meta[0].Name != "process_name" || meta[0].Args["name"] != "gmk/cpu" ||
		meta[1].Name != "thread_name" || meta[1].TID != 0 || meta[2].Args["name"] != "worker 1" {
		t.Errorf("metadata events wrong: %+v", meta)
	}
	checkChromeEvents(t, &f, 3)
}

// checkChromeEvents checks the events of chromeRecords, starting at index from.
func checkChromeEvents(t *testing.T, f *chromeFile, from int) {
	t.Helper()
	want := []struct {
		name, ph string
		ts       float64
		tid      int
	}{
		{"kv.get", "B", 1, 0}, {"type 9", "B", 1.5, 1}, {"CHAN_EMIT", "i", 1.75, 0},
		{"kv.get", "E", 2.5, 0}, {"TASK_FAIL", "i", 3, 1}, {"type 9", "E", 3.1, 1},
		{"CHAN_FULL", "i", 4, 0}, {"WORKER_PARK", "i", 5, 1}, {"CHAN_DRAIN", "i", 6, 0},
	}
	for i, w := range want {
		ev := f.TraceEvents[from+i]
		if ev.Name != w.name || ev.Ph != w.ph || ev.TS != w.ts || ev.TID != w.tid || ev.PID != 4 {
			t.Errorf("event %d = %s %s ts=%v tid=%d pid=%d; want %s %s ts=%v tid=%d",
				i, ev.Name, ev.Ph, ev.TS, ev.TID, ev.PID, w.name, w.ph, w.ts, w.tid)
		}
		if w.ph == "i" && ev.S != "t" {
			t.Errorf("event %d: instant scope %q, want t", i, ev.S)
		}
	}
	emit := f.TraceEvents[from+2].Args
	if emit["arg0"] != 3.0 || emit["arg1"] != "0x1000000000000000" || emit["tenant"] != 1.0 ||
		emit["flags"] != "sampled" {
		t.Errorf("CHAN_EMIT args = %v", emit)
	}
}

// The exporter's output is stable: compare with testdata (go test -update rewrites it).
func TestO2_ChromeGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteChrome(&buf, 1, chromeRecords()); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "chrome.golden.json")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", golden, buf.Bytes())
	}
}

func TestO2_ChromeEmptyAndErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteChrome(&buf, 0, nil); err != nil {
		t.Fatal(err)
	}
	var f chromeFile
	if err := json.Unmarshal(buf.Bytes(), &f); err != nil || len(f.TraceEvents) != 0 {
		t.Fatalf("empty trace: %v, %d events: %s", err, len(f.TraceEvents), buf.Bytes())
	}
	errBroken := errors.New("broken pipe")
	if err := WriteChrome(failingWriter{errBroken}, 0, chromeRecords()); !errors.Is(err, errBroken) {
		t.Errorf("WriteChrome to a failing writer = %v, want %v", err, errBroken)
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }
