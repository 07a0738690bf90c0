//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
	"gorgonia.org/cu"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/gpu"
)

// The host memory the device is given: bridge regions (memfds, as the GPU
// daemon's host makes them: DESIGN.md decision 7) and the page of the Ack
// cells, both registered with the driver at Boot (cuMemHostRegister,
// DEVICEMAP) so the device reads and writes them in place, and unregistered
// at Halt or Reset. In the daemon the region arrives as an inherited memfd
// and the Ack cell lives in the host's status page; in process, NewBridge
// makes both. The region is mapped a second time for the driver — the
// transport's own mapping is the bridge package's — so the same pages are
// shared by the host's end, the daemon's end and the device.

// ackStride separates the Ack cells of NewBridge's page: one per line pair
// (bridge.LineSize), as the daemon's status page lays them out.
const ackStride = 128

// NewBridge implements gpu.Bridger: a shared-memory region (bridge.NewShm,
// both ends: the device is its side B) and an Ack cell in a page of this
// backend's, which Boot registers with the driver. The device kernel
// serves one transport; Boot rejects wires over more than one, naming
// their channels.
func (b *Backend) NewBridge(c bridge.Config) (gpu.Bridge, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.acks == nil {
		mem, err := unix.Mmap(-1, 0, os.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
		if err != nil {
			return gpu.Bridge{}, fmt.Errorf("cuda: acknowledgement page: %w", err)
		}
		b.acks = mem
	}
	if (b.used+1)*ackStride > len(b.acks) {
		return gpu.Bridge{}, fmt.Errorf("cuda: more than %d bridge regions", len(b.acks)/ackStride)
	}
	br, err := gpu.ShmBridge(c, (*atomic.Uint64)(unsafe.Pointer(&b.acks[b.used*ackStride])))
	if err == nil {
		b.used++
	}
	return br, err
}

// RenewBridge implements gpu.Bridger: after a Reset the region is
// formatted for the next epoch in place (bridge.Shm.Reformat: sequences
// continue) and its Ack cell set to 0. No kernel may run.
func (b *Backend) RenewBridge(old gpu.Bridge, _ bridge.Config) (gpu.Bridge, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur != nil {
		return gpu.Bridge{}, errors.New("cuda: renew bridge while the kernel runs")
	}
	return gpu.RenewShmBridge(old)
}

// freeAcks unmaps NewBridge's page of Ack cells (Halt) — unless a kernel
// that could not be stopped may still write it.
func (b *Backend) freeAcks() {
	if b.acks == nil || b.broken != nil {
		return
	}
	_ = unix.Munmap(b.acks)
	b.acks, b.used = nil, 0
}

// hostMem is host memory the device reaches once registered.
type hostMem struct {
	mem   []byte       // whole pages
	dev   cu.DevicePtr // its device address while registered; 0: not registered
	owned bool         // mem is this package's own mapping: unmapped after unregistering
}

// register pins mem and maps it into the device (the context's thread).
func (h *hostMem) register() error {
	d, err := hostRegister(h.mem)
	h.dev = d
	return err
}

// unregister undoes register (before the context is released).
func (h *hostMem) unregister() error {
	if h.dev == 0 {
		return nil
	}
	h.dev = 0
	return hostUnregister(h.mem)
}

// unmap releases an owned mapping.
func (h *hostMem) unmap() error {
	if !h.owned || h.mem == nil {
		return nil
	}
	err := unix.Munmap(h.mem)
	h.mem = nil
	return err
}

// mapRegion maps the bridge region in memfd f (whole pages, shared) and
// returns the mapping and the region's size.
func mapRegion(f *os.File) ([]byte, int, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, 0, fmt.Errorf("cuda: bridge region: fstat: %w", err)
	}
	size := int(st.Size)
	if size < bridge.RegionHeaderSize {
		return nil, 0, fmt.Errorf("cuda: bridge region of %d bytes", size)
	}
	ps := os.Getpagesize()
	mem, err := unix.Mmap(int(f.Fd()), 0, (size+ps-1)/ps*ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, 0, fmt.Errorf("cuda: bridge region: mmap: %w", err)
	}
	return mem, size, nil
}

// pageOf returns the page holding cell and the cell's offset in it. The
// cell must live in memory mapped with mmap — NewBridge's page, the GPU
// daemon's status page — never in the Go heap: the page is registered
// with the driver as a whole.
func pageOf(cell *atomic.Uint64) ([]byte, int) {
	ps := os.Getpagesize()
	off := int(uintptr(unsafe.Pointer(cell)) % uintptr(ps))
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(cell), -off)), ps), off
}
