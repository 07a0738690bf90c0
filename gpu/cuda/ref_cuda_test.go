//go:build cuda

package cuda

import (
	"bytes"
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/kernel/task"
)

// TestB3_PayloadByReference: payloads sent by reference (bridge.RefSender:
// the bytes stay in pinned host memory the device reads, no staging) reach
// the echo handler intact and come back in order, interleaved with staged
// payloads and inline tasks; batches large enough to be copied by the idle
// workers together (gmk_copyjob.cuh) are among them ([B2] [B3]).
func TestB3_PayloadByReference(t *testing.T) {
	k := boot(t, RxMapped, 16)
	buf, err := NewHostBuffer(8 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := buf.Free(); err != nil {
			t.Error(err)
		}
	}()
	if err := k.Launch(); err != nil {
		t.Fatal(err)
	}
	const n = 1200
	ts, ps, offs := refTasks(buf, n)
	tx, ok := k.Bridge().Sender().(bridge.RefSender)
	if !ok {
		t.Fatal("host.rx's sender (mapped) is not a bridge.RefSender")
	}
	go sendRefs(t, tx, ts, ps, offs, buf.Addr)
	got := collect(t, k.Bridge().Receiver(), n)
	for i, m := range got {
		if m.Task.Type != tEchoOut || m.Task.Meta0 != uint64(i) {
			t.Fatalf("reply %d: type %d meta0 %d, want %d/%d (in order)", i, m.Task.Type, m.Task.Meta0, tEchoOut, i)
		}
		if !bytes.Equal(m.Payload, ps[i]) {
			t.Fatalf("reply %d (by reference: %v): %d bytes differ from the %d sent", i, offs[i] >= 0, len(m.Payload), len(ps[i]))
		}
		if m.Task.Flags&task.PayloadRef != 0 {
			t.Fatalf("reply %d still flagged PayloadRef", i)
		}
	}
	if err := k.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	ws, _ := k.Stats()
	if s := Sum(ws); s.BridgeIn != n || s.BridgeOut != n || s.PayloadFail != 0 || s.BridgeGap != 0 {
		t.Fatalf("bridge in %d out %d payload failures %d gaps %d", s.BridgeIn, s.BridgeOut, s.PayloadFail, s.BridgeGap)
	}
}

// refTasks lays out n echo tasks: most payloads in buf (offs[i] >= 0: sent
// by reference), every fifth staged (offs -1), every seventh inline.
func refTasks(buf *HostBuffer, n int) (ts []task.Task, ps [][]byte, offs []int) {
	at := 0
	for i := range n {
		size := []int{4096, 16384, 1 + i%999}[i%3]
		off := -1
		var p []byte
		switch {
		case i%7 == 6:
			size = 0
		case i%5 == 4:
			p = make([]byte, size)
		default:
			off, at = at, at+(size+15)&^15
			p = buf.Bytes[off : off+size]
		}
		for j := range p {
			p[j] = byte(i*13 + j*7)
		}
		ts = append(ts, task.Task{Type: tEchoIn, Meta0: uint64(i), PayloadLen: uint32(size)})
		ps, offs = append(ps, p), append(offs, off)
	}
	return ts, ps, offs
}

// sendRefs is send with the tasks whose offs[i] >= 0 staged by reference.
func sendRefs(t *testing.T, tx bridge.RefSender, ts []task.Task, ps [][]byte, offs []int, base uint64) {
	sendEach(t, tx, len(ts), func(i int) error {
		if offs[i] >= 0 {
			return tx.StageRef(&ts[i], base+uint64(offs[i]))
		}
		return tx.Stage(&ts[i], ps[i])
	})
}
