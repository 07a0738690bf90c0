package watchdog

import (
	"time"

	"go.uber.org/zap"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/kernel/trace"
)

// The goroutine shell around the monitor: Init sizes the beats, registers
// the counters and starts the poll goroutine; each tick takes a sample,
// steps the monitor and acts on its events; Fini stops the goroutine and
// waits for it.

// Metric names of the watchdog's kernel user counters ([O1]; Kernel.Metric,
// exported as gmk_user_total{name=…}).
var metricNames = [4]string{"watchdog.warnings", "watchdog.resets", "watchdog.reset_failed", "watchdog.recoveries"}

func (w *Watchdog) init(c *kernel.Ctx) error {
	k := c.Kernel()
	for i, n := range metricNames {
		id, err := k.Metric(n)
		if err != nil {
			return err
		}
		w.metrics[i] = id
	}
	ev, err := sdk.Dial(k, w.cfg.Event)
	if err != nil {
		return err
	}
	w.event = ev
	bs := make([]beat, k.Config().Workers)
	w.beats.Store(&bs)
	w.k = k
	if w.cfg.Logger == nil {
		w.cfg.Logger = k.Config().Logger
	}
	w.halt() // a re-init restarts polling
	tick := w.cfg.Tick
	var ticker *time.Ticker
	if tick == nil {
		ticker = time.NewTicker(w.cfg.Every)
		tick = ticker.C
	}
	m := newMonitor(w.cfg.WatchPolicy)
	m.step(sample(bs, nil), nil, nil) // the first sample: a stall is counted from here
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		if ticker != nil {
			defer ticker.Stop()
		}
		w.loop(m, bs, tick, quit)
	}()
	w.stop = func() { close(quit); <-done }
	return nil
}

// halt stops the poll goroutine, if it runs, and waits until it is gone.
func (w *Watchdog) halt() {
	if w.stop != nil {
		w.stop()
		w.stop = nil
	}
}

func (w *Watchdog) loop(m *monitor, bs []beat, tick <-chan time.Time, quit <-chan struct{}) {
	var cur []beatSample
	var evs []Event
	for {
		select {
		case <-quit:
			return
		case _, ok := <-tick:
			if !ok {
				return
			}
		}
		cur = sample(bs, cur)
		w.mu.Lock()
		names := w.names // append-only before Boot: the header read is the snapshot
		w.mu.Unlock()
		evs = m.step(cur, names, evs[:0])
		for _, e := range evs {
			w.act(e)
		}
		w.mu.Lock()
		w.stalls = m.stalls(names)
		w.mu.Unlock()
		w.polls.Add(1)
	}
}

// act accounts for one event, logs it, reports it to the kernel and, for a
// reset, calls the reset hook.
func (w *Watchdog) act(e Event) {
	switch e.Kind {
	case Warning:
		w.warnings.Add(1)
	case Recovered:
		w.recoveries.Add(1)
	case Reset:
		w.resets.Add(1)
		w.note(e)
		if err := w.cfg.OnReset(w.k, Stall{Worker: e.Worker, Module: e.Module, Misses: e.Misses}); err != nil {
			e.Kind, e.Err = ResetFailed, err
			w.failed.Add(1)
			w.note(e)
		}
		return
	}
	w.note(e)
}

// note logs e, submits its report task and calls OnEvent.
func (w *Watchdog) note(e Event) {
	w.cfg.Logger.Warn("watchdog "+e.Kind.String(), zap.String("kernel", w.k.ID()), zap.Int("worker", e.Worker),
		zap.String("module", e.Module), zap.Int("misses", e.Misses), zap.Error(e.Err))
	// The trace record and the kernel counter are written by a worker (trace
	// rings are per worker): a report task. When every worker is stuck it
	// waits; Stats, the log and the hook do not. After Halt began it fails.
	_ = w.k.Submit(kernel.Task{Type: w.cfg.ReportType, Meta0: uint64(e.Worker), Meta1: reportMeta(e)})
	if w.cfg.OnEvent != nil {
		w.cfg.OnEvent(e)
	}
}

// reportMeta packs an event's kind and misses: kind<<32 | misses.
func reportMeta(e Event) uint64 { return uint64(e.Kind)<<32 | uint64(uint32(e.Misses)) }

// SplitReport unpacks meta1 of a report task, a WATCHDOG trace record's
// second argument or an event task: the event's kind and misses.
func SplitReport(meta1 uint64) (Kind, int) { return Kind(meta1 >> 32), int(uint32(meta1)) }

// report handles a report task on a worker: the WATCHDOG trace record ([O2];
// a0 = worker, a1 = kind<<32 | misses), the kernel counter, and the event
// on the event channel (lossy: dropped when no one listens or it is full).
func (w *Watchdog) report(c *kernel.Ctx) kernel.Status {
	t := c.Task()
	kind, _ := SplitReport(t.Meta1)
	c.Trace(trace.Watchdog, t.Meta0, t.Meta1)
	if i := int(kind) - 1; i >= 0 && i < len(w.metrics) {
		c.MetricInc(w.metrics[i], 1)
	}
	st := sdk.Send(c, w.event.Chan, kernel.Task{Type: w.event.Type, Tenant: t.Tenant, Meta0: t.Meta0, Meta1: t.Meta1})
	if st == kernel.Retry {
		return kernel.OK // lossy: a full channel loses the event, not the report
	}
	return st
}
