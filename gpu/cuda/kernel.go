//go:build cuda

package cuda

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/gmkernel/gmk/bridge"
)

// Config sizes a GMK/gpu kernel. Zero fields take defaults.
type Config struct {
	Ordinal      int           // device index
	PTX          string        // the kernel image (PTX text); required
	Workers      int           // resident worker blocks; default: SMs × resident blocks per SM
	Threads      int           // threads per worker block; default 256
	Batch        int           // tasks per gathered batch ([G3]); default 32
	RxBatch      int           // tasks worker 0 takes from host.rx per round; default 128
	Buckets      int           // GRQ type buckets; default 16
	LQCap        int           // slots per LQ (power of two); default 4096
	GRQCap       int           // slots per GRQ bucket; default 65536
	EgressCap    int           // slots of the egress ring; default 262144
	PayloadBlock int           // bytes per device payload block (a multiple of 16); default 16 KiB
	Payloads     int           // payload blocks (a power of two); default 4096
	TraceEntries int           // trace records per worker (power of two, 0 = off); default 1024
	EVQCap       int           // events per worker EVQ (power of two); default 1024
	Bridge       bridge.Config // the host.rx/host.tx rings
	RxMode       RxMode        // how host.rx reaches the device; default RxMapped
}

func (c Config) withDefaults() Config {
	c.Threads = cmp.Or(c.Threads, 256)
	c.Batch = cmp.Or(c.Batch, 32)
	c.RxBatch = cmp.Or(c.RxBatch, 128)
	c.Buckets = cmp.Or(c.Buckets, 16)
	c.LQCap = cmp.Or(c.LQCap, 4096)
	c.GRQCap = cmp.Or(c.GRQCap, 65536)
	c.EgressCap = cmp.Or(c.EgressCap, 1<<18)
	c.PayloadBlock = cmp.Or(c.PayloadBlock, 16<<10)
	c.Payloads = cmp.Or(c.Payloads, 4096)
	c.TraceEntries = cmp.Or(c.TraceEntries, 1024)
	c.EVQCap = cmp.Or(c.EVQCap, 1024)
	c.RxMode = cmp.Or(c.RxMode, RxMapped)
	return c
}

// maxBatch is GMK_MAX_BATCH in gmk_kernel.cu.
const maxBatch = 128

// Kernel is one GMK/gpu kernel on one device.
type Kernel struct {
	cfg     Config
	dev     cu.Device
	ctx     cu.CUContext
	mod     cu.Module
	worker  cu.Function
	setup   cu.Function
	seed    cu.Function
	oneTask cu.Function
	probe   cu.Function
	stream  cu.Stream // the persistent kernel's
	aux     cu.Stream // setup, copies and the launch baseline

	host    []byte       // mapped host memory: ctl, heartbeats, bridge region
	hostD   cu.DevicePtr // its device address
	devMem  cu.DevicePtr // one device allocation for the whole state
	devLen  int64
	scratch cu.DevicePtr // 256 bytes for probes
	mirror  cu.DevicePtr // host.rx's device mirror (RxDMA)
	arenaD  cu.DevicePtr // the payload arena (the DMA probe's target)
	st      gpuState
	stD     cu.DevicePtr
	br      bridge.Transport

	Name    string // device name
	SMs     int    // multiprocessors
	running atomic.Bool
}

// Open retains device ordinal's primary context on the calling goroutine,
// which it locks to its OS thread, and loads the kernel image.
func Open(cfg Config) (*Kernel, error) {
	cfg = cfg.withDefaults()
	if cfg.PTX == "" {
		return nil, errors.New("cuda: no kernel image (Config.PTX)")
	}
	if cfg.Batch > maxBatch || cfg.RxBatch > maxBatch || cfg.Threads < maxBatch || cfg.Threads%32 != 0 {
		return nil, fmt.Errorf("cuda: batch %d, rx batch %d (max %d), threads %d (a multiple of 32, at least %d)",
			cfg.Batch, cfg.RxBatch, maxBatch, cfg.Threads, maxBatch)
	}
	for name, v := range map[string]int{"Payloads": cfg.Payloads, "LQCap": cfg.LQCap, "GRQCap": cfg.GRQCap, "EgressCap": cfg.EgressCap, "EVQCap": cfg.EVQCap} {
		if v&(v-1) != 0 {
			return nil, fmt.Errorf("cuda: %s %d: want a power of two", name, v)
		}
	}
	if cfg.PayloadBlock%16 != 0 {
		return nil, fmt.Errorf("cuda: PayloadBlock %d: want a multiple of 16", cfg.PayloadBlock)
	}
	runtime.LockOSThread()
	k := &Kernel{cfg: cfg}
	var err error
	if k.dev, err = cu.GetDevice(cfg.Ordinal); err != nil {
		return nil, fmt.Errorf("cuda: device %d: %w", cfg.Ordinal, err)
	}
	k.Name, _ = k.dev.Name()
	if k.SMs, err = k.dev.Attribute(cu.MultiprocessorCount); err != nil {
		return nil, err
	}
	if k.ctx, err = k.dev.RetainPrimaryCtx(); err != nil {
		return nil, fmt.Errorf("cuda: primary context: %w", err)
	}
	if err = cu.SetCurrentContext(k.ctx); err != nil {
		return nil, err
	}
	if k.mod, err = cu.LoadData(cfg.PTX); err != nil {
		return nil, fmt.Errorf("cuda: load PTX: %w", err)
	}
	for name, fn := range map[string]*cu.Function{"gmk_worker": &k.worker, "gmk_setup": &k.setup, "gmk_seed": &k.seed, "gmk_one_task": &k.oneTask, "gmk_probe_read": &k.probe} {
		if *fn, err = k.mod.Function(name); err != nil {
			return nil, fmt.Errorf("cuda: kernel image lacks %s: %w", name, err)
		}
	}
	if k.stream, err = cu.MakeStream(cu.NonBlocking); err != nil {
		return nil, err
	}
	if k.aux, err = cu.MakeStream(cu.NonBlocking); err != nil {
		return nil, err
	}
	if k.cfg.Workers == 0 {
		per, err := k.worker.MaxActiveBlocksPerMultiProcessor(cfg.Threads, 0)
		if err != nil {
			return nil, err
		}
		k.cfg.Workers = k.SMs * max(1, per)
	}
	return k, nil
}

// Workers returns the resident worker blocks.
func (k *Kernel) Workers() int { return k.cfg.Workers }

// layout hands out 256-byte aligned offsets of one allocation.
type layout struct{ n int64 }

func (l *layout) take(bytes int) int64 {
	off := l.n
	l.n += (int64(bytes) + 255) &^ 255
	return off
}

// Boot allocates and formats the kernel's state and its bridge, without
// launching the workers (Launch does, after an optional Seed).
func (k *Kernel) Boot() error {
	c := k.cfg
	w, b := c.Workers, c.Buckets
	// Mapped host memory: ctl, heartbeats, then the bridge region page-aligned.
	brSize, err := bridge.RegionSize(c.Bridge)
	if err != nil {
		return err
	}
	maxTails := 1 << 24 // tail words for DMA publications: at most one per slot in flight
	if c.Bridge.Capacity > 0 {
		maxTails = c.Bridge.Capacity
	} else {
		maxTails = bridge.DefaultCapacity
	}
	tailsOff := ctlSize + w*heartbeatSize
	hostHdr := (tailsOff + 8*maxTails + 4095) &^ 4095
	if k.host, k.hostD, err = hostAlloc(hostHdr + brSize); err != nil {
		return err
	}
	region := k.host[hostHdr:]
	if k.br, err = bridge.NewExternal("cuda", region, c.Bridge, nil); err != nil {
		return err
	}
	ringAB := binary.LittleEndian.Uint64(region[24:])
	ringBA := binary.LittleEndian.Uint64(region[32:])
	rxHost := uint64(k.hostD) + uint64(hostHdr) + ringAB
	rx := rxHost
	if c.RxMode == RxDMA {
		hring := region[ringAB:]
		span := 512 + int64(binary.LittleEndian.Uint32(hring[8:]))*64 + int64(binary.LittleEndian.Uint64(hring[16:]))
		if k.mirror, err = cu.MemAlloc(span); err != nil {
			return fmt.Errorf("cuda: host.rx mirror: %w", err)
		}
		if err = cu.MemcpyHtoD(k.mirror, unsafe.Pointer(&hring[0]), span); err != nil {
			return err
		}
		rx = uint64(k.mirror)
		tails := unsafe.Slice((*uint64)(unsafe.Pointer(&k.host[tailsOff])), maxTails)
		k.br = &dmaTransport{Transport: k.br, s: &dmaSender{Sender: k.br.Sender(), k: k,
			hring: hring[:span], dring: k.mirror, tails: tails}}
	} else if c.RxMode != RxMapped {
		return fmt.Errorf("cuda: rx mode %q: want %q or %q", c.RxMode, RxMapped, RxDMA)
	}

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
	oArena := l.take(c.Payloads * c.PayloadBlock)
	oScratch := l.take(256)
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
	k.st = gpuState{
		nworkers: uint32(w), nbuckets: uint32(b), batch: uint32(c.Batch), rxBatch: uint32(c.RxBatch),
		traceMask: uint32(traceMask), traceSample: 6, payloadBlock: uint32(c.PayloadBlock), npayload: uint32(c.Payloads),
		ctl: hd, heartbeat: hd + ctlSize,
		rx: rx, rxHost: rxHost, tx: hd + uint64(hostHdr) + ringBA,
		lq: d + uint64(oLQ), grq: d + uint64(oGRQ), egress: d + uint64(oEg), stats: d + uint64(oStats),
		trace: d + uint64(oTrace), tracePos: d + uint64(oTracePos),
		arena: d + uint64(oArena), pool: d + uint64(oPool), evq: d + uint64(oEVQ),
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

// Launch starts the resident workers ([G1]): one block each, on the
// kernel's own stream; it returns at once.
func (k *Kernel) Launch() error {
	k.ctlStop().Store(0)
	if err := k.launch(k.worker, k.cfg.Workers, k.cfg.Threads, k.stream, uint64(k.stD)); err != nil {
		return fmt.Errorf("cuda: launch gmk_worker: %w", err)
	}
	k.running.Store(true)
	return nil
}

// RxDrained reports whether the device has released every task published
// on host.rx (the ring's head reached its tail; mapped host memory).
func (k *Kernel) RxDrained() bool {
	h := k.rxRing()
	return (*atomic.Uint64)(unsafe.Pointer(&h[256])).Load() == (*atomic.Uint64)(unsafe.Pointer(&h[128])).Load()
}

// rxRing returns host.rx's ring header bytes.
func (k *Kernel) rxRing() []byte {
	off := k.st.rxHost - uint64(k.hostD)
	return k.host[off : off+512]
}

// Bridge returns the host's end (side A) of host.rx / host.tx.
func (k *Kernel) Bridge() bridge.Transport { return k.br }

// ctlStop is the stop word of the mapped control block.
func (k *Kernel) ctlStop() *atomic.Uint32 { return (*atomic.Uint32)(unsafe.Pointer(&k.host[0])) }

// Heartbeats returns each worker's heartbeat count (mapped host memory; no
// driver call, so it works while the device is hung).
func (k *Kernel) Heartbeats(dst []uint64) []uint64 {
	dst = dst[:0]
	for i := range k.cfg.Workers {
		p := (*atomic.Uint64)(unsafe.Pointer(&k.host[ctlSize+i*heartbeatSize]))
		dst = append(dst, p.Load())
	}
	return dst
}

// Stop sets the stop flag and waits up to max for the workers to leave
// their loops. ErrHung when they do not (a handler that never returns).
func (k *Kernel) Stop(max time.Duration) error {
	if !k.running.Load() {
		return nil
	}
	k.ctlStop().Store(1)
	deadline := time.Now().Add(max)
	for {
		err := k.stream.Query()
		if err == nil {
			k.running.Store(false)
			return nil
		}
		if !errors.Is(err, cu.NotReady) {
			k.running.Store(false)
			return fmt.Errorf("cuda: gmk_worker: %w", err)
		}
		if time.Now().After(deadline) {
			return ErrHung
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// ErrHung reports workers that did not stop: the device must be reset.
var ErrHung = errors.New("cuda: workers did not stop")

// Stats copies every worker's counters out of device memory (on the aux
// stream, so it works while the workers run).
func (k *Kernel) Stats() ([]WorkerStats, error) {
	out := make([]WorkerStats, k.cfg.Workers)
	if err := cu.MemcpyDtoHAsync(unsafe.Pointer(&out[0]), cu.DevicePtr(k.st.stats), int64(len(out)*wstatSize), k.aux); err != nil {
		return nil, err
	}
	return out, k.aux.Synchronize()
}

// Sum adds up worker statistics.
func Sum(ws []WorkerStats) WorkerStats {
	var s WorkerStats
	for _, w := range ws {
		s.Done += w.Done
		s.Batches += w.Batches
		s.Idle += w.Idle
		s.Unknown += w.Unknown
		s.Failed += w.Failed
		s.Emitted += w.Emitted
		s.EmitFull += w.EmitFull
		s.BridgeIn += w.BridgeIn
		s.BridgeOut += w.BridgeOut
		s.BridgeGap += w.BridgeGap
		s.PayloadFail += w.PayloadFail
		s.Rounds += w.Rounds
		s.NsGather += w.NsGather
		s.NsDispatch += w.NsDispatch
		s.NsFlush += w.NsFlush
		s.NsEgress += w.NsEgress
		s.EvqFired += w.EvqFired
	}
	return s
}

// LaunchBaseline launches the one-task kernel n times from C — the cost of
// one kernel launch per task, the baseline the persistent kernel is measured
// against — and returns the elapsed time (launches queued back to back, then
// one synchronize; with sync, a synchronize after each).
func (k *Kernel) LaunchBaseline(n int, sync bool) (time.Duration, error) {
	counter := uint64(k.scratch) + 128 // a scratch word the one-task kernel bumps
	if err := launchLoop(k.oneTask, k.aux, uint64(k.stD), counter, 100, true); err != nil {
		return 0, err
	}
	start := time.Now()
	if err := launchLoop(k.oneTask, k.aux, uint64(k.stD), counter, n, sync); err != nil {
		return 0, err
	}
	if err := k.aux.Synchronize(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// ProbeRead returns the mean latency of one device read of mapped host
// memory (n dependent reads by one thread; the workers must not run).
func (k *Kernel) ProbeRead(n int) (time.Duration, error) {
	if err := k.launch(k.probe, 1, 1, k.aux, uint64(k.hostD)+64, uint64(n), uint64(k.scratch)); err != nil {
		return 0, err
	}
	o := new([2]uint64)
	if err := cu.MemcpyDtoHAsync(unsafe.Pointer(o), k.scratch, 16, k.aux); err != nil {
		return 0, err
	}
	if err := k.aux.Synchronize(); err != nil {
		return 0, err
	}
	return time.Duration(o[0]), nil
}

// ProbeHostWrite returns the bytes/s of the CPU copying into the kernel's
// pinned, device-mapped host memory and into ordinary Go memory (the same
// size, 64-byte blocks as the bridge producer writes slots): how much the
// host side of a mapped bridge pays for the mapping.
func (k *Kernel) ProbeHostWrite(reps int) (pinned, heap float64) {
	dst := k.host[len(k.host)-(8<<20):]
	heapDst := make([]byte, len(dst))
	src := make([]byte, 64)
	run := func(d []byte) float64 {
		start := time.Now()
		for range reps {
			for o := 0; o+64 <= len(d); o += 64 {
				copy(d[o:o+64], src)
			}
		}
		return float64(len(d)) * float64(reps) / time.Since(start).Seconds()
	}
	run(dst)
	return run(dst), run(heapDst)
}

// ProbeDMA copies bytes from pinned host memory (the bridge region) to the
// payload arena with the copy engine, reps times, and returns bytes/s: the
// bulk PCIe ceiling a batched-copy bridge transport would have.
func (k *Kernel) ProbeDMA(bytes, reps int) (float64, error) {
	bytes = min(bytes, len(k.host), k.cfg.Payloads*k.cfg.PayloadBlock)
	src := unsafe.Pointer(&k.host[0])
	if err := cu.MemcpyHtoDAsync(k.arenaD, src, int64(bytes), k.aux); err != nil {
		return 0, err
	}
	if err := k.aux.Synchronize(); err != nil {
		return 0, err
	}
	start := time.Now()
	for range reps {
		if err := cu.MemcpyHtoDAsync(k.arenaD, src, int64(bytes), k.aux); err != nil {
			return 0, err
		}
	}
	if err := k.aux.Synchronize(); err != nil {
		return 0, err
	}
	return float64(bytes) * float64(reps) / time.Since(start).Seconds(), nil
}

// Close stops the workers (if they run), frees device and host memory, and
// releases the context. Workers that do not stop (a hung handler) leave the
// context unusable: the driver's context reset waits for the running kernel
// (measured on an H100: cuDevicePrimaryCtxReset blocks for as long as the
// kernel hangs), so Close gives up at once with ErrHung and the only way back
// is to end the process — which is why the GPU kernel runs in its own daemon
// process (DESIGN.md decision 7) and the watchdog kills and restarts it.
func (k *Kernel) Close() error {
	var errs []error
	if err := k.Stop(2 * time.Second); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("cuda: close: %w; end the process to free the device", err)
	}
	if k.br != nil {
		k.br.Close()
	}
	if k.devMem != 0 {
		errs = append(errs, cu.MemFree(k.devMem))
	}
	if k.mirror != 0 {
		errs = append(errs, cu.MemFree(k.mirror))
	}
	if k.host != nil {
		errs = append(errs, hostFree(k.host))
	}
	errs = append(errs, k.stream.Destroy(), k.aux.Destroy(), k.mod.Unload(), k.dev.ReleasePrimaryCtx())
	runtime.UnlockOSThread()
	return errors.Join(errs...)
}
