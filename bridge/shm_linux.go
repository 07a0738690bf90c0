//go:build linux

package bridge

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Shm is a bridge transport over shared memory between two processes: a memfd
// holding one bridge region, mapped by both (DESIGN.md decision 7). Tasks cross
// by the ring protocol alone — no system call per task or per batch; a futex
// wakes a side only when it went to sleep.
//
// The creator (NewShm, side A) passes File to its peer process, typically as
// an exec.Cmd ExtraFiles entry; the peer maps it with OpenShm (side B).
type Shm struct {
	*ringTransport
	f *os.File
}

var _ Transport = (*Shm)(nil)

// NewShm creates a memfd sized and formatted for c, maps it, and returns side A.
func NewShm(c Config) (*Shm, error) {
	size, err := RegionSize(c)
	if err != nil {
		return nil, err
	}
	fd, err := unix.MemfdCreate("gmk-bridge", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("bridge: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "gmk-bridge")
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		f.Close()
		return nil, fmt.Errorf("bridge: ftruncate memfd: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("bridge: mmap memfd: %w", err)
	}
	s, err := mapShm(f, mem, SideA, func() error { return Format(mem, c) })
	if err != nil {
		return nil, err
	}
	return s, nil
}

// OpenShm maps the bridge region in f, created by NewShm in another process,
// and returns side B. The returned Shm owns f and closes it on Close.
func OpenShm(f *os.File) (*Shm, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("bridge: fstat %s: %w", f.Name(), err)
	}
	if st.Size < RegionHeaderSize || st.Size > int64(^uint(0)>>1) {
		return nil, fmt.Errorf("%w: %s holds %d bytes", ErrBadRegion, f.Name(), st.Size)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("bridge: mmap %s: %w", f.Name(), err)
	}
	return mapShm(f, mem, SideB, nil)
}

// mapShm runs format (if any), attaches the mapped region and builds the
// transport; on failure it unmaps mem and closes f.
func mapShm(f *os.File, mem []byte, side Side, format func() error) (*Shm, error) {
	release := func() error { return errors.Join(unix.Munmap(mem), f.Close()) }
	if format != nil {
		if err := format(); err != nil {
			release()
			return nil, err
		}
	}
	reg, err := attach(mem)
	if err != nil {
		release()
		return nil, err
	}
	return &Shm{ringTransport: newRingTransport("shm", reg, side, waker{shared: true}, release), f: f}, nil
}

// File returns the memfd holding the region, to hand to the peer process. It
// stays owned by s: it is closed by Close.
func (s *Shm) File() *os.File { return s.f }

// Reformat formats s's region afresh for epoch e (NextEpoch of States)
// after the peer process died or was killed, and returns the new side A
// over the same memfd; hand File to the peer's successor as before. Neither
// side may use the region while it is formatted: the peer is gone, and s —
// which Reformat retires — must not be used any more by this process either.
// Closing the retired s does nothing; Close the returned Shm instead.
func (s *Shm) Reformat(e Epoch) (*Shm, error) {
	h := s.reg.rings[RingAB].hdr
	c := Config{Capacity: int(h.capacity), Staging: int(h.stagingSize), LL: s.reg.rings[RingAB].ll}
	mem := s.reg.mem
	if err := FormatEpoch(mem, c, e); err != nil {
		return nil, err
	}
	reg, err := attach(mem)
	if err != nil {
		return nil, err
	}
	release := s.release
	s.once.Do(func() {}) // retired: its Close must not unmap what the new epoch uses
	return &Shm{ringTransport: newRingTransport("shm", reg, SideA, waker{shared: true}, release), f: s.f}, nil
}
