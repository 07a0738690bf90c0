package log_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	gmklog "github.com/gmkernel/gmk/modules/log"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const tApp = 1

// app logs one record per task: level meta0, "n=%d ok=%t" with meta1.
func app(port *sdk.Port) kernel.Module {
	return kernel.Module{Name: "app",
		Handlers: []kernel.Handler{{Type: tApp, Fn: func(c *kernel.Ctx) kernel.Status {
			t := c.Task()
			sdk.Logger{Port: *port}.Log(c, sdk.Level(t.Meta0), "n=%d ok=%t", t.Meta1, sdk.B(t.Meta1%2 == 0))
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: "log.write", Dir: kernel.Produce, Type: gmklog.DefaultRecType}},
		Init:     func(c *kernel.Ctx) (err error) { *port, err = sdk.Dial(c.Kernel(), "log.write"); return err },
	}
}

// [U2] log's contract: records are rendered in channel order to the writer
// and to zap at their level, below the module's level they are skipped, the
// level changes at run time, and a malformed record fails with
// CodeBadRequest.
func TestU2_LogContract(t *testing.T) {
	var out bytes.Buffer
	core, obs := observer.New(zapcore.DebugLevel)
	l, err := gmklog.New(gmklog.Config{Level: sdk.LevelInfo, Writer: &out, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	var port sdk.Port
	var errs modtest.Sink
	k := modtest.Boot(t, kernel.BootConfig{Workers: 1}, l.Module(), app(&port), errs.Module("errs", kernel.SysError, 2, modtest.LossyFan))
	levels := []sdk.Level{sdk.LevelDebug, sdk.LevelInfo, sdk.LevelWarn, sdk.LevelError}
	for i, lv := range levels {
		modtest.Submit(t, k, kernel.Task{Type: tApp, Meta0: uint64(lv), Meta1: uint64(i)})
		modtest.WaitFor(t, "the record", func() bool { return k.Stats().Completed == uint64(2*(i+1)) })
	}
	l.SetLevel(sdk.LevelError)
	modtest.Submit(t, k, kernel.Task{Type: tApp, Meta0: uint64(sdk.LevelWarn), Meta1: 10})
	modtest.Submit(t, k, kernel.Task{Type: tApp, Meta0: uint64(sdk.LevelError), Meta1: 11})
	bad := kernel.Task{Type: port.Type, Meta0: 1 | 3<<8 | 2<<16} // 3 args + 2 bytes, but no payload
	if err := k.ChanEmitWait(context.Background(), port.Chan, bad); err != nil {
		t.Fatal(err)
	}
	e := errs.Wait(t, 1)
	modtest.Halt(t, k)
	want := "INFO n=1 ok=false\nWARN n=2 ok=true\nERROR n=3 ok=false\nERROR n=11 ok=false\n"
	if out.String() != want {
		t.Fatalf("writer got\n%s\nwant\n%s", out.String(), want)
	}
	var zl []string
	for _, en := range obs.All() {
		zl = append(zl, en.Level.CapitalString()+" "+en.Message)
		if _, ok := en.ContextMap()["tick"]; !ok {
			t.Errorf("zap entry without tick: %v", en.ContextMap())
		}
	}
	if got := strings.Join(zl, "\n") + "\n"; got != want {
		t.Fatalf("zap got\n%s\nwant\n%s", got, want)
	}
	if e[0].Code != sdk.CodeBadRequest {
		t.Fatalf("malformed record: code %v, want CodeBadRequest", e[0].Code)
	}
}

// [U2], [C6] A full log channel drops records instead of holding back
// their producers: with the log's subscription paused, a 4-slot channel
// keeps 4 records, every emit still succeeds, and the rest are counted as
// drops and end in sys.dropped.
func TestU2_LogLossy(t *testing.T) {
	const n = 10
	var out bytes.Buffer
	l, err := gmklog.New(gmklog.Config{Writer: &out, Slots: 4})
	if err != nil {
		t.Fatal(err)
	}
	k := modtest.Boot(t, kernel.BootConfig{Workers: 1}, l.Module())
	port, err := sdk.Dial(k, "log.write")
	if err != nil {
		t.Fatal(err)
	}
	if err := k.ChanPause(port.Chan, 0, true); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := sdk.EmitLog(context.Background(), k, port, 0, sdk.LevelInfo, 0, "n=%d", uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.ChanPause(port.Chan, 0, false); err != nil {
		t.Fatal(err)
	}
	r := modtest.Halt(t, k)
	cs, _ := k.ChanStats(port.Chan)
	if out.String() != "INFO n=0\nINFO n=1\nINFO n=2\nINFO n=3\n" || cs.Drops != n-4 || r.Stats.Dropped != n-4 || r.Stats.Errored != 0 {
		t.Fatalf("written %q, %d drops (%d in sys.dropped), %d errors; want the first 4, %d drops", out.String(), cs.Drops, r.Stats.Dropped, r.Stats.Errored, n-4)
	}
}
