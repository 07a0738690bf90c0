package kernel

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gmkernel/gmk/kernel/alloc"
	"github.com/gmkernel/gmk/kernel/metrics"
)

type kindStats = alloc.KindStats

// Collector returns a Prometheus collector of the kernel's metrics ([O1]):
// task accounting, per-tenant and per-type counters, channel counters and
// depths, allocator statistics, queue depths and their high watermarks, and
// user counters. Every series carries the kernel's id as label "kernel".
// Register it with a prometheus.Registry; scraping is safe while the kernel
// runs.
func (k *Kernel) Collector() prometheus.Collector {
	id := k.cfg.ID
	counter := func(name, help string, labels []string, fn func(emit func(float64, ...string))) metrics.Family {
		return metrics.Family{Name: name, Help: help, Labels: append([]string{"kernel"}, labels...), Kind: metrics.KindCounter,
			Collect: func(emit func(float64, ...string)) {
				fn(func(v float64, lv ...string) { emit(v, append([]string{id}, lv...)...) })
			}}
	}
	gauge := func(name, help string, labels []string, fn func(emit func(float64, ...string))) metrics.Family {
		f := counter(name, help, labels, fn)
		f.Kind = metrics.KindGauge
		return f
	}
	return metrics.NewCollector("gmk",
		counter("tasks_total", "Tasks by outcome (created = submitted + emitted).", []string{"outcome"}, k.collectTasks),
		counter("tenant_tasks_total", "Tasks per tenant by event.", []string{"tenant", "event"}, k.collectTenants),
		counter("type_tasks_total", "Handler results per task type.", []string{"type", "result"}, k.collectTypes),
		counter("channel_events_total", "Channel emits, CHAN_FULL refusals, dropped copies, replay overflows.", []string{"channel", "event"}, k.collectChanEvents),
		gauge("channel_depth", "Deliveries queued for a channel's subscribers.", []string{"channel"}, k.collectChanDepth),
		gauge("channel_subscribers", "Subscribers per channel.", []string{"channel"}, k.collectChanSubs),
		gauge("alloc_bytes", "Arena bytes per tenant and allocator: total, free, high watermark in use.", []string{"tenant", "allocator", "stat"}, k.collectAllocBytes),
		counter("alloc_ops_total", "Allocator operations per tenant: allocs, frees, fails, misuse.", []string{"tenant", "allocator", "op"}, k.collectAllocOps),
		gauge("queue_depth", "Tasks in the shared ready queues and in each worker's local queue (published at park).", []string{"queue"}, k.collectQueues),
		gauge("queue_high_watermark", "Highest local-queue depth seen per worker.", []string{"queue"}, k.collectQueueHigh),
		gauge("workers_parked", "Parked workers.", nil, func(emit func(float64, ...string)) { emit(float64(k.core.Idle.Parked())) }),
		counter("trace_lost_total", "Trace records lost to full trace rings.", nil, func(emit func(float64, ...string)) { emit(float64(k.TraceLost())) }),
		counter("user_total", "User counters (Kernel.Metric, Ctx.MetricInc).", []string{"name"}, k.collectUser),
		gauge("det_tick", "The deterministic lane's logical tick.", nil, func(emit func(float64, ...string)) { emit(float64(k.DetStats().Tick)) }),
		gauge("det_tick_seconds", "Wall time of the lane's last and longest finished tick.", []string{"stat"}, k.collectDetTick),
		counter("det_seconds_total", "Worker 0's time running the lane, and waiting for a fenced peer.", []string{"stat"}, k.collectDetTime),
		counter("det_tasks_total", "Deterministic tasks run.", nil, func(emit func(float64, ...string)) { emit(float64(k.DetStats().Ran)) }),
	)
}

func (k *Kernel) collectDetTick(emit func(float64, ...string)) {
	s := k.DetStats()
	emit(float64(s.TickNS)/1e9, "last")
	emit(float64(s.MaxTickNS)/1e9, "max")
}

func (k *Kernel) collectDetTime(emit func(float64, ...string)) {
	s := k.DetStats()
	emit(float64(s.BusyNS)/1e9, "busy")
	emit(float64(s.FenceWaitNS)/1e9, "fence_wait")
}

func (k *Kernel) collectTasks(emit func(float64, ...string)) {
	s := k.Stats()
	for _, o := range []struct {
		n string
		v uint64
	}{{"submitted", s.Submitted}, {"emitted", s.Emitted}, {"completed", s.Completed}, {"errored", s.Errored},
		{"dropped", s.Dropped}, {"retried", s.Retried}, {"yielded", s.Yielded}, {"panicked", s.Panics},
		{"report_lost", s.SysLost}, {"payload_misuse", s.PayloadMisuse}, {"restarted", s.Restarts}} {
		emit(float64(o.v), o.n)
	}
}

func (k *Kernel) collectTenants(emit func(float64, ...string)) {
	for t := 0; t < k.cfg.Tenants; t++ {
		s, tl := k.TenantStats(t), strconv.Itoa(t)
		emit(float64(s.Enqueued), tl, "enqueued")
		emit(float64(s.Dequeued), tl, "dequeued")
		emit(float64(s.Completed), tl, "completed")
		emit(float64(s.Errored), tl, "errored")
	}
}

func (k *Kernel) collectTypes(emit func(float64, ...string)) {
	seen := map[uint32]bool{}
	for _, h := range k.handlers {
		if seen[h.typ] || h.typ == AnyType {
			continue
		}
		seen[h.typ] = true
		s, tl := k.TypeStats(h.typ), strconv.FormatUint(uint64(h.typ), 10)
		emit(float64(s.OK), tl, "ok")
		emit(float64(s.Fail), tl, "fail")
		emit(float64(s.Retry), tl, "retry")
	}
}

func (k *Kernel) eachChan(fn func(ChanStats)) {
	for _, c := range k.chans.All() {
		if s, err := k.ChanStats(c.ID()); err == nil {
			fn(s)
		}
	}
}

func (k *Kernel) collectChanEvents(emit func(float64, ...string)) {
	k.eachChan(func(s ChanStats) {
		emit(float64(s.Emits), s.Name, "emit")
		emit(float64(s.Full), s.Name, "full")
		emit(float64(s.Drops), s.Name, "drop")
		emit(float64(s.ReplayOvfs), s.Name, "replay_overflow")
	})
}

func (k *Kernel) collectChanDepth(emit func(float64, ...string)) {
	k.eachChan(func(s ChanStats) { emit(float64(s.Depth), s.Name) })
}

func (k *Kernel) collectChanSubs(emit func(float64, ...string)) {
	k.eachChan(func(s ChanStats) { emit(float64(s.Subscribers), s.Name) })
}

func (k *Kernel) eachAlloc(fn func(tenant, kind string, s kindStats)) {
	for t := 0; t < k.cfg.Tenants; t++ {
		st, tl := k.arena.Stats(t), strconv.Itoa(t)
		fn(tl, "slab", st.Slab)
		fn(tl, "block", st.Block)
		fn(tl, "bump", st.Bump)
	}
}

func (k *Kernel) collectAllocBytes(emit func(float64, ...string)) {
	k.eachAlloc(func(t, kind string, s kindStats) {
		emit(float64(s.Total), t, kind, "total")
		emit(float64(s.Free), t, kind, "free")
		emit(float64(s.HighWater), t, kind, "high_watermark")
	})
}

func (k *Kernel) collectAllocOps(emit func(float64, ...string)) {
	k.eachAlloc(func(t, kind string, s kindStats) {
		emit(float64(s.Allocs), t, kind, "alloc")
		emit(float64(s.Frees), t, kind, "free")
		emit(float64(s.Fails), t, kind, "fail")
		emit(float64(s.Misuse), t, kind, "misuse")
	})
}

func (k *Kernel) collectQueues(emit func(float64, ...string)) {
	emit(float64(k.core.SharedLen()), "shared")
	for _, w := range k.workers {
		emit(float64(w.lqDepth.Load()), "lq"+strconv.Itoa(w.id))
		emit(float64(w.evqDepth.Load()), "evq"+strconv.Itoa(w.id))
	}
}

func (k *Kernel) collectQueueHigh(emit func(float64, ...string)) {
	for _, w := range k.workers {
		emit(float64(w.lqHigh.Load()), "lq"+strconv.Itoa(w.id))
	}
}

func (k *Kernel) collectUser(emit func(float64, ...string)) {
	k.userMu.Lock()
	names := make(map[string]int, len(k.userNames))
	for n, id := range k.userNames {
		names[n] = id
	}
	k.userMu.Unlock()
	for n, id := range names {
		emit(float64(k.MetricValue(MetricID(id))), n)
	}
}
