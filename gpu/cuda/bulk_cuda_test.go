//go:build cuda

package cuda

import (
	"bytes"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel/task"
)

// TestB3_BulkBlocksByDMA: payloads the copy engine put into bulk blocks
// (SendBulk: host-reserved blocks of the device arena, named in host.rx
// slots) reach the echo handler intact and come back in order — payloads
// larger than a pool block included — and every bulk block is marked free
// again once its task's payload was released, so the ring of blocks is
// reused several times over; each send is copied in two chunks, the first's
// tasks published before the second's ([B2] [B3]).
func TestB3_BulkBlocksByDMA(t *testing.T) {
	// 192 tasks through 32 blocks; a send of 16 blocks of 256 KiB is two
	// chunks of bulkChunkMin bytes.
	const blocks, block, per, rounds = 32, 256 << 10, 16, 12
	k := bootWith(t, Config{Workers: 16, BulkBlocks: blocks, BulkBlock: block})
	src, err := NewHostBuffer(per * block)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { // after the kernel stops: cuMemFreeHost waits for it
		if err := k.Stop(5 * time.Second); err != nil {
			t.Error(err)
		}
		if err := src.Free(); err != nil {
			t.Error(err)
		}
	}()
	if err := k.Launch(); err != nil {
		t.Fatal(err)
	}
	if f := k.BulkFree(); f != blocks {
		t.Fatalf("%d bulk blocks free at launch, want %d", f, blocks)
	}
	var want [][]byte
	var got []struct {
		m   task.Task
		pay []byte
	}
	for r := range rounds {
		ts := make([]task.Task, per)
		for i := range ts {
			id := r*per + i
			size := []int{block, 1, 16 << 10, 40000 + id}[id%4]
			p := src.Bytes[i*block : i*block+size]
			for j := range p {
				p[j] = byte(id*31 + j*5)
			}
			want = append(want, bytes.Clone(p))
			ts[i] = task.Task{Type: tEchoIn, Meta0: uint64(id), PayloadLen: uint32(size)}
		}
		if err := k.SendBulk(ts, src, 0, 10*time.Second); err != nil {
			t.Fatalf("round %d: %v", r, err)
		}
		for _, m := range collect(t, k.Bridge().Receiver(), per) { // src is reused next round
			got = append(got, struct {
				m   task.Task
				pay []byte
			}{m.Task, m.Payload})
		}
	}
	for i, g := range got {
		if g.m.Type != tEchoOut || g.m.Meta0 != uint64(i) || !bytes.Equal(g.pay, want[i]) {
			t.Fatalf("reply %d: type %d meta0 %d, %d bytes (equal %v); want %d/%d, %d bytes",
				i, g.m.Type, g.m.Meta0, len(g.pay), bytes.Equal(g.pay, want[i]), tEchoOut, i, len(want[i]))
		}
	}
	if st := k.BulkStats(); st.Sends != rounds || st.Blocks != rounds*per || st.Chunks != 2*rounds {
		t.Fatalf("bulk stats %+v: want %d sends of %d blocks in two chunks each", st, rounds, per)
	}
	deadline := time.Now().Add(5 * time.Second)
	for k.BulkFree() != blocks && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if f := k.BulkFree(); f != blocks {
		t.Fatalf("%d of %d bulk blocks free after every reply: the device kept some", f, blocks)
	}
}
