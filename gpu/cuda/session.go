//go:build cuda

package cuda

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"gorgonia.org/cu"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
)

// plan is what a Boot takes from its spec: the wires, their one transport
// and its memfd, and the host.rx channel's Ack cell.
type plan struct {
	wires []link.Wire
	t     bridge.Transport // nil: no bridge channel
	f     *os.File         // t's memfd
	ack   *atomic.Uint64   // nil: none
}

// plan checks spec against what the device kernel can serve: modules of
// the kernel image, at most one bridge channel each way, both on one
// shared-memory transport.
func (b *Backend) plan(spec gpu.BootSpec) (plan, error) {
	if err := b.checkModules(spec.Modules); err != nil {
		return plan{}, err
	}
	id := b.info.ID
	p := plan{wires: slices.Clone(spec.Bridge)}
	var on []string // the channels on p.t
	in, out := "", ""
	for _, w := range spec.Bridge {
		name := w.Chan.Spec.Name
		switch {
		case w.T == nil:
			return plan{}, fmt.Errorf("cuda: channel %s has no transport", name)
		case w.Chan.To == id && w.Chan.From != id && in == "":
			in, p.ack = name, w.Ack
		case w.Chan.From == id && w.Chan.To != id && out == "":
			out = name
		case w.Chan.To == id && w.Chan.From != id:
			return plan{}, fmt.Errorf("cuda: channels %s and %s both go to %s: the device kernel takes one bridge channel from the host (host.rx)", in, name, id)
		case w.Chan.From == id && w.Chan.To != id:
			return plan{}, fmt.Errorf("cuda: channels %s and %s both come from %s: the device kernel sends one bridge channel to the host (host.tx)", out, name, id)
		default:
			return plan{}, fmt.Errorf("cuda: channel %s goes %s→%s, not to or from %s", name, w.Chan.From, w.Chan.To, id)
		}
		if p.t == nil {
			p.t = w.T
		} else if w.T != p.t {
			return plan{}, fmt.Errorf("cuda: channels %s and %s are on two bridge transports: the device kernel serves one bridge pair (host.rx and host.tx), at most one bridge channel each way",
				strings.Join(on, ", "), name)
		}
		on = append(on, name)
	}
	if p.t != nil {
		fh, ok := p.t.(interface{ File() *os.File })
		if !ok {
			return plan{}, fmt.Errorf("cuda: channel %s: its transport (%s) is not a shared-memory bridge region: make it with the backend's NewBridge", on[0], p.t.Kind())
		}
		p.f = fh.File()
	}
	return p, nil
}

// session is one booted device kernel, from Boot to Halt or Reset: its
// driver thread, the kernel, and the host memory the device was given.
// Its fields are written by start before the session is published
// (Backend.cur) and read-only afterwards; the kernel is the thread's.
type session struct {
	th     *thread
	k      *Kernel
	wires  []link.Wire
	t      bridge.Transport // the wires' transport; nil: none
	region hostMem          // t's region, mapped here a second time and registered
	ackMem hostMem          // the page of the Ack cell, registered
	ack    *atomic.Uint64   // the host.rx channel's Ack cell; nil: none
	// Where this kernel started: host.rx's cons_seq, host.tx's prod_seq and
	// the Ack cell at launch. Its bridge ends count from there.
	rxBase, txBase, ackBase uint64
}

// start opens the device on a new thread and boots a kernel for p.
func start(kc Config, p plan) (*session, error) {
	s := &session{th: newThread(), wires: p.wires, t: p.t, ack: p.ack}
	if err := s.th.do(func() error { return s.boot(kc, p.f) }); err != nil {
		_ = s.th.do(func() error { return s.free(DefaultStopWait) })
		s.th.end()
		return nil, err
	}
	return s, nil
}

// boot opens the kernel, maps the region and registers it and the Ack
// cell's page with the driver, lays the state out and launches (thread).
func (s *session) boot(kc Config, f *os.File) error {
	var err error
	if s.k, err = Open(kc); err != nil {
		return err
	}
	var region []byte
	if f != nil {
		mem, size, err := mapRegion(f)
		if err != nil {
			return err
		}
		s.region = hostMem{mem: mem, owned: true}
		if err := s.region.register(); err != nil {
			return fmt.Errorf("cuda: bridge region: %w", err)
		}
		region = mem[:size]
		s.rxBase = s.ring(bridge.RingAB).load(offConsSeq)
		s.txBase = s.ring(bridge.RingBA).load(offProdSeq)
	}
	var ackD cu.DevicePtr
	if s.ack != nil {
		page, off := pageOf(s.ack)
		s.ackMem = hostMem{mem: page}
		if err := s.ackMem.register(); err != nil {
			return fmt.Errorf("cuda: acknowledgement cell: %w", err)
		}
		ackD = s.ackMem.dev + cu.DevicePtr(off)
		s.ackBase = s.ack.Load()
	}
	if err := s.k.BootRegion(region, s.region.dev, ackD); err != nil {
		return err
	}
	return s.k.Launch()
}

// free stops the workers (waiting at most wait) and releases what boot
// acquired, in reverse: registrations before the context they belong to,
// mappings last (thread). A kernel that does not stop keeps everything:
// the device may still use it.
func (s *session) free(wait time.Duration) error {
	if s.k != nil {
		if err := s.k.Stop(wait); err != nil {
			return err
		}
	}
	errs := []error{s.ackMem.unregister(), s.region.unregister()}
	if s.k != nil {
		errs = append(errs, s.k.Close())
	}
	errs = append(errs, s.region.unmap())
	return errors.Join(errs...)
}

// quiescent reports whether host.rx is drained and the device idle, on two
// copies of the counters in a row (see Backend.Quiescent).
func (s *session) quiescent() bool {
	if !s.k.RxDrained() {
		return false
	}
	var a, c WorkerStats
	err := s.th.do(func() error {
		x, err := s.k.Stats()
		if err != nil {
			return err
		}
		y, err := s.k.Stats()
		a, c = Sum(x), Sum(y)
		return err
	})
	return err == nil && idle(a) && counts(a) == counts(c)
}

// idle reports whether every task that entered the device — taken from
// host.rx, or emitted there (locally, to the EVQ, to the host) — has
// ended: dispatched, or staged on host.tx.
func idle(w WorkerStats) bool { return w.Done+w.BridgeOut == w.BridgeIn+w.Emitted }

// counts are the counters that move only with tasks (idle rounds and
// timers move regardless).
func counts(w WorkerStats) [4]uint64 { return [4]uint64{w.Done, w.Emitted, w.BridgeIn, w.BridgeOut} }

// drain waits until the kernel is quiescent (true) or ctx ends (false).
func (s *session) drain(ctx context.Context) bool {
	tick := time.NewTicker(200 * time.Microsecond)
	defer tick.Stop()
	for !s.quiescent() {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}
