package metrics_test

import (
	"fmt"
	"os"
	"strconv"

	"github.com/gmkernel/gmk/kernel/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Counter indices: one "tasks done" counter per tenant.
const tenants = 2

// Workers count on their own shards and flush once per loop iteration; a
// control-plane goroutine adds to the shared shard; a reader sums them.
func ExampleSet() {
	const workers = 2
	set := metrics.NewSet(tenants, workers)
	for w := range workers { // each worker's loop (here one after the other)
		sh := set.Shard(w)
		for task := range 10 {
			sh.Inc(task % tenants) // plain add, no atomic
		}
		sh.Flush() // end of the loop iteration: publish
	}
	set.AddShared(1, 5) // e.g. a task finished by the control plane
	fmt.Println("tenant 0:", set.Value(0))
	fmt.Println("tenant 1:", set.Value(1))
	// Output:
	// tenant 0: 10
	// tenant 1: 15
}

// A collector exposes a set's counters to Prometheus.
func ExampleNewCollector() {
	set := metrics.NewSet(tenants, 1)
	set.Shard(0).Add(0, 3)
	set.Shard(0).Add(1, 4)
	set.Shard(0).Flush()

	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector("gmk", metrics.Family{
		Name: "tasks_done_total", Help: "Tasks done.", Labels: []string{"tenant"},
		Kind: metrics.KindCounter,
		Collect: func(emit func(float64, ...string)) {
			for t := range tenants {
				emit(float64(set.Value(t)), strconv.Itoa(t))
			}
		},
	}))
	mfs, _ := reg.Gather()
	enc := expfmt.NewEncoder(os.Stdout, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		_ = enc.Encode(mf)
	}
	// Output:
	// # HELP gmk_tasks_done_total Tasks done.
	// # TYPE gmk_tasks_done_total counter
	// gmk_tasks_done_total{tenant="0"} 3
	// gmk_tasks_done_total{tenant="1"} 4
}
