package admin_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gmkernel/gmk/admin"
	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/modules/cli"
	"github.com/gmkernel/gmk/modules/kv"
	"github.com/gmkernel/gmk/types"
)

// A test registry: one struct type and one bytes type.
const (
	tPoint = 10 // struct {x i32, y i32, w f64}
	tBlob  = 11 // bytes, at most 8
	tFail  = 12 // fails
)

func registry(t *testing.T) *types.Registry {
	t.Helper()
	r, err := types.NewRegistry(
		types.Type{ID: tPoint, Name: "test.point", Payload: types.Struct, MaxPayload: 16, Struct: "Point",
			Fields: []types.Field{{Name: "x", Type: "i32", Offset: 0}, {Name: "y", Type: "i32", Offset: 4}, {Name: "w", Type: "f64", Offset: 8}}},
		types.Type{ID: tBlob, Name: "test.blob", Payload: types.Bytes, MaxPayload: 8},
		types.Type{ID: tFail, Name: "test.fail"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fixture is a kernel with a recording module, the cli module and a kv
// store, served by an admin server.
type fixture struct {
	k    *kernel.Kernel
	srv  *admin.Server
	c    *admin.Client
	log  *zap.Logger
	mu   sync.Mutex
	got  [][]byte
	recs *cli.CLI
}

func start(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{}
	rec := kernel.Module{Name: "rec", Handlers: []kernel.Handler{
		{Type: tPoint, Fn: f.record}, {Type: tBlob, Fn: f.record},
		{Type: tFail, Fn: func(*kernel.Ctx) kernel.Status { return kernel.FailCode(-3) }}}}
	var err error
	if f.recs, err = cli.New(cli.Config{}); err != nil {
		t.Fatal(err)
	}
	store, err := kv.New(kv.Config{Buckets: 16, Entries: 16, ReqType: 20, RespType: 21})
	if err != nil {
		t.Fatal(err)
	}
	ring := admin.NewLogRing(64, zapcore.InfoLevel)
	f.log = ring.Tee(zap.NewNop())
	f.k = modtest.Boot(t, kernel.BootConfig{MaxTypes: 64, Logger: f.log, Poison: kernel.PoisonPolicy{Failures: 2, Window: 1 << 40}},
		rec, f.recs.Module(), store.Module())
	f.srv, err = admin.Start(admin.Config{Kernels: []admin.Kernel{{K: f.k, CLI: f.recs, Store: map[string]*kv.Store{"kv": store.Store()}}},
		Types: registry(t), Logs: ring, Sample: 20 * time.Millisecond, Drain: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.srv.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	f.c = admin.NewClient(f.srv.Addr())
	return f
}

func (f *fixture) record(c *kernel.Ctx) kernel.Status {
	f.mu.Lock()
	f.got = append(f.got, append([]byte(nil), c.Payload()...))
	f.mu.Unlock()
	return kernel.OK
}

func (f *fixture) received() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

// [U5], [U3] An emit's JSON payload is laid out by the type's schema —
// struct fields little-endian at their offsets, a bytes payload from a
// string — and checked against it.
func TestU5_EmitPayloadSchema(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	if _, err := f.c.Emit(ctx, admin.EmitRequest{Type: "test.point", Payload: []byte(`{"x": -2, "y": 3, "w": 0.5}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Emit(ctx, admin.EmitRequest{Type: "11", Payload: []byte(`"abc"`)}); err != nil {
		t.Fatal(err)
	}
	modtest.WaitFor(t, "both tasks", func() bool { return len(f.received()) == 2 })
	got := f.received()
	p := got[0]
	if len(got[0]) != 16 {
		p = got[1]
	}
	if int32(binary.LittleEndian.Uint32(p)) != -2 || binary.LittleEndian.Uint32(p[4:]) != 3 || binary.LittleEndian.Uint64(p[8:]) != 0x3FE0000000000000 {
		t.Errorf("point payload % x", p)
	}
	for _, bad := range []admin.EmitRequest{
		{Type: "test.point", Payload: []byte(`{"z": 1}`)},
		{Type: "test.point", Payload: []byte(`{"x": 3000000000}`)},
		{Type: "test.blob", Payload: []byte(`"too long for eight"`)},
		{Type: "nope"},
	} {
		var re *admin.RemoteError
		if _, err := f.c.Emit(ctx, bad); !errors.As(err, &re) || re.Status/100 != 4 {
			t.Errorf("emit %s %s: %v", bad.Type, bad.Payload, err)
		}
	}
}

// [O1], [F3], [U5] The snapshot holds the kernels, workers, channels,
// modules and types; poisoned types show on their module and reset clears
// them; the failures endpoint serves the cli module's records.
func TestF3_SnapshotResetFailures(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	for range 2 {
		if _, err := f.c.Emit(ctx, admin.EmitRequest{Type: "test.fail", Meta0: 9}); err != nil {
			t.Fatal(err)
		}
	}
	modtest.WaitFor(t, "the poison", func() bool { return f.k.Poisoned(tFail) })
	// A worker publishes its counters after the failure that poisoned the
	// type: wait until the snapshot counts both failures.
	var snap admin.Snapshot
	modtest.WaitFor(t, "both failures counted", func() bool {
		s, err := f.c.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		snap = s
		for _, m := range s.Modules {
			if m.Name == "rec" {
				return m.Fail == 2
			}
		}
		return false
	})
	if len(snap.Node.Kernels) != 1 || len(snap.Kernels) != 1 || len(snap.Workers) != 2 || len(snap.Channels) < 4 {
		t.Fatalf("snapshot: %+v", snap)
	}
	var rec admin.Module
	for _, m := range snap.Modules {
		if m.Name == "rec" {
			rec = m
		}
	}
	if rec.State != admin.ModulePoisoned || len(rec.Poisoned) != 1 || rec.Poisoned[0].Name != "test.fail" || rec.Fail != 2 {
		t.Errorf("rec module: %+v", rec)
	}
	modtest.WaitFor(t, "the failure records", func() bool {
		fs, err := f.c.Failures(ctx, 0, "error")
		return err == nil && len(fs) == 2 && fs[1].Meta0 == 9 && fs[1].CodeName == "FAIL(-3)"
	})
	res, err := f.c.Reset(ctx, admin.ResetRequest{Name: "rec"})
	if err != nil || len(res.Cleared) != 1 || f.k.Poisoned(tFail) {
		t.Errorf("reset: %+v %v", res, err)
	}
	if _, err := f.c.Reset(ctx, admin.ResetRequest{Name: "test.fail"}); err != nil {
		t.Errorf("reset by type: %v", err)
	}
}

// [U5] kv put, get and key listing through the endpoint.
func TestU5_KVEndpoint(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	if _, err := f.c.KVPut(ctx, "", "a", "1"); err != nil {
		t.Fatal(err)
	}
	e, err := f.c.KVGet(ctx, "kv", "a")
	if err != nil || *e.Value != "1" {
		t.Fatalf("get: %+v %v", e, err)
	}
	keys, err := f.c.KVKeys(ctx, "")
	if err != nil || len(keys) != 1 || keys[0].Key != "a" {
		t.Errorf("keys %+v %v", keys, err)
	}
	if _, err := f.c.KVGet(ctx, "other", "a"); err == nil {
		t.Error("an unknown store answered")
	}
}

// [O2], [O3] A followed trace stream delivers records as they are drained,
// filtered by type; the log stream serves the node's zap log; Close ends a
// stream that is still open.
func TestO2_Streams(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	events := make(chan admin.TraceEvent, 16)
	done := make(chan error, 1)
	go func() {
		done <- f.c.Trace(ctx, url.Values{"follow": {"1"}, "type": {"test.blob"}}, func(e admin.TraceEvent) error {
			events <- e
			return nil
		})
	}()
	modtest.WaitFor(t, "records", func() bool {
		_, _ = f.c.Emit(ctx, admin.EmitRequest{Type: "test.blob", Payload: []byte(`"x"`), Trace: true})
		select {
		case e := <-events:
			if e.Type != tBlob || e.TypeName != "test.blob" || e.Module != "rec" || e.Flags != "forced" {
				t.Errorf("event %+v", e)
			}
			return true
		case <-time.After(20 * time.Millisecond):
			return false
		}
	})
	f.log.Info("hello from the test", zap.Int("n", 3))
	var logs []admin.LogEntry
	if err := f.c.Logs(ctx, nil, func(e admin.LogEntry) error { logs = append(logs, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(logs, func(e admin.LogEntry) bool { return e.Message == "hello from the test" }); i < 0 || logs[i].Fields["n"] != float64(3) {
		t.Errorf("logs %+v", logs)
	}
	if err := f.srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("the stream ended with %v", err)
	}
}

// [O1] /metrics serves the kernel's Prometheus metrics; the halt endpoint
// closes HaltRequested; unknown paths are JSON 404s.
func TestO1_MetricsHaltNotFound(t *testing.T) {
	f := start(t)
	resp, err := http.Get("http://" + f.srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `gmk_tasks_total{kernel="cpu.0",outcome="completed"}`) {
		t.Errorf("metrics lack the kernel's series:\n%.400s", body)
	}
	select {
	case <-f.srv.HaltRequested():
		t.Fatal("halt requested before anyone asked")
	default:
	}
	if err := f.c.Halt(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-f.srv.HaltRequested()
	var re *admin.RemoteError
	if _, err := f.c.Raw(context.Background(), "nope"); !errors.As(err, &re) || re.Status != 404 {
		t.Errorf("unknown path: %v", err)
	}
}

// Config errors are returned.
func TestStartConfig(t *testing.T) {
	if _, err := admin.Start(admin.Config{}); !errors.Is(err, admin.ErrConfig) {
		t.Errorf("no kernel: %v", err)
	}
}
