//go:build cuda

package cuda

// Device tests of the LL bridge rings (gmk_bridge.h LL RINGS;
// kernels/src/gmk_bridge_ll_dev.cuh): worker 0 polls host.rx's slots for
// their tags and writes host.tx's emits as LL words.

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/kernel/task"
)

// llConfig is a kernel over LL rings: 64 slots, so a run of a few thousand
// tasks reuses every slot for dozens of laps (a stale tag misread as new
// would show as a repeated or reordered reply).
func llConfig(workers int) Config {
	return Config{Workers: workers, RxMode: RxMapped, Bridge: bridge.Config{Capacity: 64, Staging: 1 << 20, LL: true}}
}

// TestB4_LLEchoInOrder: over LL rings, inline tasks and 4 KiB (and odd
// sized) payloads cross host → device → host intact, in order, each exactly
// once, with no gap counted ([B2] [B3] [B4]); a batch window and host.tx
// both wrap many times.
func TestB4_LLEchoInOrder(t *testing.T) {
	k := bootWith(t, llConfig(8))
	if err := k.Launch(); err != nil {
		t.Fatal(err)
	}
	const n = 3000
	ts := make([]task.Task, n)
	ps := make([][]byte, n)
	for i := range ts {
		size := 0 // inline: the head line only, no fence on the way back
		switch i % 3 {
		case 1:
			size = 4096
		case 2:
			size = 1 + i%777
		}
		if size > 0 {
			ps[i] = make([]byte, size)
			for j := range ps[i] {
				ps[i][j] = byte(i*7 + j)
			}
		}
		ts[i] = task.Task{Type: tEchoIn, Meta0: uint64(i), Meta1: uint64(i) << 32, PayloadLen: uint32(size)}
	}
	go send(t, k.Bridge().Sender(), ts, ps)
	got := collect(t, k.Bridge().Receiver(), n)
	checkEchoes(t, got, ps)
	llStop(t, k, n)
}

// TestB4_LLPingPong: one task in flight at a time over LL rings — worker
// 0's idle poll (one slot) and the inline emit path, the round trip the LL
// format is for — 2,000 inline and 200 4 KiB echoes, each answered in order.
func TestB4_LLPingPong(t *testing.T) {
	k := bootWith(t, llConfig(4))
	if err := k.Launch(); err != nil {
		t.Fatal(err)
	}
	tx, rx := k.Bridge().Sender(), k.Bridge().Receiver()
	big := []byte(strings.Repeat("0123456789abcdef", 256))
	msgs := make([]bridge.Msg, 4)
	const inline, payloads = 2000, 200
	for i := range inline + payloads {
		var p []byte
		if i >= inline {
			p = big
		}
		tk := task.Task{Type: tEchoIn, Meta0: uint64(i), PayloadLen: uint32(len(p))}
		if err := tx.Stage(&tk, p); err != nil {
			t.Fatalf("stage %d: %v", i, err)
		}
		tx.Publish()
		deadline := time.Now().Add(5 * time.Second)
		for {
			m, err := rx.Peek(msgs)
			if err != nil {
				t.Fatal(err)
			}
			if m > 0 {
				if m != 1 || msgs[0].Task.Type != tEchoOut || msgs[0].Task.Meta0 != uint64(i) || !bytes.Equal(msgs[0].Payload, p) {
					t.Fatalf("echo %d: %d replies, first type %d meta0 %d (%d payload bytes)", i, m, msgs[0].Task.Type, msgs[0].Task.Meta0, len(msgs[0].Payload))
				}
				rx.Release()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("echo %d: no reply in 5 s", i)
			}
		}
	}
	llStop(t, k, inline+payloads)
}

// TestB4_LLRefusedWithDMA: LL rings with host.rx through the device-memory
// mirror (RxDMA) are refused at Boot, naming the mode: the copy engine's
// writes give the LL words no order to rely on.
func TestB4_LLRefusedWithDMA(t *testing.T) {
	cfg := llConfig(2)
	cfg.RxMode, cfg.PTX = RxDMA, image(t)
	k, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if err := k.Boot(); err == nil || !strings.Contains(err.Error(), string(RxDMA)) {
		t.Fatalf("Boot with LL rings and %q: %v, want a refusal naming the mode", RxDMA, err)
	}
}

// llStop stops k and checks worker 0's bridge counters: n in, n out, no gap.
func llStop(t *testing.T, k *Kernel, n uint64) {
	t.Helper()
	if err := k.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	ws, err := k.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s := Sum(ws); s.BridgeIn != n || s.BridgeOut != n || s.BridgeGap != 0 || s.PayloadFail != 0 {
		t.Fatalf("bridge in %d out %d gaps %d payload failures %d, want %d in and out", s.BridgeIn, s.BridgeOut, s.BridgeGap, s.PayloadFail, n)
	}
}
