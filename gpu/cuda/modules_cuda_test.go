//go:build cuda

package cuda

import (
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
	"github.com/gmkernel/gmk/modules/kv"
)

// TestG5_KVOnDeviceMatchesGoModule: the device's kv module (default sizes,
// as the Go module's) answers the same request sequence as modules/kv on a
// CPU kernel — kernels/hosttest's twin test, on the device: the contract's
// cases and 600 random requests, replies compared field by field and in
// order, and as many failures (requests without a reply address) counted
// by the workers as the Go module reported on sys.error ([G5] [U2]).
func TestG5_KVOnDeviceMatchesGoModule(t *testing.T) {
	twin := modtest.BootGoTwin(t, kernel.BootConfig{Tenants: 2}, kv.Module(kv.Config{}), "client.replies", kv.DefaultRespType, modtest.Lossless)
	replies, err := twin.K.Chan("client.replies")
	if err != nil {
		t.Fatal(err)
	}
	reqs := modtest.KVRequests(kv.DefaultReqType, replies, 600)

	k := boot(t, RxMapped, 4)
	if err := k.Launch(); err != nil {
		t.Fatal(err)
	}
	ts, ps := make([]task.Task, len(reqs)), make([][]byte, len(reqs))
	for i, r := range reqs {
		ts[i], ps[i] = r.Task, r.Payload
		ts[i].PayloadLen = uint32(len(r.Payload))
	}
	send(t, k.Bridge().Sender(), ts, ps)
	gouts := collectQuiet(t, k)
	if err := k.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	ws, err := k.Stats()
	if err != nil {
		t.Fatal(err)
	}
	failed := int(Sum(ws).Failed)
	couts, ccodes := twin.Run(t, "kv.req", reqs, len(gouts), failed)
	modtest.Same(t, "kv on the device", gouts, couts, nil, nil)
	if len(ccodes) != failed || failed == 0 || len(gouts) < 500 {
		t.Fatalf("device: %d replies, %d failed requests; Go module: %d replies, %d failures", len(gouts), failed, len(couts), len(ccodes))
	}
}

// collectQuiet returns what host.tx delivers once the device has released
// all of host.rx and gone quiet (nothing new for 100 ms; 10 s at most).
func collectQuiet(t *testing.T, k *Kernel) []modtest.Out {
	t.Helper()
	var outs []modtest.Out
	rx, buf := k.Bridge().Receiver(), make([]bridge.Msg, 64)
	last, deadline := time.Now(), time.Now().Add(10*time.Second)
	for time.Since(last) < 100*time.Millisecond || !k.RxDrained() {
		if time.Now().After(deadline) {
			t.Fatalf("host.tx: %d outputs, host.rx drained %v after 10 s", len(outs), k.RxDrained())
		}
		m, err := rx.Peek(buf)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range buf[:m] {
			outs = append(outs, modtest.OutOf(x.Task, x.Payload))
		}
		if m > 0 {
			rx.Release()
			last = time.Now()
		}
	}
	return outs
}
