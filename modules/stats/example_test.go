package stats_test

import (
	"context"
	"fmt"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/stats"
)

// A producer without a registry updates metrics by id; the values are read
// from the registry (and exposed by its Prometheus collector).
func Example() {
	s, _ := stats.New(stats.Config{Metrics: []stats.Metric{
		{Name: "frames", Kind: stats.Counter},
		{Name: "queue", Kind: stats.Gauge},
	}})
	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 1 << 20}, s.Module())
	if err != nil {
		fmt.Println(err)
		return
	}
	in, _ := sdk.Dial(k, "stats.in")
	ctx := context.Background()
	for range 5 {
		_ = sdk.EmitInline(ctx, k, in, 0, sdk.StatMeta(0, sdk.StatAdd), 2)
	}
	_ = sdk.EmitInline(ctx, k, in, 0, sdk.StatMeta(1, sdk.StatSet), 17)
	_ = k.Halt(ctx)
	frames, _ := s.Registry().Counter("frames")
	fmt.Println("frames:", s.Registry().CounterValue(frames))
	fmt.Println("queue:", s.Registry().Gauge("queue").Load())
	// Output:
	// frames: 10
	// queue: 17
}
