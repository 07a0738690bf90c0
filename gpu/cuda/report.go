//go:build cuda

package cuda

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/kernel"
)

// Halt implements gpu.Backend: it waits until the kernel is quiescent or
// ctx ends (the caller makes the system quiescent first, for a loss-free
// halt), stops the workers (StopWait), reads their final counts and frees
// the device state, the registrations and the mappings ([K2]). It also
// frees the Ack cells NewBridge handed out, as the GPU daemon's Halt does
// with its status page: they must not be used afterwards (gpu/system stops
// its bridge end first). Without a running kernel it only frees those,
// and returns ErrNotBooted.
func (b *Backend) Halt(ctx context.Context) (gpu.HaltReport, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.freeAcks()
	s := b.cur
	if s == nil {
		return gpu.HaltReport{}, gpu.ErrNotBooted
	}
	var errs []error
	if !s.drain(ctx) {
		errs = append(errs, fmt.Errorf("cuda: halt %s: drain cut short: %w", b.info.ID, ctx.Err()))
	}
	r, err := b.end(s, b.cfg.StopWait)
	return r, errors.Join(append(errs, err)...)
}

// Reset implements gpu.Backend: both rings of the bridge are closed
// (CHAN_CLOSED on both sides), the workers are told to stop and get at
// most StopWait, or what ctx leaves (at least 10 ms); what the kernel held
// is counted queued and freed with it, and the backend can Boot again.
// Workers that do not stop — a handler that never returns — leave the
// kernel running: the report is Lost (its bridge ends counted from the
// rings), the error wraps ErrBroken and ErrHung, and Boot fails from then
// on, because only the end of the process frees the device (Kernel.Close).
func (b *Backend) Reset(ctx context.Context) (gpu.HaltReport, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.cur
	if s == nil {
		return gpu.HaltReport{}, errors.Join(gpu.ErrNotBooted, b.broken) // still says why, after a kernel that hung
	}
	if s.t != nil {
		s.t.Disconnect()
	}
	wait := b.cfg.StopWait
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, max(time.Until(dl), 10*time.Millisecond))
	}
	return b.end(s, wait)
}

// end stops s (waiting at most wait), takes its report, unpublishes and
// frees it. A kernel that does not stop, or that faulted, is left as it
// is and breaks the backend (ErrBroken).
func (b *Backend) end(s *session, wait time.Duration) (gpu.HaltReport, error) {
	var w WorkerStats
	var live int
	err := s.th.do(func() error {
		if err := s.k.Stop(wait); err != nil {
			return err
		}
		ws, err := s.k.Stats()
		if err != nil {
			return err
		}
		w = Sum(ws)
		live, err = s.k.LivePayloads()
		return err
	})
	b.live.Lock()
	b.cur = nil
	b.live.Unlock()
	if err != nil {
		b.broken = fmt.Errorf("%w: %w", ErrBroken, err)
		s.th.end() // the kernel, its memory and the registrations stay behind
		return gpu.HaltReport{Links: s.links(b.info.ID, true), Lost: true}, b.broken
	}
	r, cerr := s.report(b.info.ID, w, live)
	ferr := s.th.do(func() error { return s.free(wait) })
	s.th.end()
	return r, errors.Join(cerr, ferr)
}

// report is the final report of a kernel that stopped, from the workers'
// counters w (kernel.HaltReport) and the rings (its bridge ends), with a
// check that the two agree. The device's accounting: tasks enter from
// host.rx (Submitted: BridgeIn) or by an emit on the device (Emitted:
// local, EVQ and host-bound emits); they end dispatched (Done: of which
// Unknown and Failed, a handler's failure or a payload too large for a
// device block, are Errored) or staged on host.tx (BridgeOut, Completed
// like a CPU kernel's relay delivery); the rest was still queued (LQ, GRQ,
// EVQ, egress) when the workers stopped. LivePayloads counts the device's
// payload blocks out of its pool beyond one per queued task.
func (s *session) report(id string, w WorkerStats, live int) (gpu.HaltReport, error) {
	errored := min(w.Unknown+w.Failed, w.Done)
	created, ended := w.BridgeIn+w.Emitted, w.Done+w.BridgeOut
	st := kernel.Stats{Submitted: w.BridgeIn, Emitted: w.Emitted, Completed: ended - errored, Errored: errored}
	r := gpu.HaltReport{Kernel: kernel.HaltReport{Stats: st}, Links: s.links(id, false), LivePayloads: live}
	var errs []error
	if created >= ended {
		r.Kernel.Queued = created - ended
		// A queued task holds at most one block, freed with the device's
		// memory: only blocks beyond those were kept by a module (exact
		// when nothing is queued, as after a quiescent halt).
		r.LivePayloads = max(0, live-int(r.Kernel.Queued))
	} else {
		errs = append(errs, fmt.Errorf("%d tasks ended, %d entered", ended, created))
	}
	if s.t != nil {
		if n := s.ring(bridge.RingAB).load(offConsSeq) - s.rxBase; n != w.BridgeIn {
			errs = append(errs, fmt.Errorf("host.rx: the workers took %d tasks, the ring says %d were released", w.BridgeIn, n))
		}
		if n := s.ring(bridge.RingBA).load(offProdSeq) - s.txBase; n != w.BridgeOut {
			errs = append(errs, fmt.Errorf("host.tx: the workers staged %d tasks, the ring says %d were published", w.BridgeOut, n))
		}
	}
	if s.ack != nil {
		if n := s.ack.Load() - s.ackBase; n != w.BridgeIn {
			errs = append(errs, fmt.Errorf("host.rx: %d tasks acknowledged of %d taken", n, w.BridgeIn))
		}
	}
	if len(errs) > 0 {
		return r, fmt.Errorf("cuda: %s: the device's counters disagree: %w", id, errors.Join(errs...))
	}
	return r, nil
}

// links returns the kernel's ends of its bridge channels, counted from the
// ring headers (mapped host memory: no driver call, so it answers while the
// device is hung): an incoming channel received what the device released
// of host.rx, and delivered it — the device dispatches what it takes in
// the round that takes it; Acked is what it acknowledged. An outgoing one
// took and sent what the device published on host.tx; what handlers
// emitted for the host and the egress ring still holds is not counted
// until published. Transfers are the rings' release and publication
// counts. lost: the kernel could not be stopped, so whether what it took
// was handled is not known — it is counted Lost (as the GPU daemon's host
// counts a killed daemon's).
func (s *session) links(id string, lost bool) []link.Stats {
	if s.t == nil {
		return nil
	}
	out := make([]link.Stats, 0, len(s.wires))
	for _, w := range s.wires {
		l := link.Stats{Chan: w.Chan.Spec.Name, Kernel: id, Transport: s.t.Kind()}
		if w.Chan.From == id {
			r := s.ring(bridge.RingBA)
			n := r.load(offProdSeq) - s.txBase
			l.Dir, l.Peer, l.Taken, l.Sent, l.Transfers, l.Down = link.Out, w.Chan.To, n, n, r.load(offTransfers), r.closed()
		} else {
			r := s.ring(bridge.RingAB)
			n := r.load(offConsSeq) - s.rxBase
			l.Dir, l.Peer, l.Received, l.Transfers, l.Down = link.In, w.Chan.From, n, r.load(offReleases), r.closed()
			if lost {
				l.Lost = n
			} else {
				l.Delivered = n
			}
			if s.ack != nil {
				l.Acks, l.Acked = true, s.ack.Load()-s.ackBase
			}
		}
		out = append(out, l)
	}
	return out
}

// Offsets in gmk_bridge_ring_t (kernels/include/gmk_bridge.h; bridge/abi.go
// mirrors the header and its test pins it) of the words links reads.
const (
	offProdSeq   = bridge.OffTail + 16 // prod_seq: the seq the producer's next task carries
	offTransfers = bridge.OffTail + 24 // transfers: the producer's publications
	offConsSeq   = bridge.OffHead + 16 // cons_seq: the seq the consumer expects next
	offReleases  = bridge.OffHead + 24 // releases: the consumer's releases
)

// ringView is one ring's header in the session's mapping of the region.
type ringView []byte

// ring returns ring i's header.
func (s *session) ring(i int) ringView {
	off := ringOff(s.region.mem, i)
	return ringView(s.region.mem[off : off+bridge.RingHeaderSize])
}

// load reads the 64-bit word at off (an atomic load: the device and the
// host write these).
func (r ringView) load(off int) uint64 { return (*atomic.Uint64)(unsafe.Pointer(&r[off])).Load() }

// closed reports the ring's GMK_BRIDGE_CLOSED flag.
func (r ringView) closed() bool {
	return (*atomic.Uint32)(unsafe.Pointer(&r[bridge.OffFlags])).Load()&bridge.FlagClosed != 0
}
