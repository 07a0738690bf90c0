//go:build linux

package daemon

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// statusPage is a small memfd the host shares with the daemon process, next
// to the bridge regions: one acknowledgement cell (link.Wire.Ack) per
// bridge region, each on a line of its own. The daemon's pumps store into
// the cells, the host's senders load them — atomics on shared memory, the
// same as the ring indices; no system call per acknowledgement.
type statusPage struct {
	f   *os.File
	mem []byte
}

// Layout of the status page.
const (
	cellStride = 128 // one cell per line pair (bridge.LineSize): no false sharing
	maxCells   = 32  // bridge regions a daemon can have
	pageSize   = cellStride * maxCells
)

// newStatusPage creates the page (the host).
func newStatusPage() (*statusPage, error) {
	fd, err := unix.MemfdCreate("gmk-gpud-status", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("daemon: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "gmk-gpud-status")
	if err := unix.Ftruncate(fd, pageSize); err != nil {
		f.Close()
		return nil, fmt.Errorf("daemon: ftruncate status page: %w", err)
	}
	return mapStatusPage(f)
}

// openStatusPage maps the page passed to the daemon process.
func openStatusPage(f *os.File) (*statusPage, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("daemon: fstat status page: %w", err)
	}
	if st.Size != pageSize {
		f.Close()
		return nil, fmt.Errorf("daemon: status page of %d bytes, want %d", st.Size, pageSize)
	}
	return mapStatusPage(f)
}

func mapStatusPage(f *os.File) (*statusPage, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("daemon: mmap status page: %w", err)
	}
	return &statusPage{f: f, mem: mem}, nil
}

// cell returns acknowledgement cell i (the mapping is page-aligned, so every
// cell is 8-byte aligned, as atomic.Uint64 needs).
func (p *statusPage) cell(i int) *atomic.Uint64 {
	return (*atomic.Uint64)(unsafe.Pointer(&p.mem[i*cellStride]))
}

// index returns the index of cell c, -1 when c is not one of the page's.
func (p *statusPage) index(c *atomic.Uint64) int {
	for i := range maxCells {
		if p.cell(i) == c {
			return i
		}
	}
	return -1
}

// close unmaps the page and closes its file.
func (p *statusPage) close() error {
	return errors.Join(unix.Munmap(p.mem), p.f.Close())
}
