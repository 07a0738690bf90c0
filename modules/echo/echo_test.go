package echo_test

import (
	"context"
	"fmt"
	"testing"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/echo"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// [U2] echo's contract: every task on echo.in comes out on echo.out in
// order, with the same meta, tenant, priority and payload bytes — through
// a 4-slot channel, so the output is full most of the time and flow control,
// not failure, absorbs it.
func TestU2_EchoContract(t *testing.T) {
	const n = 500
	var sink modtest.Sink
	cfg := echo.Config{Slots: 4}.WithDefaults()
	k := modtest.Boot(t, kernel.BootConfig{Tenants: 2},
		echo.Module(cfg), sink.Module("sink", "echo.out", cfg.OutType, kernel.ChanSpec{Guarantee: kernel.Lossless, Slots: 4}))
	in, err := sdk.Dial(k, "echo.in")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range n {
		var b []byte
		if i%3 != 0 {
			b = fmt.Appendf(nil, "msg-%d", i)
		}
		x := kernel.Task{Type: in.Type, Tenant: uint16(i % 2), Meta0: uint64(i), Meta1: ^uint64(i)}
		x.SetPriority(i % 4)
		if len(b) > 0 {
			h, buf, err := k.Alloc(i%2, len(b))
			if err != nil {
				t.Fatal(err)
			}
			copy(buf, b)
			x.Payload, x.PayloadLen = h, uint32(len(b))
		}
		if err := k.ChanEmitWait(ctx, in.Chan, x); err != nil {
			t.Fatal(err)
		}
	}
	recs := sink.Wait(t, n)
	r := modtest.Halt(t, k)
	if r.Stats.Errored != 0 || r.Stats.Dropped != 0 || len(recs) != n {
		t.Fatalf("%d of %d echoed; %v", len(recs), n, r.Stats)
	}
	for i, rec := range recs {
		x := rec.Task
		want := ""
		if i%3 != 0 {
			want = fmt.Sprintf("msg-%d", i)
		}
		if x.Type != cfg.OutType || x.Meta0 != uint64(i) || x.Meta1 != ^uint64(i) || int(x.Tenant) != i%2 ||
			x.Priority() != i%4 || string(rec.Payload) != want || int(x.PayloadLen) != len(want) {
			t.Fatalf("echo %d: %+v payload %q", i, x, rec.Payload)
		}
	}
}

// [U2] An invalid configuration fails boot with a clear message.
func TestU2_EchoBadConfig(t *testing.T) {
	_, err := kernel.Boot(kernel.BootConfig{Workers: 1, ArenaSize: 1 << 20}, echo.Module(echo.Config{In: "a.b", Out: "a.b"}))
	if err == nil {
		t.Fatal("boot accepted echo with the same input and output")
	}
}
