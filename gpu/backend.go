package gpu

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/kernel"
)

// Backend is a GPU kernel as the host sees it (DESIGN.md decision 6): the
// simulated kernel (gpu/sim), later the CUDA one and the GPU daemon
// (cmd/gmk-gpud) that hosts either in its own process. The host boots it
// with a module set and its ends of the bridge channels, samples its
// heartbeats, and halts or resets it; everything else — tasks, payloads —
// crosses the bridge.
//
// A Backend is used by one owner (the system, or the GPU driver module);
// Heartbeat, Quiescent, Links and Info are safe from any goroutine.
type Backend interface {
	// Kind names the backend: "sim", "cuda", "daemon".
	Kind() string
	// Info describes the device and the kernel's geometry; valid before Boot.
	Info() Info
	// Boot starts the GPU kernel — arena, scheduler, channels, modules,
	// resident workers — and attaches its ends of the bridge channels. It
	// returns when the kernel runs. ErrBooted when it already does.
	Boot(spec BootSpec) error
	// Heartbeat samples the workers' heartbeats ([F4]).
	Heartbeat() Heartbeat
	// Quiescent reports whether the kernel and its ends of the bridge have
	// nothing to do (what a system halt waits for, with the host's side).
	Quiescent() bool
	// Links returns the counters of the GPU kernel's bridge channel ends.
	Links() []link.Stats
	// Halt stops the kernel in order ([K2]): its bridge ends stop, the
	// kernel drains until ctx is done, Fini runs, nothing is left behind.
	// The caller makes the system quiescent first for a loss-free halt.
	Halt(ctx context.Context) (HaltReport, error)
	// Reset stops the kernel without draining — a hung kernel: a device
	// reset, or the daemon killed — disconnects its bridge ends (CHAN_CLOSED
	// on both sides) and leaves the backend ready to Boot again, at once,
	// even when the old kernel could not be stopped (HaltReport.Lost). What
	// the kernel held is counted as queued. ErrNotBooted when not running.
	Reset(ctx context.Context) (HaltReport, error)
}

// BootSpec is what a GPU kernel boots with.
type BootSpec struct {
	Modules []Module
	// Bridge are the GPU kernel's ends of its bridge channels (link.Route
	// finds them; the host creates the transports).
	Bridge []link.Wire
	Link   link.Config
	// Tenants and MaxTypes match the CPU kernel's, so tasks keep their
	// tenant and type across the bridge. Zero: the backend's defaults.
	Tenants, MaxTypes int
}

// Info describes a GPU kernel and its device.
type Info struct {
	ID           string // kernel identity ([K3]): "gpu.0"
	Backend      string // Kind of the backend
	Device       string // device name
	Workers      int    // resident worker blocks ([G1])
	BlockThreads int    // threads per worker block
	WarpSize     int    // lanes per warp
	BatchSize    int    // tasks a worker gathers per batch ([G3])
	Memory       int64  // bytes of device memory the kernel's arena holds ([G2])
}

func (i Info) String() string {
	return fmt.Sprintf("%s (%s: %s) | %d workers × %d threads | batch %d | %d MiB",
		i.ID, i.Backend, i.Device, i.Workers, i.BlockThreads, i.BatchSize, i.Memory>>20)
}

// Heartbeat is one sample of the workers' heartbeats ([F4]): each resident
// worker advances its count as its loop goes round, busy or idle; a worker
// whose count stands still between two samples is stalled (a handler that
// never returns, a hung device).
type Heartbeat struct {
	At    time.Time
	Beats []uint64 // per worker
}

// Stalled returns the workers whose beat did not advance since prev (every
// worker when the worker count changed: a different kernel).
func (h Heartbeat) Stalled(prev Heartbeat) []int {
	var out []int
	for i, b := range h.Beats {
		if len(prev.Beats) != len(h.Beats) || b == prev.Beats[i] {
			out = append(out, i)
		}
	}
	return out
}

// HaltReport is what a GPU kernel's Halt or Reset found: the kernel's own
// report ([C9]: its accounting identity) and its bridge ends' counters.
type HaltReport struct {
	Kernel       kernel.HaltReport
	Links        []link.Stats
	LivePayloads int // arena blocks still live (0 unless a module kept one)

	// Lost: a Reset (or a Halt whose context ended) could not stop the
	// kernel in order, so Kernel and LivePayloads are not known — a GPU
	// daemon killed (its bridge ends' counts are what the host read from
	// the rings), or a simulated kernel with a worker still in a handler
	// (Stuck: after a Reset its final report comes later, in a Halt's
	// Reaped; after a Halt, which then fails with ErrStuck, Links are its
	// bridge ends with their senders stopped).
	Lost, Stuck bool
	// Reaped holds, in a Halt's report, the final reports of the kernels
	// that earlier Resets left behind Stuck, in Reset order.
	Reaped []HaltReport
}

// Mortal is a Backend whose kernel can die on its own — the GPU daemon's
// process, killed or crashed. Dead returns a channel closed when the kernel
// booted last died (nil before the first Boot); the host's watchdog resets
// and reboots at once instead of waiting for missed heartbeats ([F4]).
type Mortal interface {
	Dead() <-chan struct{}
}

// Errors of a Backend.
var (
	ErrBooted    = errors.New("gpu: kernel already booted")
	ErrNotBooted = errors.New("gpu: kernel not booted")
	ErrStuck     = errors.New("gpu: kernel did not stop (a worker is stuck in a handler)")
)
