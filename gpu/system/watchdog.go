package system

import (
	"context"
	"sync"
	"time"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/kernel"
)

// The watchdog ([F4], [F5], [B4]): a monitor on the host samples the GPU
// kernel's heartbeats; a worker whose beat stands still between two samples
// is stalled (a handler that never returns). Warn samples in a row with a
// stalled worker raise a warning; Reset samples take the bridge down
// (CHAN_CLOSED on both kernels) and reset the GPU kernel, while the CPU
// kernel keeps running. A backend whose kernel can die on its own
// (gpu.Mortal: the GPU daemon's process) is reset at once when it does.
//
// After the reset, the same sample reboots the GPU kernel: the transports
// are renewed for the next epoch, the GPU kernel boots on them, and the CPU
// kernel's end reconnects — it first sends again every task the old GPU
// kernel had not acknowledged as handled, flagged task.Redelivered (lossy
// channels report those to sys.dropped instead) — and the bridge channels
// reopen. A reset or reboot that fails is tried again at the next sample.
// Then the watchdog goes on watching the new kernel.

// WatchKind names a watchdog event.
type WatchKind uint8

// Watchdog events.
const (
	WatchWarning      WatchKind = iota + 1 // Warn samples in a row found a stalled worker
	WatchResetFailed                       // a reset attempt did not finish (tried again next sample)
	WatchReset                             // the GPU kernel was reset: bridge down, CPU kernel running
	WatchRebooted                          // the GPU kernel booted again and the bridge reconnected
	WatchRebootFailed                      // a reboot attempt failed (tried again next sample)
	WatchDied                              // the GPU kernel died on its own (gpu.Mortal): reset at once
)

func (k WatchKind) String() string {
	switch k {
	case WatchWarning:
		return "warning"
	case WatchResetFailed:
		return "reset failed"
	case WatchReset:
		return "reset"
	case WatchRebooted:
		return "rebooted"
	case WatchRebootFailed:
		return "reboot failed"
	case WatchDied:
		return "died"
	}
	return "?"
}

// WatchEvent is what the watchdog saw or did.
type WatchEvent struct {
	Kind    WatchKind
	Stalled []int // the stalled workers at the event
	Misses  int   // samples in a row with a stalled worker
	Report  gpu.HaltReport
	Err     error // WatchResetFailed, WatchRebootFailed: why
}

// WatchConfig tunes Watch. Zero fields take the spec's defaults.
type WatchConfig struct {
	// WatchPolicy is the rule of [F4] shared with the CPU kernel's watchdog
	// (modules/watchdog): sampling period (Every, default 100 ms), misses
	// before a warning (Warn, default 2) and before a reset (Reset, default 5).
	kernel.WatchPolicy
	// ResetWait bounds one reset attempt; default 1 s.
	ResetWait time.Duration
	// RebootWait bounds one reboot attempt (the CPU end's reconnect waits
	// for its pumps to deliver what the old rings held); default 10 s.
	RebootWait time.Duration
	// Tick, when set, drives the samples instead of a ticker of Every
	// (tests). The watchdog also ends when Tick is closed.
	Tick <-chan time.Time
	// OnEvent is called on the watchdog's goroutine for every event.
	OnEvent func(WatchEvent)
}

// Watch starts the watchdog on its own goroutine; stop ends it and waits
// for it (so does Halt). One watchdog at a time: a second Watch stops the
// first.
func (s *System) Watch(cfg WatchConfig) (stop func()) {
	cfg.WatchPolicy = cfg.WatchPolicy.WithDefaults()
	if cfg.ResetWait <= 0 {
		cfg.ResetWait = time.Second
	}
	if cfg.RebootWait <= 0 {
		cfg.RebootWait = 10 * time.Second
	}
	s.stopWatch()
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
	var once sync.Once
	stop = func() { // from any goroutine, any number of times (Halt calls it too)
		once.Do(func() { close(quit) })
		<-done
	}
	s.unwatch.Store(&stop)
	return stop
}

// stopWatch stops the running watchdog, if any.
func (s *System) stopWatch() {
	if f := s.unwatch.Swap(nil); f != nil {
		(*f)()
	}
}

// watchState is where the watchdog is with the GPU kernel.
type watchState uint8

const (
	watching  watchState = iota // the GPU kernel runs
	resetting                   // a reset is due (a failed attempt is retried)
	rebooting                   // reset done, a reboot is due
)

func (s *System) watch(cfg WatchConfig, tick <-chan time.Time, quit <-chan struct{}) {
	emit := func(e WatchEvent) {
		if cfg.OnEvent != nil {
			cfg.OnEvent(e)
		}
	}
	prev := s.gpu.Heartbeat()
	dead := deadOf(s.gpu)
	misses, state := 0, watching
	var stalled []int
	for {
		died := false
		select {
		case <-quit:
			return
		case _, ok := <-tick:
			if !ok {
				return
			}
		case <-dead:
			died, dead = true, nil
		}
		if state == watching {
			if died {
				emit(WatchEvent{Kind: WatchDied, Misses: misses})
			} else {
				h := s.gpu.Heartbeat()
				stalled, prev = h.Stalled(prev), h
				if len(stalled) == 0 {
					misses = 0
					continue
				}
				misses++
				warn, reset := cfg.Missed(misses)
				if warn {
					emit(WatchEvent{Kind: WatchWarning, Stalled: stalled, Misses: misses})
				}
				if !reset {
					continue
				}
			}
			state = resetting
		}
		if state == resetting {
			ctx, cancel := context.WithTimeout(context.Background(), cfg.ResetWait)
			r, err := s.reset(ctx)
			cancel()
			if err != nil {
				emit(WatchEvent{Kind: WatchResetFailed, Stalled: stalled, Misses: misses, Report: r, Err: err})
				continue
			}
			emit(WatchEvent{Kind: WatchReset, Stalled: stalled, Misses: misses, Report: r})
			state = rebooting
		}
		ctx, cancel := context.WithTimeout(context.Background(), cfg.RebootWait)
		err := s.reboot(ctx)
		cancel()
		if err != nil {
			emit(WatchEvent{Kind: WatchRebootFailed, Err: err})
			continue
		}
		emit(WatchEvent{Kind: WatchRebooted})
		state, misses, stalled = watching, 0, nil
		prev, dead = s.gpu.Heartbeat(), deadOf(s.gpu)
	}
}

// deadOf returns the channel closed when the backend's kernel dies on its
// own; nil (never ready) for a backend that cannot.
func deadOf(b gpu.Backend) <-chan struct{} {
	if m, ok := b.(gpu.Mortal); ok {
		return m.Dead()
	}
	return nil
}
