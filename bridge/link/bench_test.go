package link_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/kernel"
)

// BenchmarkBridgeChannel measures one bridge channel end to end, kernel to
// kernel: tasks emitted on a's channel from outside, relayed, batched over
// an in-memory transport, pumped into b's channel and consumed by a
// handler — for inline tasks and 4 KiB payloads, at bridge batch sizes 1
// and 64 ([B2]). It reports tasks/s and ring transfers per task.
func BenchmarkBridgeChannel(b *testing.B) {
	for _, c := range []struct {
		size, batch int
	}{{0, 1}, {0, 64}, {4096, 1}, {4096, 64}} {
		name := fmt.Sprintf("inline/batch=%d", c.batch)
		if c.size > 0 {
			name = fmt.Sprintf("4k/batch=%d", c.batch)
		}
		b.Run(name, func(b *testing.B) { benchChannel(b, c.size, c.batch) })
	}
}

func benchChannel(b *testing.B, size, batch int) {
	var got atomic.Int64
	sink := kernel.Module{Name: "sink", Channels: []kernel.ChanDecl{{Name: "host.rx", Dir: kernel.Consume, Type: tIn, Guarantee: kernel.Lossless}},
		Handlers: []kernel.Handler{{Type: tIn, Fn: func(*kernel.Ctx) kernel.Status { got.Add(1); return kernel.OK }}}}
	p := fxBootPair(b, fxSpec{
		a:     []kernel.Module{producer("ingest", "host.rx", tIn, kernel.ChanDecl{Guarantee: kernel.Lossless})},
		b:     []kernel.Module{sink},
		link:  link.Config{Batch: bridge.BatchConfig{Size: batch}},
		arena: 64 << 20,
	})
	id := fxChan(b, p.a, "host.rx")
	buf := make([]kernel.Task, 256)
	const window = 2048 // payload tasks in flight: well inside both arenas' 4 KiB bins
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; {
		m := min(len(buf), b.N-i)
		if size > 0 {
			for int64(i)-got.Load() > window-int64(m) {
				time.Sleep(20 * time.Microsecond)
			}
		}
		for j := range buf[:m] {
			buf[j] = kernel.Task{Type: tIn, Meta0: uint64(i + j)}
			if size > 0 {
				h, _, err := p.a.Alloc(0, size)
				if err != nil {
					b.Fatal(err)
				}
				buf[j].Payload, buf[j].PayloadLen = h, uint32(size)
			}
		}
		if err := p.a.ChanEmitAll(context.Background(), id, buf[:m]); err != nil {
			b.Fatal(err)
		}
		i += m
	}
	for got.Load() < int64(b.N) {
		time.Sleep(20 * time.Microsecond)
	}
	el := time.Since(start)
	b.StopTimer()
	sa, _ := p.halt()
	out := fxStat(b, sa, "host.rx", link.Out)
	b.ReportMetric(float64(b.N)/el.Seconds(), "tasks/s")
	b.ReportMetric(out.TransfersPerTask(), "transfers/task")
}
