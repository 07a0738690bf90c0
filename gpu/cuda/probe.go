//go:build cuda

package cuda

import (
	"time"
	"unsafe"

	"gorgonia.org/cu"
)

// Probes and baselines for the GPU benchmark (cmd/gmk-gpu-bench).

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
	dst := k.region[len(k.region)-min(len(k.region), 8<<20):]
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
