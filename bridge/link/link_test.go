package link_test

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/kernel"
)

const (
	tIn  = 10 // host.rx: a → b
	tOut = 11 // host.tx: b → a
)

// producer declares channel name as produced (the tasks come from outside:
// the test emits them), so that Route sees the producing side.
func producer(mod, name string, typ uint32, g kernel.ChanDecl) kernel.Module {
	g.Name, g.Dir, g.Type = name, kernel.Produce, typ
	return kernel.Module{Name: mod, Channels: []kernel.ChanDecl{g}}
}

// recorder consumes channel name and records meta0 in order; slow makes it
// yield the processor a few times per task (a slow GPU consumer).
type recorder struct {
	mu   sync.Mutex
	got  []uint64
	data [][]byte
	keep bool // keep payload copies
	slow int
	n    atomic.Int64
}

func (r *recorder) module(mod, name string, typ uint32, g kernel.ChanDecl) kernel.Module {
	g.Name, g.Dir, g.Type = name, kernel.Consume, typ
	return kernel.Module{Name: mod, Channels: []kernel.ChanDecl{g},
		Handlers: []kernel.Handler{{Type: typ, Fn: func(c *kernel.Ctx) kernel.Status {
			for range r.slow {
				runtime.Gosched()
			}
			r.mu.Lock()
			r.got = append(r.got, c.Task().Meta0)
			if r.keep {
				r.data = append(r.data, append([]byte(nil), c.Payload()...))
			}
			r.mu.Unlock()
			r.n.Add(1)
			return kernel.OK
		}}}}
}

func (r *recorder) inOrder(t *testing.T, n int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) != n {
		t.Fatalf("received %d tasks, want %d", len(r.got), n)
	}
	for i, v := range r.got {
		if v != uint64(i) {
			t.Fatalf("task %d carries %d: order lost or a task lost/duplicated", i, v)
		}
	}
}

// emitAll emits n inline tasks meta0 = 0..n-1 on channel name of k, in
// batches, waiting while the lossless channel is full.
func emitAll(t *testing.T, k *kernel.Kernel, name string, typ uint32, n int) {
	t.Helper()
	id := fxChan(t, k, name)
	batch := make([]kernel.Task, 256)
	for i := 0; i < n; i += len(batch) {
		m := min(len(batch), n-i)
		for j := range batch[:m] {
			batch[j] = kernel.Task{Type: typ, Meta0: uint64(i + j)}
		}
		if err := k.ChanEmitAll(context.Background(), id, batch[:m]); err != nil {
			t.Fatal(err)
		}
	}
}

var lossless = kernel.ChanDecl{Guarantee: kernel.Lossless, Slots: 256}

// [B4] Acceptance 15: a lossless bridge channel delivers 100k tasks in order
// with none lost while the consumer is slower than the producer: the ring
// and the outbox fill, the relay pauses its subscription, the producer waits
// on CHAN_FULL — backpressure across the bridge, nothing dropped.
func TestB4_LosslessInOrderUnderBackpressure(t *testing.T) {
	const n = 100_000
	rec := &recorder{slow: 4}
	p := fxBootPair(t, fxSpec{
		a:      []kernel.Module{producer("ingest", "host.rx", tIn, lossless)},
		b:      []kernel.Module{rec.module("xform", "host.rx", tIn, lossless)},
		bridge: bridge.Config{Capacity: 64, Staging: 4096},
		link:   link.Config{PauseAt: 128},
	})
	emitAll(t, p.a, "host.rx", tIn, n)
	sa, sb := p.halt()
	rec.inOrder(t, n)
	out, in := fxStat(t, sa, "host.rx", link.Out), fxStat(t, sb, "host.rx", link.In)
	if out.Taken != n || out.Sent != n || in.Delivered != n || out.Dropped+in.Dropped != 0 {
		t.Fatalf("out %v / in %v: want %d taken, sent, delivered, none dropped", out, in, n)
	}
	if out.Pauses == 0 {
		t.Fatal("the relay never paused: the test did not exercise backpressure")
	}
	t.Logf("%v\n%v (%.3f transfers per task)", out, in, out.TransfersPerTask())
}

// [B3] Acceptance 18: 4 KiB payloads cross both ways intact — a → b, where
// an echo forwards each payload on b's host.tx, back to a: each crossing
// copies the bytes into the other kernel's arena and rewrites the
// reference, and releases the source, so no payload is live on either
// kernel after halt (checked by halt). Inline tasks cross without staging.
func TestB3_PayloadMarshalingBothWays(t *testing.T) {
	const n, size, window = 2000, 4096, 128
	back := &recorder{keep: true}
	echo := kernel.Module{Name: "echo", Channels: []kernel.ChanDecl{
		{Name: "host.rx", Dir: kernel.Consume, Type: tIn, Guarantee: kernel.Lossless},
		{Name: "host.tx", Dir: kernel.Produce, Type: tOut, Guarantee: kernel.Lossless}}}
	var txID kernel.ChanID
	echo.Init = func(c *kernel.Ctx) (err error) { txID, err = c.Kernel().Chan("host.tx"); return err }
	echo.Handlers = []kernel.Handler{{Type: tIn, Fn: func(c *kernel.Ctx) kernel.Status {
		x := *c.Task()
		x.Type = tOut
		if x.Payload != 0 {
			if _, err := c.PayloadRetain(); err != nil {
				return kernel.Fail
			}
		}
		if err := c.ChanEmit(txID, x); err != nil {
			if x.Payload != 0 {
				_ = c.PayloadRelease(x.Payload)
			}
			return kernel.Retry // CHAN_FULL: held until host.tx has room
		}
		return kernel.OK
	}}}
	p := fxBootPair(t, fxSpec{
		a: []kernel.Module{producer("ingest", "host.rx", tIn, lossless), back.module("store", "host.tx", tOut, lossless)},
		b: []kernel.Module{echo},
		// 16 payloads of 4 KiB fill a staging area: the staging backpressure path runs too.
		bridge: bridge.Config{Capacity: 256, Staging: 64 << 10},
		arena:  32 << 20, // 464 blocks of 4 KiB per kernel
	})
	id := fxChan(t, p.a, "host.rx")
	for i := range n {
		// A client keeps a window of round trips in flight: without one, a
		// producer that takes every block its arena frees starves the
		// returning payloads of memory (a cycle no bridge can break).
		for int64(i)-back.n.Load() >= window {
			time.Sleep(20 * time.Microsecond)
		}
		x := kernel.Task{Type: tIn, Meta0: uint64(i)}
		if i%2 == 0 { // every other task carries 4 KiB; the rest are inline
			h, b, err := p.a.Alloc(0, size)
			if err != nil {
				t.Fatal(err)
			}
			fill(b, i)
			x.Payload, x.PayloadLen = h, size
		}
		if err := p.a.ChanEmitWait(context.Background(), id, x); err != nil {
			t.Fatal(err)
		}
	}
	sa, sb := p.halt()
	back.inOrder(t, n)
	for i, d := range back.data {
		want := []byte(nil)
		if i%2 == 0 {
			want = make([]byte, size)
			fill(want, i)
		}
		if !bytes.Equal(d, want) {
			t.Fatalf("task %d: payload of %d bytes arrived changed", i, len(d))
		}
	}
	for _, s := range append(sa, sb...) {
		t.Log(s)
	}
}

func fill(b []byte, seed int) {
	for j := range b {
		b[j] = byte(seed*31 + j*7)
	}
}

// [B2] Acceptance 19: the bridge moves tasks in batches — with the batch
// interval frozen (an injected clock that never advances) only full batches
// publish, so 64·k inline tasks cross in exactly k transfers each way.
func TestB2_BatchesOfSixtyFour(t *testing.T) {
	const n = 64 * 100
	frozen := time.Unix(0, 0)
	rec := &recorder{}
	p := fxBootPair(t, fxSpec{
		a:    []kernel.Module{producer("ingest", "host.rx", tIn, lossless)},
		b:    []kernel.Module{rec.module("xform", "host.rx", tIn, lossless)},
		link: link.Config{Batch: bridge.BatchConfig{Size: 64, Now: func() time.Time { return frozen }}},
	})
	emitAll(t, p.a, "host.rx", tIn, n)
	sa, sb := p.halt()
	rec.inOrder(t, n)
	out, in := fxStat(t, sa, "host.rx", link.Out), fxStat(t, sb, "host.rx", link.In)
	if out.Transfers != n/64 {
		t.Fatalf("%d tasks in %d publications, want %d (batches of 64)", out.Sent, out.Transfers, n/64)
	}
	if in.Transfers > out.Transfers || in.Transfers == 0 {
		t.Fatalf("%d releases for %d publications", in.Transfers, out.Transfers)
	}
}
