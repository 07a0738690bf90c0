package channel

import (
	"testing"

	"github.com/gmkernel/gmk/kernel/metrics"
	"github.com/gmkernel/gmk/kernel/task"
)

// nopEnv is the cheapest kernel side: the benchmarks measure the channel.
type nopEnv struct{}

func (nopEnv) Dropped(int, task.Task, task.Status) {}
func (nopEnv) AddRefs(uint64, int)                 {}
func (nopEnv) Wake(int)                            {}

// benchEmitDrain emits one task and drains every subscriber's copy, per op.
func benchEmitDrain(b *testing.B, spec Spec, subs int) {
	b.ReportAllocs()
	r := NewRegistry(1)
	spec.Name, spec.Type, spec.Slots = "bench.chan", msgType, 1024
	c, _, err := r.Open(spec)
	if err != nil {
		b.Fatal(err)
	}
	ss := make([]*Sub, subs)
	for i := range ss {
		ss[i], _ = c.Subscribe(i, 0)
	}
	stats := metrics.NewSet(2*NumStats, 1)
	em := &Emitter{Worker: -1, Shard: stats.Shard(0), Stats: stats, Env: nopEnv{}}
	m := msg(1, 1)
	m.Payload = 0x10
	var buf [1]task.Task
	for i := 0; b.Loop(); i++ {
		d := m
		if st, _ := c.Emit(em, &d); st != task.OK {
			b.Fatal(st)
		}
		for _, s := range ss {
			s.Drain(buf[:])
			s.Ack(buf[0].Seq)
		}
		if i&31 == 31 {
			em.Shard.Flush()
		}
	}
}

// BenchmarkChanBaseline_SendRecv is the Go-channel baseline: one buffered
// send and receive of a task.
func BenchmarkChanBaseline_SendRecv(b *testing.B) {
	b.ReportAllocs()
	ch := make(chan task.Task, 1024)
	m := msg(1, 1)
	for b.Loop() {
		ch <- m
		<-ch
	}
}

// [C4] One P2P emit and drain.
func BenchmarkC4_EmitDrainP2P(b *testing.B) { benchEmitDrain(b, Spec{Guarantee: Lossless}, 1) }

// [C6] One lossy fan-out emit to 3 subscribers and the 3 drains.
func BenchmarkC6_EmitDrainLossyFanOut3(b *testing.B) { benchEmitDrain(b, Spec{Mode: FanOut}, 3) }

// [C7] One lossless fan-out emit to 3 subscribers and the 3 drains.
func BenchmarkC7_EmitDrainLosslessFanOut3(b *testing.B) {
	benchEmitDrain(b, Spec{Mode: FanOut, Guarantee: Lossless}, 3)
}

// [C7] The same with a 64-slot replay buffer (every drain acknowledged).
func BenchmarkC7_EmitDrainLosslessFanOut3Replay(b *testing.B) {
	benchEmitDrain(b, Spec{Mode: FanOut, Guarantee: Lossless, Replay: 64}, 3)
}
