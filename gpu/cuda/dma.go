//go:build cuda

package cuda

import (
	"sync/atomic"
	"time"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/kernel/task"
)

// RxMode selects how host.rx reaches the device.
type RxMode string

const (
	// RxMapped: the device polls and reads the ring in pinned host memory
	// (zero copy): the lowest latency, one PCIe read per slot batch.
	RxMapped RxMode = "mapped"
	// RxDMA: each Publish copies the new slots and payload bytes into a
	// device-memory mirror of the ring with the copy engine, tail last; the
	// device polls device memory. Bulk payloads move at copy-engine speed.
	RxDMA RxMode = "dma"
)

// dmaTransport is the host's bridge end in DMA mode: its Sender copies what
// each Publish made visible into the device mirror.
type dmaTransport struct {
	bridge.Transport
	s *dmaSender
}

func (t *dmaTransport) Sender() bridge.Sender { return t.s }

// dmaSender wraps the ring's Sender: Stage writes pinned host memory as
// always; Publish then pushes the published range to the device.
type dmaSender struct {
	bridge.Sender
	k       *Kernel
	hring   []byte       // host.rx's ring in pinned host memory
	dring   cu.DevicePtr // its device mirror
	tails   []uint64     // pinned words for the tail copies, one per publication in flight
	next    int
	last    uint64 // tail pushed so far
	lastStg uint64 // stage_tail pushed so far
	err     error  // the first copy failure: the device can no longer see host.rx
}

func (s *dmaSender) Publish() int {
	n := s.Sender.Publish()
	if n == 0 || s.err != nil {
		return n
	}
	tail := (*atomic.Uint64)(unsafe.Pointer(&s.hring[128])).Load()
	stg := (*atomic.Uint64)(unsafe.Pointer(&s.hring[136])).Load()
	buf := &s.tails[s.next]
	s.next = (s.next + 1) % len(s.tails)
	s.err = rxPush(s.k.ctx, s.k.aux, s.dring, unsafe.Pointer(&s.hring[0]), s.last, tail, s.lastStg, stg, buf)
	s.last, s.lastStg = tail, stg
	return n
}

// Stage refuses once a copy failed: tasks staged now could never reach the device.
func (s *dmaSender) Stage(t *task.Task, payload []byte) error {
	if s.err != nil {
		return bridge.ErrClosed
	}
	return s.Sender.Stage(t, payload)
}

func (s *dmaSender) Wait(max time.Duration) bool { return s.Sender.Wait(max) }
