//go:build cuda

package cuda

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/gmkernel/gmk/bridge"
)

// Booting: the kernel's state laid out in device memory, its bridge, the
// queues formatted, and seeding before the launch.

// layout hands out 256-byte aligned offsets of one allocation.
type layout struct{ n int64 }

func (l *layout) take(bytes int) int64 {
	off := l.n
	l.n += (int64(bytes) + 255) &^ 255
	return off
}

// Boot allocates and formats the kernel's state and its bridge, without
// launching the workers (Launch does, after an optional Seed). The bridge
// region is the kernel's own, in its mapped host memory; Bridge returns the
// host's end of it.
func (k *Kernel) Boot() error {
	c := k.cfg
	// Mapped host memory: ctl, heartbeats, then the bridge region page-aligned.
	brSize, err := bridge.RegionSize(c.Bridge)
	if err != nil {
		return err
	}
	// Tail words for DMA publications: at most one per slot in flight.
	maxTails := cmp.Or(c.Bridge.Capacity, bridge.DefaultCapacity)
	tailsOff := ctlSize + c.Workers*heartbeatSize
	hostHdr := pageUp(tailsOff + 8*maxTails)
	if k.host, k.hostD, err = hostAlloc(hostHdr + brSize); err != nil {
		return err
	}
	region := k.host[hostHdr:]
	if k.br, err = bridge.NewExternal("cuda", region, c.Bridge, nil); err != nil {
		return err
	}
	if err = refuseLL(region, c.RxMode); err != nil {
		return err
	}
	regionD := k.hostD + cu.DevicePtr(hostHdr)
	rx, err := k.rxPath(region, regionD, tailsOff, maxTails)
	if err != nil {
		return err
	}
	return k.bootState(region, regionD, rx, 0)
}

// BootRegion is Boot on a bridge region the caller owns: region is a
// formatted bridge region (bridge.Format) in host memory that the caller
// mapped into the device at regionD (hostRegister); the kernel is its side
// B — host.rx is ring A→B, read in place (RxMapped), host.tx ring B→A.
// ack, when not 0, is the device address of a uint64 in mapped host memory
// where worker 0 acknowledges the host.rx tasks it is done with
// (gmk_gpu_state_t.ack), starting from the value it holds at Launch. A nil
// region boots a kernel without a bridge. Bridge returns nil: the host's
// end is the caller's, and so are the region and the ack cell, which must
// stay mapped until Close.
func (k *Kernel) BootRegion(region []byte, regionD, ack cu.DevicePtr) error {
	if k.cfg.RxMode != RxMapped {
		return fmt.Errorf("cuda: rx mode %q with a caller's bridge region: only %q (the host's sender is not the kernel's)", k.cfg.RxMode, RxMapped)
	}
	var err error
	if k.host, k.hostD, err = hostAlloc(pageUp(ctlSize + k.cfg.Workers*heartbeatSize)); err != nil {
		return err
	}
	var rx uint64
	if region != nil {
		if len(region) < bridge.RegionHeaderSize {
			return fmt.Errorf("cuda: bridge region of %d bytes", len(region))
		}
		rx = uint64(regionD) + ringOff(region, bridge.RingAB)
	}
	return k.bootState(region, regionD, rx, ack)
}

// refuseLL refuses LL rings (bridge.Config.LL; gmk_bridge.h LL RINGS) with
// host.rx read through a device-memory mirror (RxDMA): the copy engine
// writes the mirror in no order the LL words could rely on, and the mirror
// is laid out for version-1 slots. Mapped rings of either format are the
// device's to read: worker 0 takes the format from each ring's flags
// (gmk_geom.ll, gmk_bridge_ll_dev.cuh), so no state field carries it.
func refuseLL(region []byte, mode RxMode) error {
	if mode != RxDMA || len(region) < bridge.RegionHeaderSize {
		return nil
	}
	off := ringOff(region, bridge.RingAB)
	if off+bridge.OffFlags+4 <= uint64(len(region)) && binary.LittleEndian.Uint32(region[off+bridge.OffFlags:])&bridge.FlagLL != 0 {
		return fmt.Errorf("cuda: rx mode %q with LL bridge rings: only %q", RxDMA, RxMapped)
	}
	return nil
}

// pageUp rounds n up to a multiple of the host page size (4 KiB).
func pageUp(n int) int { return (n + 4095) &^ 4095 }

// ringOff returns the offset of ring i in a formatted bridge region
// (gmk_bridge_region_t.ring_off).
func ringOff(region []byte, i int) uint64 { return binary.LittleEndian.Uint64(region[24+8*i:]) }

// rxPath returns the device address the workers read host.rx from: the ring
// in mapped host memory (RxMapped), or a device-memory mirror of it that
// each Publish of the host's sender updates by DMA (RxDMA; k.br is wrapped).
func (k *Kernel) rxPath(region []byte, regionD cu.DevicePtr, tailsOff, maxTails int) (uint64, error) {
	ringAB := ringOff(region, bridge.RingAB)
	switch k.cfg.RxMode {
	case RxMapped:
		return uint64(regionD) + ringAB, nil
	case RxDMA:
		hring := region[ringAB:]
		span := 512 + int64(binary.LittleEndian.Uint32(hring[8:]))*64 + int64(binary.LittleEndian.Uint64(hring[16:]))
		var err error
		if k.mirror, err = cu.MemAlloc(span); err != nil {
			return 0, fmt.Errorf("cuda: host.rx mirror: %w", err)
		}
		if err = cu.MemcpyHtoD(k.mirror, unsafe.Pointer(&hring[0]), span); err != nil {
			return 0, err
		}
		tails := unsafe.Slice((*uint64)(unsafe.Pointer(&k.host[tailsOff])), maxTails)
		k.br = &dmaTransport{Transport: k.br, s: &dmaSender{Sender: k.br.Sender(), k: k,
			hring: hring[:span], dring: k.mirror, tails: tails}}
		return uint64(k.mirror), nil
	}
	return 0, fmt.Errorf("cuda: rx mode %q: want %q or %q", k.cfg.RxMode, RxMapped, RxDMA)
}

// bootState lays the kernel's state out in device memory, fills
// gmk_gpu_state_t — the control block and heartbeats at the start of k.host,
// host.rx at rx, the rest of the bridge in region (device address regionD),
// the ack cell at ack — and formats the device queues (gmk_setup).
func (k *Kernel) bootState(region []byte, regionD cu.DevicePtr, rx uint64, ack cu.DevicePtr) error {
	c := k.cfg
	w, b := c.Workers, c.Buckets
	var l layout
	oState := l.take(stateSize)
	oLQ := l.take(w * mpmcSize)
	oGRQ := l.take(b * mpmcSize)
	oEg := l.take(mpmcSize)
	oStats := l.take(w * wstatSize)
	oTrace := l.take(w * c.TraceEntries * traceRecSize)
	oTracePos := l.take(w * 8)
	oPool := l.take(mpmcSize)
	oPoolCells := l.take(c.Payloads * cellSize)
	oEVQ := l.take(w * evqSize)
	oEVQInbox := l.take(w * c.EVQCap * evqCellSize)
	oEVQHeap := l.take(w * c.EVQCap * evqCellSize)
	oLQCells := l.take(w * c.LQCap * cellSize)
	oGRQCells := l.take(b * c.GRQCap * cellSize)
	oEgCells := l.take(c.EgressCap * cellSize)
	oArena := l.take(c.Payloads*c.PayloadBlock + c.BulkBlocks*c.BulkBlock) // the pool's blocks, then the bulk blocks
	oScratch := l.take(256)
	var err error
	if k.devMem, err = cu.MemAlloc(l.n); err != nil {
		return fmt.Errorf("cuda: %d MiB of device memory: %w", l.n>>20, err)
	}
	k.devLen = l.n
	if err = cu.MemsetD8(k.devMem, 0, oLQCells); err != nil { // headers and statistics; cells are formatted by gmk_setup
		return err
	}
	d := uint64(k.devMem)
	hd := uint64(k.hostD)
	traceMask := 0
	if c.TraceEntries > 0 {
		traceMask = c.TraceEntries - 1
	}
	k.region = region
	k.st = gpuState{
		nworkers: uint32(w), nbuckets: uint32(b), batch: uint32(c.Batch), rxBatch: uint32(c.RxBatch),
		traceMask: uint32(traceMask), traceSample: 6, payloadBlock: uint32(c.PayloadBlock), npayload: uint32(c.Payloads),
		ctl: hd, heartbeat: hd + ctlSize,
		lq: d + uint64(oLQ), grq: d + uint64(oGRQ), egress: d + uint64(oEg), stats: d + uint64(oStats),
		trace: d + uint64(oTrace), tracePos: d + uint64(oTracePos),
		arena: d + uint64(oArena), pool: d + uint64(oPool), evq: d + uint64(oEVQ), ack: uint64(ack),
		idleSleepMax: uint32(c.IdleSleep.Nanoseconds()), // at most 1 s (Open)
	}
	if err = k.bootBulk(); err != nil {
		return err
	}
	if region != nil {
		k.st.rx, k.st.rxHost = rx, uint64(regionD)+ringOff(region, bridge.RingAB)
		k.st.tx = uint64(regionD) + ringOff(region, bridge.RingBA)
	}
	k.stD = k.devMem + cu.DevicePtr(oState)
	k.scratch = k.devMem + cu.DevicePtr(oScratch)
	k.arenaD = k.devMem + cu.DevicePtr(oArena)
	st := new(gpuState) // its own allocation: cgo rejects a pointer into *Kernel, which holds Go pointers
	*st = k.st
	if err = cu.MemcpyHtoD(k.stD, unsafe.Pointer(st), int64(stateSize)); err != nil {
		return err
	}
	args := []uint64{uint64(k.stD), d + uint64(oLQCells), uint64(c.LQCap), d + uint64(oGRQCells), uint64(c.GRQCap),
		d + uint64(oEgCells), uint64(c.EgressCap), d + uint64(oPoolCells),
		d + uint64(oEVQInbox), d + uint64(oEVQHeap), uint64(c.EVQCap)}
	if err = k.launch(k.setup, k.SMs*4, 256, k.aux, args...); err != nil {
		return fmt.Errorf("cuda: gmk_setup: %w", err)
	}
	return k.aux.Synchronize()
}

// launch starts fn with 8-byte arguments.
func (k *Kernel) launch(fn cu.Function, grid, block int, s cu.Stream, args ...uint64) error {
	ps := make([]unsafe.Pointer, len(args))
	for i := range args {
		ps[i] = unsafe.Pointer(&args[i])
	}
	return fn.Launch(grid, 1, 1, block, 1, 1, 0, s, ps)
}

// Seed puts per tasks of typ (meta0 given, meta1 a distinct id) into every
// worker's LQ; call it after Boot, before Launch.
func (k *Kernel) Seed(typ uint32, meta0 uint64, per int) error {
	if per > k.cfg.LQCap {
		return fmt.Errorf("cuda: seed %d tasks per worker, LQ holds %d", per, k.cfg.LQCap)
	}
	if err := k.launch(k.seed, k.cfg.Workers, 32, k.aux, uint64(k.stD), uint64(typ), meta0, uint64(per)); err != nil {
		return err
	}
	return k.aux.Synchronize()
}
