//go:build cuda

package cuda

import (
	"fmt"
	"slices"
	"sync/atomic"
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
	if _, err := k.copyRate(k.arenaD, unsafe.Pointer(&k.host[0]), bytes, 1); err != nil { // warm-up
		return 0, err
	}
	return k.copyRate(k.arenaD, unsafe.Pointer(&k.host[0]), bytes, reps)
}

// copyRate queues reps copies of bytes from src to dst on the aux stream
// back to back, waits, and returns bytes/s.
func (k *Kernel) copyRate(dst cu.DevicePtr, src unsafe.Pointer, bytes, reps int) (float64, error) {
	start := time.Now()
	for range reps {
		if err := cu.MemcpyHtoDAsync(dst, src, int64(bytes), k.aux); err != nil {
			return 0, err
		}
	}
	if err := k.aux.Synchronize(); err != nil {
		return 0, err
	}
	return float64(bytes) * float64(reps) / time.Since(start).Seconds(), nil
}

// ProbeBulkDMA copies bytes from src into the bulk blocks (all free: the
// host's) with the copy engine, reps copies queued back to back, and
// returns bytes/s — the copy engine's rate at that copy size, with the
// kernel running or not, which SendBulk's chunks are measured against.
func (k *Kernel) ProbeBulkDMA(src *HostBuffer, bytes, reps int) (float64, error) {
	if k.BulkFree() != k.cfg.BulkBlocks || bytes > k.cfg.BulkBlocks*k.cfg.BulkBlock || bytes > len(src.Bytes) {
		return 0, fmt.Errorf("cuda: bulk DMA probe of %d bytes: needs every bulk block free and %d bytes at most", bytes, k.cfg.BulkBlocks*k.cfg.BulkBlock)
	}
	return k.copyRate(k.arenaD+cu.DevicePtr(k.bulk.off), unsafe.Pointer(&src.Bytes[0]), bytes, reps)
}

// ProbePingPong measures n round trips of the bare mechanism a mapped bridge
// rests on: the host stores i into pinned, mapped memory, pollers warps of a
// one-block probe kernel poll it over PCIe, and the first to see it answers
// with a store into its own mapped word, which the host spins on. No rings,
// no fences: the floor of a bridge round trip on this machine. The workers
// must not run. Returns the sorted round trips.
func (k *Kernel) ProbePingPong(n, pollers int) ([]time.Duration, error) {
	buf, err := NewHostBuffer(4096 + pollers*128)
	if err != nil {
		return nil, err
	}
	defer buf.Free() // after the probe kernel ended (below)
	ping := (*atomic.Uint32)(unsafe.Pointer(&buf.Bytes[0]))
	pong := func(j int) *atomic.Uint32 { return (*atomic.Uint32)(unsafe.Pointer(&buf.Bytes[4096+128*j])) }
	if err := k.launch(k.ping, 1, 32*pollers, k.aux, buf.Addr, buf.Addr+4096, uint64(n)); err != nil {
		return nil, err
	}
	rtt := make([]time.Duration, 0, n)
	for i := uint32(1); i <= uint32(n); i++ {
		start, deadline := time.Now(), time.Now().Add(time.Second)
		ping.Store(i)
		for answered := false; !answered; {
			for j := range pollers {
				answered = answered || pong(j).Load() >= i
			}
			if !answered && time.Now().After(deadline) {
				ping.Store(^uint32(0))
				_ = k.aux.Synchronize()
				return nil, fmt.Errorf("cuda: ping-pong probe: no answer to %d in 1s", i)
			}
		}
		rtt = append(rtt, time.Since(start))
	}
	if err := k.aux.Synchronize(); err != nil {
		return nil, err
	}
	slices.Sort(rtt)
	return rtt, nil
}
