package kernel

import (
	"fmt"

	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/metrics"
)

type metricsShard = metrics.Shard

// Global counters of the kernel's metrics set ([O1], [C9]).
const (
	cEmitted       = iota // created inside the kernel: emits, deliveries, dropped copies, reports
	cErrored              // ended in sys.error (or its error handler's report)
	cDropped              // ended in sys.dropped
	cRetried              // retry re-enqueues
	cYielded              // yield re-enqueues
	cPanics               // recovered handler panics
	cSysLost              // system-channel report copies a full subscriber missed
	cPayloadMisuse        // stale or double releases detected ([A5])
	cRestarts             // module re-inits
	nGlobal
)

// MaxUserMetrics is the number of user counters (Kernel.Metric).
const MaxUserMetrics = 256

// MetricID names a user counter.
type MetricID int

// layout places the per-tenant, per-type and user counters after the globals.
type layout struct {
	sub, enq, deq, tenOK, tenErr int // + tenant (sub: admitted by Submit/SubmitBatch)
	typeOK                       int // + type*3 + {0 ok, 1 fail, 2 retry}
	user                         int // + MetricID
	total                        int
}

func newLayout(cfg BootConfig) layout {
	t := cfg.Tenants
	l := layout{sub: nGlobal}
	l.enq = l.sub + t
	l.deq = l.enq + t
	l.tenOK = l.deq + t
	l.tenErr = l.tenOK + t
	l.typeOK = l.tenErr + t
	l.user = l.typeOK + 3*cfg.MaxTypes
	l.total = l.user + MaxUserMetrics
	return l
}

// Stats is a snapshot of the kernel's accounting ([C9]). Worker counters are
// published once per worker loop, so a snapshot of a running kernel lags by at
// most a batch per worker; after Halt it is exact.
type Stats struct {
	Submitted     uint64 // admitted from outside
	Emitted       uint64 // created inside (emits, channel deliveries, dropped copies, reports)
	Completed     uint64
	Errored       uint64 // in sys.error
	Dropped       uint64 // in sys.dropped
	Retried       uint64
	Yielded       uint64
	Panics        uint64
	SysLost       uint64 // report copies a full sys.* subscriber missed (the task is still counted)
	PayloadMisuse uint64
	Restarts      uint64
}

// Created is every task that entered the kernel.
func (s Stats) Created() uint64 { return s.Submitted + s.Emitted }

// InFlight is what is neither completed, errored nor dropped: still queued or
// running.
func (s Stats) InFlight() uint64 { return s.Created() - s.Completed - s.Errored - s.Dropped }

func (s Stats) String() string {
	return fmt.Sprintf("created=%d (submitted=%d emitted=%d) completed=%d errored=%d dropped=%d retried=%d yielded=%d panics=%d",
		s.Created(), s.Submitted, s.Emitted, s.Completed, s.Errored, s.Dropped, s.Retried, s.Yielded, s.Panics)
}

// Stats returns the kernel's counters.
func (k *Kernel) Stats() Stats {
	v := k.stats.Value
	var submitted, completed uint64
	for t := 0; t < k.cfg.Tenants; t++ {
		submitted += v(k.layout.sub + t)
		completed += v(k.layout.tenOK + t)
	}
	return Stats{Submitted: submitted, Emitted: v(cEmitted), Completed: completed,
		Errored: v(cErrored), Dropped: v(cDropped), Retried: v(cRetried), Yielded: v(cYielded),
		Panics: v(cPanics), SysLost: v(cSysLost), PayloadMisuse: v(cPayloadMisuse), Restarts: v(cRestarts)}
}

// TenantStats are the per-tenant counters of [O1].
type TenantStats struct{ Enqueued, Dequeued, Completed, Errored uint64 }

// TenantStats returns tenant t's counters.
func (k *Kernel) TenantStats(t int) TenantStats {
	v, l := k.stats.Value, k.layout
	return TenantStats{Enqueued: v(l.sub+t) + v(l.enq+t), Dequeued: v(l.deq + t), Completed: v(l.tenOK + t), Errored: v(l.tenErr + t)}
}

// TypeStats are a handler type's success/fail/retry counts ([O1]).
type TypeStats struct{ OK, Fail, Retry uint64 }

// TypeStats returns type typ's counters.
func (k *Kernel) TypeStats(typ uint32) TypeStats {
	if int(typ) >= k.cfg.MaxTypes {
		return TypeStats{}
	}
	v, b := k.stats.Value, k.layout.typeOK+int(typ)*3
	return TypeStats{OK: v(b), Fail: v(b + 1), Retry: v(b + 2)}
}

// ChanStats are a channel's counters and gauges ([O1]).
type ChanStats struct {
	Name                           string
	ID                             ChanID
	Emits, Full, Drops, ReplayOvfs uint64
	Depth, Subscribers             int
}

// ChanStats returns the counters of channel id.
func (k *Kernel) ChanStats(id ChanID) (ChanStats, error) {
	c := k.chans.Get(id)
	if c == nil {
		return ChanStats{}, fmt.Errorf("%w: %d", ErrChanUnknown, id)
	}
	v, b := k.chanStats.Value, int(id)*channel.NumStats
	return ChanStats{Name: c.Name(), ID: id, Emits: v(b + channel.StatEmits), Full: v(b + channel.StatFull),
		Drops: v(b + channel.StatDrops), ReplayOvfs: v(b + channel.StatReplayOvf),
		Depth: c.Depth(), Subscribers: len(c.Subs())}, nil
}

// Metric returns the id of the user counter name, registering it on first
// use (control plane; at most MaxUserMetrics names).
func (k *Kernel) Metric(name string) (MetricID, error) {
	k.userMu.Lock()
	defer k.userMu.Unlock()
	if id, ok := k.userNames[name]; ok {
		return MetricID(id), nil
	}
	if len(k.userNames) >= MaxUserMetrics {
		return 0, fmt.Errorf("%w: more than %d user metrics", ErrConfig, MaxUserMetrics)
	}
	id := len(k.userNames)
	k.userNames[name] = id
	return MetricID(id), nil
}

// MetricValue returns the value of user counter id.
func (k *Kernel) MetricValue(id MetricID) uint64 { return k.stats.Value(k.layout.user + int(id)) }
