package system

import (
	"context"
	"time"

	"github.com/gmkernel/gmk/gpu"
)

// The watchdog ([F4]): a monitor on the host samples the GPU kernel's
// heartbeats; a worker whose beat stands still between two samples is
// stalled (a handler that never returns). Warn samples in a row with a
// stalled worker raise a warning; Reset samples take the bridge down
// (CHAN_CLOSED on both kernels) and reset the GPU kernel, while the CPU
// kernel keeps running. A reset that cannot finish yet (the in-process
// simulator cannot stop a handler that never returns: gpu.ErrStuck) is
// tried again at every later sample, even if the beats came back: the
// bridge is down by then. Rebooting the GPU kernel and
// reconnecting the bridge after a reset is not done here yet.

// WatchKind names a watchdog event.
type WatchKind uint8

// Watchdog events.
const (
	WatchWarning     WatchKind = iota + 1 // Warn samples in a row found a stalled worker
	WatchResetFailed                      // a reset attempt did not finish (tried again next sample)
	WatchReset                            // the GPU kernel was reset; the watchdog ends
)

func (k WatchKind) String() string {
	switch k {
	case WatchWarning:
		return "warning"
	case WatchResetFailed:
		return "reset failed"
	case WatchReset:
		return "reset"
	}
	return "?"
}

// WatchEvent is what the watchdog saw or did.
type WatchEvent struct {
	Kind    WatchKind
	Stalled []int // the stalled workers at the event
	Misses  int   // samples in a row with a stalled worker
	Report  gpu.HaltReport
	Err     error // WatchResetFailed: why
}

// WatchConfig tunes Watch. Zero fields take the spec's defaults.
type WatchConfig struct {
	Every time.Duration // sampling period; default 100 ms
	Warn  int           // misses before a warning; default 2
	Reset int           // misses before a reset; default 5
	// ResetWait bounds one reset attempt; default 1 s.
	ResetWait time.Duration
	// Tick, when set, drives the samples instead of a ticker of Every
	// (tests). The watchdog also ends when Tick is closed.
	Tick <-chan time.Time
	// OnEvent is called on the watchdog's goroutine for every event.
	OnEvent func(WatchEvent)
}

// Watch starts the watchdog on its own goroutine; stop ends it and waits
// for it. It ends by itself after a reset.
func (s *System) Watch(cfg WatchConfig) (stop func()) {
	if cfg.Every <= 0 {
		cfg.Every = 100 * time.Millisecond
	}
	if cfg.Warn <= 0 {
		cfg.Warn = 2
	}
	if cfg.Reset <= 0 {
		cfg.Reset = 5
	}
	if cfg.ResetWait <= 0 {
		cfg.ResetWait = time.Second
	}
	tick := cfg.Tick
	var ticker *time.Ticker
	if tick == nil {
		ticker = time.NewTicker(cfg.Every)
		tick = ticker.C
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		if ticker != nil {
			defer ticker.Stop()
		}
		s.watch(cfg, tick, quit)
	}()
	return func() {
		select {
		case <-quit:
		default:
			close(quit)
		}
		<-done
	}
}

func (s *System) watch(cfg WatchConfig, tick <-chan time.Time, quit <-chan struct{}) {
	emit := func(e WatchEvent) {
		if cfg.OnEvent != nil {
			cfg.OnEvent(e)
		}
	}
	prev := s.gpu.Heartbeat()
	misses, resetting := 0, false
	for {
		select {
		case <-quit:
			return
		case _, ok := <-tick:
			if !ok {
				return
			}
		}
		h := s.gpu.Heartbeat()
		stalled := h.Stalled(prev)
		prev = h
		switch {
		case resetting: // the bridge is down: the reset goes on until it is done
		case len(stalled) == 0:
			misses = 0
			continue
		default:
			misses++
			if misses == cfg.Warn {
				emit(WatchEvent{Kind: WatchWarning, Stalled: stalled, Misses: misses})
			}
			if misses < cfg.Reset {
				continue
			}
			resetting = true
			s.Disconnect() // producers on both kernels see CHAN_CLOSED from now on
		}
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ResetWait)
		r, err := s.gpu.Reset(ctx)
		cancel()
		if err != nil {
			emit(WatchEvent{Kind: WatchResetFailed, Stalled: stalled, Misses: misses, Report: r, Err: err})
			continue
		}
		s.reset.Store(&r)
		emit(WatchEvent{Kind: WatchReset, Stalled: stalled, Misses: misses, Report: r})
		return
	}
}
