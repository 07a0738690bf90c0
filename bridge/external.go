package bridge

// NewExternal formats mem as a bridge region for c and returns side A's
// transport over it, for memory that another party maps too and that the
// caller owns: pinned host memory the CUDA driver maps into the device
// (gpu/cuda), where the GPU kernel is side B in device code. mem must be
// LineSize-aligned and at least RegionSize(c) bytes; release, if not nil,
// runs once on Close (unregister, free). The peer is never woken by a futex
// from this side's point of view: a device peer polls, and this side's Wait
// sleeps at most a millisecond between checks.
func NewExternal(kind string, mem []byte, c Config, release func() error) (Transport, error) {
	if err := Format(mem, c); err != nil {
		return nil, err
	}
	reg, err := attach(mem)
	if err != nil {
		return nil, err
	}
	return newRingTransport(kind, reg, SideA, waker{shared: true}, release), nil
}
