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
	BulkBlocks   int           // bulk blocks the host fills by DMA (Bulk); default 0: none
	BulkBlock    int           // bytes per bulk block (a multiple of 16); default 64 KiB
	IdleSleep    time.Duration // longest sleep of an idle worker (not worker 0) between looks for work; default 20 µs
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
	c.BulkBlock = cmp.Or(c.BulkBlock, 64<<10)
	c.IdleSleep = cmp.Or(c.IdleSleep, 20*time.Microsecond)
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
	ping    cu.Function
	llecho  cu.Function
	stream  cu.Stream // the persistent kernel's
	aux     cu.Stream // setup, copies and the launch baseline

	host    []byte       // mapped host memory: ctl, heartbeats (Boot: and the bridge region)
	hostD   cu.DevicePtr // its device address
	bulk    bulkArea     // the bulk blocks (Config.BulkBlocks); zero: none
	region  []byte       // the bridge region (in host, or the caller's memory: BootRegion); nil: none
	devMem  cu.DevicePtr // one device allocation for the whole state
	devLen  int64
	scratch cu.DevicePtr // 256 bytes for probes
	mirror  cu.DevicePtr // host.rx's device mirror (RxDMA)
	arenaD  cu.DevicePtr // the payload arena (the DMA probe's target)
	st      gpuState
	stD     cu.DevicePtr
	br      bridge.Transport

	Name     string // device name
	SMs      int    // multiprocessors
	running  atomic.Bool
	retained bool // the primary context is retained (Open)
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
	if cfg.PayloadBlock%16 != 0 || cfg.BulkBlock%16 != 0 {
		return nil, fmt.Errorf("cuda: PayloadBlock %d, BulkBlock %d: want multiples of 16", cfg.PayloadBlock, cfg.BulkBlock)
	}
	if cfg.IdleSleep < 0 || cfg.IdleSleep > time.Second {
		return nil, fmt.Errorf("cuda: IdleSleep %v: want up to 1s", cfg.IdleSleep)
	}
	runtime.LockOSThread()
	k := &Kernel{cfg: cfg}
	if err := k.open(); err != nil {
		k.abandon()
		return nil, err
	}
	return k, nil
}

// open is Open's driver part: device, primary context, image, streams and
// the worker count.
func (k *Kernel) open() error {
	cfg := k.cfg
	var err error
	if k.dev, err = cu.GetDevice(cfg.Ordinal); err != nil {
		return fmt.Errorf("cuda: device %d: %w", cfg.Ordinal, err)
	}
	k.Name, _ = k.dev.Name()
	if k.SMs, err = k.dev.Attribute(cu.MultiprocessorCount); err != nil {
		return err
	}
	if k.ctx, err = k.dev.RetainPrimaryCtx(); err != nil {
		return fmt.Errorf("cuda: primary context: %w", err)
	}
	k.retained = true
	if err = cu.SetCurrentContext(k.ctx); err != nil {
		return err
	}
	if k.mod, err = cu.LoadData(cfg.PTX); err != nil {
		return fmt.Errorf("cuda: load PTX: %w", err)
	}
	for name, fn := range map[string]*cu.Function{"gmk_worker": &k.worker, "gmk_setup": &k.setup, "gmk_seed": &k.seed, "gmk_one_task": &k.oneTask, "gmk_probe_read": &k.probe, "gmk_probe_pingpong": &k.ping, "gmk_probe_llecho": &k.llecho} {
		if *fn, err = k.mod.Function(name); err != nil {
			return fmt.Errorf("cuda: kernel image lacks %s: %w", name, err)
		}
	}
	if k.stream, err = cu.MakeStream(cu.NonBlocking); err != nil {
		return err
	}
	if k.aux, err = cu.MakeStream(cu.NonBlocking); err != nil {
		return err
	}
	if k.cfg.Workers == 0 {
		per, err := k.worker.MaxActiveBlocksPerMultiProcessor(cfg.Threads, 0)
		if err != nil {
			return err
		}
		k.cfg.Workers = k.SMs * max(1, per)
	}
	return nil
}

// abandon releases what a failed open acquired, and the thread lock.
func (k *Kernel) abandon() {
	if k.stream != (cu.Stream{}) {
		_ = k.stream.Destroy()
	}
	if k.aux != (cu.Stream{}) {
		_ = k.aux.Destroy()
	}
	if k.mod != (cu.Module{}) {
		_ = k.mod.Unload()
	}
	if k.retained {
		_ = k.dev.ReleasePrimaryCtx()
	}
	runtime.UnlockOSThread()
}

// Workers returns the resident worker blocks.
func (k *Kernel) Workers() int { return k.cfg.Workers }

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
// on host.rx (the ring's head reached its tail; mapped host memory); true
// without a bridge.
func (k *Kernel) RxDrained() bool {
	if k.region == nil {
		return true
	}
	h := k.rxRing()
	return (*atomic.Uint64)(unsafe.Pointer(&h[bridge.OffHead])).Load() == (*atomic.Uint64)(unsafe.Pointer(&h[bridge.OffTail])).Load()
}

// rxRing returns host.rx's ring header bytes.
func (k *Kernel) rxRing() []byte {
	off := ringOff(k.region, bridge.RingAB)
	return k.region[off : off+bridge.RingHeaderSize]
}

// Bridge returns the host's end (side A) of host.rx / host.tx; nil after
// BootRegion (the caller holds it).
func (k *Kernel) Bridge() bridge.Transport { return k.br }

// Config returns the kernel's configuration, defaults filled in (Workers
// included).
func (k *Kernel) Config() Config { return k.cfg }

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

// LivePayloads returns the payload blocks not in the device's free pool:
// held by queued tasks, or kept by a module. Read it after Stop (while the
// workers run, blocks move between the pool and the workers' hands).
func (k *Kernel) LivePayloads() (int, error) {
	h := new([2 * bridge.LineSize]byte) // gmk_mpmc_t: tail on line 0, head on line 1
	if err := cu.MemcpyDtoHAsync(unsafe.Pointer(&h[0]), cu.DevicePtr(k.st.pool), int64(len(h)), k.aux); err != nil {
		return 0, err
	}
	if err := k.aux.Synchronize(); err != nil {
		return 0, err
	}
	tail, head := binary.LittleEndian.Uint64(h[0:]), binary.LittleEndian.Uint64(h[bridge.LineSize:])
	return k.cfg.Payloads - int(tail-head), nil
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
	if k.bulk.flags != nil {
		errs = append(errs, hostFree(k.bulk.flags))
	}
	for i := range k.bulk.events {
		if k.bulk.events[i] != (cu.Event{}) {
			errs = append(errs, cu.DestroyEvent(&k.bulk.events[i]))
		}
	}
	errs = append(errs, k.stream.Destroy(), k.aux.Destroy(), k.mod.Unload(), k.dev.ReleasePrimaryCtx())
	runtime.UnlockOSThread()
	return errors.Join(errs...)
}
