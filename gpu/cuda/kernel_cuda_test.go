//go:build cuda

package cuda

// Device tests of the CUDA backend. They need an NVIDIA GPU: build them with
// `go test -c -tags cuda ./gpu/cuda/` and run the binary where one is (`make
// cuda-test` does both and says so when there is no device; on such a machine
// the binary cannot start at all, since gorgonia.org/cu exits at init).

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/gpu/cuda/ptx"
	"github.com/gmkernel/gmk/kernel/task"
)

// Task types of kernels/modules.
const (
	tEchoIn, tEchoOut         = 960, 961
	tXformIn, tXformOut       = 990, 991
	tChecksumIn, tChecksumOut = 992, 993
	tSpin, tSpinDone          = 994, 995
	tHang                     = 997
	tDelaySet, tDelayDue      = 998, 999
)

// image returns the kernel image: $GMK_PTX when set, else the embedded one.
func image(t *testing.T) string {
	if p := os.Getenv("GMK_PTX"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return ptx.SM90()
}

func boot(t *testing.T, mode RxMode, workers int) *Kernel {
	t.Helper()
	return bootWith(t, Config{Workers: workers, RxMode: mode})
}

// bootWith opens and boots a kernel of cfg (image(t); a 1024-slot bridge
// with 8 MiB of staging each way when cfg.Bridge is zero), closed at the
// end of the test.
func bootWith(t *testing.T, cfg Config) *Kernel {
	t.Helper()
	cfg.PTX = image(t)
	if cfg.Bridge == (bridge.Config{}) {
		cfg.Bridge = bridge.Config{Capacity: 1024, Staging: 8 << 20}
	}
	k, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Boot(); err != nil {
		k.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := k.Close(); err != nil {
			t.Error(err)
		}
	})
	return k
}

// collect peeks host.tx until n tasks arrived (copying payloads) or 10 s pass.
func collect(t *testing.T, rx bridge.Receiver, n int) []bridge.Msg {
	t.Helper()
	var out []bridge.Msg
	buf := make([]bridge.Msg, 64)
	deadline := time.Now().Add(10 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		m, err := rx.Peek(buf)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range buf[:m] {
			x.Payload = bytes.Clone(x.Payload)
			out = append(out, x)
		}
		if m > 0 {
			rx.Release()
		}
	}
	if len(out) != n {
		t.Fatalf("host.tx delivered %d tasks, want %d", len(out), n)
	}
	return out
}

// send stages every task (with its payload) on host.rx, publishing in
// batches of 64, waiting for room when the ring is full. It may run on its
// own goroutine: it reports with t.Error.
func send(t *testing.T, tx bridge.Sender, ts []task.Task, payloads [][]byte) {
	sendEach(t, tx, len(ts), func(i int) error { return tx.Stage(&ts[i], payloads[i]) })
}

// sendEach is send with stage(i) staging task i.
func sendEach(t *testing.T, tx bridge.Sender, n int, stage func(i int) error) {
	for i := range n {
		for {
			err := stage(i)
			if err == nil {
				break
			}
			tx.Publish()
			if !tx.Wait(time.Second) {
				t.Errorf("host.rx: no room for task %d: %v", i, err)
				return
			}
		}
		if tx.Staged() >= 64 {
			tx.Publish()
		}
	}
	tx.Publish()
}

// TestG1_PersistentKernelRunsChains: resident workers run seeded spin chains
// to the end; every chain reports once and every task is dispatched once.
func TestG1_PersistentKernelRunsChains(t *testing.T) {
	k := boot(t, RxMapped, 0)
	const per, hops = 16, 100
	if err := k.Seed(tSpin, hops, per); err != nil {
		t.Fatal(err)
	}
	if err := k.Launch(); err != nil {
		t.Fatal(err)
	}
	chains := per * k.Workers()
	got := collect(t, k.Bridge().Receiver(), chains)
	seen := make(map[uint64]bool, chains)
	for _, m := range got {
		if m.Task.Type != tSpinDone || m.Task.Meta0 != 0 || seen[m.Task.Meta1] {
			t.Fatalf("completion %+v: want type %d, meta0 0, a chain id seen once", m.Task, tSpinDone)
		}
		seen[m.Task.Meta1] = true
	}
	if err := k.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	ws, err := k.Stats()
	if err != nil {
		t.Fatal(err)
	}
	s := Sum(ws)
	if want := uint64(chains) * (hops + 1); s.Done != want || s.Unknown != 0 || s.EmitFull != 0 {
		t.Fatalf("dispatched %d (want %d), unknown %d, emit_full %d", s.Done, want, s.Unknown, s.EmitFull)
	}
	beats := k.Heartbeats(nil)
	for w, b := range beats {
		if b == 0 {
			t.Fatalf("worker %d never beat ([F4])", w)
		}
	}
}

// TestB3_EchoBothWays4K: 4 KiB payloads cross host → device → host intact,
// in order, each exactly once, in both host.rx modes ([B2] [B3] [B4]).
func TestB3_EchoBothWays4K(t *testing.T) {
	for _, mode := range []RxMode{RxMapped, RxDMA} {
		t.Run(string(mode), func(t *testing.T) {
			k := boot(t, mode, 8)
			if err := k.Launch(); err != nil {
				t.Fatal(err)
			}
			const n = 2000
			ts := make([]task.Task, n)
			ps := make([][]byte, n)
			for i := range ts {
				size := 4096
				if i%3 == 1 {
					size = 0 // inline tasks interleaved
				} else if i%3 == 2 {
					size = 1 + i%777
				}
				ps[i] = nil
				if size > 0 {
					ps[i] = make([]byte, size)
					for j := range ps[i] {
						ps[i][j] = byte(i*7 + j)
					}
				}
				ts[i] = task.Task{Type: tEchoIn, Meta0: uint64(i), PayloadLen: uint32(size)}
			}
			go send(t, k.Bridge().Sender(), ts, ps)
			got := collect(t, k.Bridge().Receiver(), n)
			checkEchoes(t, got, ps)
			if err := k.Stop(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			ws, _ := k.Stats()
			if s := Sum(ws); s.BridgeIn != n || s.BridgeOut != n || s.BridgeGap != 0 || s.PayloadFail != 0 {
				t.Fatalf("bridge in %d out %d gaps %d payload failures %d", s.BridgeIn, s.BridgeOut, s.BridgeGap, s.PayloadFail)
			}
		})
	}
}

// TestG5_ModulesMatchSimulated: the device xform (WARP) and checksum (BLOCK)
// give what gpu/gpumod's Go twins give on the same input: upper-cased
// payload and meta1 = 2 × meta0; the byte sum in meta1.
func TestG5_ModulesMatchSimulated(t *testing.T) {
	k := boot(t, RxMapped, 4)
	if err := k.Launch(); err != nil {
		t.Fatal(err)
	}
	const n = 300
	ts := make([]task.Task, 0, 2*n)
	ps := make([][]byte, 0, 2*n)
	for i := range n {
		p := []byte(fmt.Sprintf("task %d: the quick brown fox jumps over the lazy dog %x", i, i*i))
		ts = append(ts, task.Task{Type: tXformIn, Meta0: uint64(i), PayloadLen: uint32(len(p))})
		ps = append(ps, p)
		q := bytes.Repeat([]byte{byte(i), 0xff, 3}, 100+i)
		ts = append(ts, task.Task{Type: tChecksumIn, Meta0: uint64(i), PayloadLen: uint32(len(q))})
		ps = append(ps, q)
	}
	go send(t, k.Bridge().Sender(), ts, ps)
	got := collect(t, k.Bridge().Receiver(), 2*n)
	xf, sums := map[uint64]bridge.Msg{}, map[uint64]uint64{}
	for _, m := range got {
		switch m.Task.Type {
		case tXformOut:
			xf[m.Task.Meta0] = m
		case tChecksumOut:
			sums[m.Task.Meta0] = m.Task.Meta1
		default:
			t.Fatalf("unexpected reply type %d", m.Task.Type)
		}
	}
	for i := range n {
		m := xf[uint64(i)]
		if want := bytes.ToUpper(ps[2*i]); !bytes.Equal(m.Payload, want) || m.Task.Meta1 != uint64(2*i) {
			t.Fatalf("xform %d: %q meta1 %d, want %q %d", i, m.Payload, m.Task.Meta1, want, 2*i)
		}
		var want uint64
		for _, b := range ps[2*i+1] {
			want += uint64(b)
		}
		if sums[uint64(i)] != want {
			t.Fatalf("checksum %d: %d, want %d", i, sums[uint64(i)], want)
		}
	}
}

// TestF4_StopAndRelaunch: a stopped kernel launches again on the same state
// and bridge (reboot), and the bridge keeps its sequence across the restart.
func TestF4_StopAndRelaunch(t *testing.T) {
	k := boot(t, RxMapped, 2)
	for round := range 3 {
		if err := k.Launch(); err != nil {
			t.Fatal(err)
		}
		ts := []task.Task{{Type: tEchoIn, Meta0: uint64(round)}}
		send(t, k.Bridge().Sender(), ts, [][]byte{nil})
		got := collect(t, k.Bridge().Receiver(), 1)
		if got[0].Task.Meta0 != uint64(round) {
			t.Fatalf("round %d: reply meta0 %d", round, got[0].Task.Meta0)
		}
		if err := k.Stop(5 * time.Second); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
}

// TestF4_HungWorkerKillAndReboot: a handler that never returns stops its
// worker's heartbeat while the others keep beating, and Stop reports ErrHung
// ([F4]) — in a child process (TestF4_HangChild), because a hung kernel can
// only be cleared by ending its process (Close explains why). The parent
// kills the child as the watchdog kills the GPU daemon, and a new kernel then
// boots on the same device and serves the bridge: the reboot.
func TestF4_HungWorkerKillAndReboot(t *testing.T) {
	v := runChild(t, "TestF4_HangChild", "GMK_HANG_CHILD=1", "HANG ")
	if v != "HANG confirmed" {
		t.Fatalf("child: %s", v)
	}

	k := boot(t, RxMapped, 2)
	if err := k.Launch(); err != nil {
		t.Fatal(err)
	}
	send(t, k.Bridge().Sender(), []task.Task{{Type: tEchoIn, Meta0: 42}}, [][]byte{nil})
	if got := collect(t, k.Bridge().Receiver(), 1); got[0].Task.Meta0 != 42 {
		t.Fatalf("after the reboot: reply meta0 %d", got[0].Task.Meta0)
	}
}

// TestF4_HangChild is TestF4_HungWorkerKillAndReboot's child: it hangs a
// worker, checks the heartbeats and Stop, prints its verdict and waits to be
// killed.
func TestF4_HangChild(t *testing.T) {
	if os.Getenv("GMK_HANG_CHILD") == "" {
		t.Skip("runs only as the child process of TestF4_HungWorkerKillAndReboot")
	}
	k, err := Open(Config{PTX: image(t), Workers: 4, Bridge: bridge.Config{Capacity: 256, Staging: 1 << 20}})
	if err == nil {
		err = k.Boot()
	}
	if err == nil {
		err = k.Launch()
	}
	if err != nil {
		fmt.Println("HANG boot failed:", err)
		return
	}
	send(t, k.Bridge().Sender(), []task.Task{{Type: tHang}}, [][]byte{nil})
	// Worker 0 runs host.rx's tasks: it hangs; the others idle and beat.
	stalled := false
	for deadline := time.Now().Add(10 * time.Second); !stalled && time.Now().Before(deadline); {
		a := k.Heartbeats(nil)
		time.Sleep(20 * time.Millisecond) // 20 heartbeat periods
		b := k.Heartbeats(nil)
		stalled = b[0] == a[0] && b[1] > a[1] && b[2] > a[2] && b[3] > a[3]
	}
	switch err := k.Stop(200 * time.Millisecond); {
	case !stalled:
		fmt.Println("HANG worker 0 kept beating, or the others stopped")
	case !errors.Is(err, ErrHung):
		fmt.Println("HANG Stop:", err)
	default:
		fmt.Println("HANG confirmed")
	}
	time.Sleep(time.Hour) // killed by the parent
}

// TestS5_EmitAfterWaitsOnEVQ: tasks re-emitted with gmk_emit_after wait on
// the worker's device EVQ ([G1], [G2], [S5]) and never run before their
// delay; each fires exactly once.
func TestS5_EmitAfterWaitsOnEVQ(t *testing.T) {
	k := boot(t, RxMapped, 4)
	if err := k.Launch(); err != nil {
		t.Fatal(err)
	}
	const n = 200
	ts := make([]task.Task, n)
	for i := range ts {
		ts[i] = task.Task{Type: tDelaySet, Meta0: uint64(i%20) * 100_000} // 0 to 1.9 ms
	}
	send(t, k.Bridge().Sender(), ts, make([][]byte, n))
	got := collect(t, k.Bridge().Receiver(), n)
	for _, m := range got {
		if m.Task.Type != tDelayDue || m.Task.Meta1 < m.Task.Meta0 {
			t.Fatalf("type %d ran after %d ns, delay %d ns: early or wrong", m.Task.Type, m.Task.Meta1, m.Task.Meta0)
		}
	}
	if err := k.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	ws, _ := k.Stats()
	if s := Sum(ws); s.EvqFired != n || s.EmitFull != 0 {
		t.Fatalf("EVQ fired %d of %d, emit_full %d", s.EvqFired, n, s.EmitFull)
	}
}

// checkEchoes checks that the echo module's replies came back in order,
// each with the payload sent (ps[i]; nil for an inline task).
func checkEchoes(t *testing.T, got []bridge.Msg, ps [][]byte) {
	t.Helper()
	for i, m := range got {
		if m.Task.Type != tEchoOut || m.Task.Meta0 != uint64(i) {
			t.Fatalf("reply %d: type %d meta0 %d, want %d/%d (in order)", i, m.Task.Type, m.Task.Meta0, tEchoOut, i)
		}
		if !bytes.Equal(m.Payload, ps[i]) {
			t.Fatalf("reply %d: payload of %d bytes differs from the %d sent", i, len(m.Payload), len(ps[i]))
		}
	}
}
