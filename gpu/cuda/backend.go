//go:build cuda

package cuda

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"gorgonia.org/cu"

	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/cuda/ptx"
)

// BackendConfig configures the CUDA backend. Zero fields take defaults.
type BackendConfig struct {
	ID string // kernel identity ([K3]); default "gpu.0"
	// Kernel sizes the device kernel: device, image (PTX; default the
	// embedded image for the device's compute capability), workers,
	// threads, batch, queues, payload arena. Its Bridge is not used — the
	// bridge regions come from NewBridge (or the GPU daemon's host) — and
	// host.rx is read in place (RxMode RxMapped).
	Kernel Config
	// StopWait bounds how long the workers get to leave their loops once
	// told to stop: at a Halt, after draining; at a Reset, at most this
	// and what the Reset's context leaves. Default 2 s.
	StopWait time.Duration
}

// DefaultStopWait is BackendConfig.StopWait's default.
const DefaultStopWait = 2 * time.Second

// Backend is the CUDA backend of GMK/gpu: a gpu.Backend ("cuda") whose
// kernel is the persistent device kernel (Kernel), and a gpu.Bridger whose
// bridge transports are shared-memory regions (bridge.NewShm) that Boot
// registers with the driver, so the device reads and writes them in place.
// It runs in the GPU daemon (cmd/gmk-gpud --backend cuda), where the
// regions and the acknowledgement cells come from the host as memfds, and
// in process for tests and tools.
//
// The device kernel serves one bridge pair: host.rx (ring A→B; worker 0
// takes tasks from it and dispatches them by type through the GPU modules
// compiled into the image) and host.tx (ring B→A; what handlers emit to
// the host). So a boot carries at most one bridge channel each way, on one
// transport, and its modules must be in the kernel image (ImageModules):
// the Go modules of a BootSpec only declare the channels and types, the
// device runs its own compiled code.
//
// # Concurrency
//
// One owner calls Boot, Halt, Reset, NewBridge and RenewBridge (they are
// serialised); Heartbeat, Quiescent, Links and Info are safe from any
// goroutine. Every driver call of a booted kernel runs on that kernel's
// own locked OS thread (thread). Heartbeat and Links read mapped host
// memory only, so they answer while the device is hung; Quiescent copies
// the workers' counters out of device memory.
type Backend struct {
	cfg   BackendConfig
	info  gpu.Info
	image []string // the GPU modules of the kernel image

	mu     sync.Mutex // Boot, Halt, Reset, NewBridge, RenewBridge; guards acks, used, broken
	acks   []byte     // the page of Ack cells handed out by NewBridge (mmap); nil: none yet
	used   int        // Ack cells handed out
	broken error      // a kernel that could not be stopped or faulted: the process must end

	live sync.RWMutex // cur: written by the owner under mu, read by Heartbeat, Quiescent, Links
	cur  *session     // the running kernel; nil when none
}

var (
	_ gpu.Backend = (*Backend)(nil)
	_ gpu.Bridger = (*Backend)(nil)
)

// NewBackend opens the device once to describe it (Info: name, workers,
// memory) and to pick and check the kernel image, then lets it go; Boot
// opens it again. It fails when there is no device, or no image for it.
func NewBackend(cfg BackendConfig) (*Backend, error) {
	cfg.ID = cmp.Or(cfg.ID, "gpu.0")
	cfg.StopWait = cmp.Or(cfg.StopWait, DefaultStopWait)
	cfg.Kernel = cfg.Kernel.withDefaults()
	if cfg.Kernel.RxMode != RxMapped {
		return nil, fmt.Errorf("cuda: backend: rx mode %q: the backend reads host.rx in place (%q)", cfg.Kernel.RxMode, RxMapped)
	}
	b := &Backend{cfg: cfg}
	th := newThread()
	defer th.end()
	if err := th.do(b.describe); err != nil {
		return nil, err
	}
	return b, nil
}

// describe picks the image, opens the device and fills b's Info (on a
// kernel thread).
func (b *Backend) describe() error {
	kc := &b.cfg.Kernel
	dev, err := cu.GetDevice(kc.Ordinal)
	if err != nil {
		return fmt.Errorf("cuda: device %d: %w", kc.Ordinal, err)
	}
	major, minor, err := dev.ComputeCapability()
	if err != nil {
		return fmt.Errorf("cuda: device %d: %w", kc.Ordinal, err)
	}
	if kc.PTX == "" {
		im, err := ptx.For(major, minor)
		if err != nil {
			return err
		}
		kc.PTX = im.PTX
	}
	if b.image, err = ImageModules(kc.PTX); err != nil {
		return err
	}
	if _, err = ImageTypes(kc.PTX); err != nil {
		return err
	}
	k, err := Open(*kc)
	if err != nil {
		return err
	}
	kc.Workers = k.Workers() // every later Open gets the same kernel
	mem, _ := dev.TotalMem()
	b.info = gpu.Info{ID: b.cfg.ID, Backend: "cuda",
		Device:  fmt.Sprintf("%s (sm_%d%d, %d SMs, %d GiB)", k.Name, major, minor, k.SMs, mem>>30),
		Workers: kc.Workers, BlockThreads: kc.Threads, WarpSize: gpu.WarpSize, BatchSize: kc.Batch,
		Memory: int64(kc.Payloads) * int64(kc.PayloadBlock)}
	return k.Close()
}

// Kind implements gpu.Backend: "cuda".
func (b *Backend) Kind() string { return "cuda" }

// Info implements gpu.Backend. Memory is the payload arena's bytes.
func (b *Backend) Info() gpu.Info { return b.info }

// ImageModules returns the GPU modules of the backend's kernel image.
func (b *Backend) ImageModules() []string { return slices.Clone(b.image) }

// Boot implements gpu.Backend: it checks spec (modules in the image, one
// bridge pair on a region of NewBridge or of the daemon's host), opens the
// device, registers the bridge region and the Ack cell's page with the
// driver, lays the kernel's state out and launches the resident workers.
// After a Reset that could not stop the kernel it fails: the process must
// end. spec.Link, Tenants and MaxTypes do not apply: the device's end of
// the bridge is its worker 0, and its task types are the image's.
func (b *Backend) Boot(spec gpu.BootSpec) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.cur != nil:
		return gpu.ErrBooted
	case b.broken != nil:
		return fmt.Errorf("cuda: boot %s: %w", b.info.ID, b.broken)
	}
	p, err := b.plan(spec)
	if err != nil {
		return err
	}
	s, err := start(b.cfg.Kernel, p)
	if err != nil {
		return fmt.Errorf("cuda: boot %s: %w", b.info.ID, err)
	}
	b.live.Lock()
	b.cur = s
	b.live.Unlock()
	return nil
}

// checkModules checks spec's modules against the kernel image: present,
// and taking the types the image's modules take (CheckModules).
func (b *Backend) checkModules(mods []gpu.Module) error {
	return CheckModules(b.cfg.Kernel.PTX, mods)
}

// Heartbeat implements gpu.Backend: each worker's beat from mapped host
// memory (a worker advances it every millisecond of its loop, busy or
// idle); no beats when no kernel runs.
func (b *Backend) Heartbeat() gpu.Heartbeat {
	b.live.RLock()
	defer b.live.RUnlock()
	h := gpu.Heartbeat{At: time.Now()}
	if b.cur != nil {
		h.Beats = b.cur.k.Heartbeats(nil)
	}
	return h
}

// Quiescent implements gpu.Backend: true when no kernel runs, or when the
// device has taken and released everything published on host.rx and has
// nothing left to do — every task that entered it (from host.rx, or
// emitted on the device) was dispatched or staged on host.tx — the same
// on two copies of the workers' counters in a row (a task between two
// workers is counted by one of them a moment late).
func (b *Backend) Quiescent() bool {
	b.live.RLock()
	defer b.live.RUnlock()
	return b.cur == nil || b.cur.quiescent()
}

// Links implements gpu.Backend: the kernel's ends of its bridge channels,
// counted from the ring headers in mapped host memory (session.links).
func (b *Backend) Links() []link.Stats {
	b.live.RLock()
	defer b.live.RUnlock()
	if b.cur == nil {
		return nil
	}
	return b.cur.links(b.info.ID, false)
}

// ErrBroken wraps the error of a kernel that could not be stopped, or that
// faulted: its context cannot be recovered inside the process (Kernel.Close
// explains why), so the backend refuses to boot again.
var ErrBroken = errors.New("cuda: the device kernel cannot be recovered in this process; end the process to free the device (the GPU daemon's host restarts it)")
