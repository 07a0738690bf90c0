//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/kernel/task"
)

// Bulk payloads: the copy engine moves them, not a CPU thread or the SMs.
//
// A sending CPU thread copies 8–17 GB/s into pinned memory, and the SMs
// reading host memory over PCIe reach about 27 GB/s (measured on the lent
// H100/H200 machines); the copy engine does 55. So the kernel can keep
// Config.BulkBlocks blocks of Config.BulkBlock bytes after the payload
// pool's in its arena, which the host owns until it names one in a host.rx
// slot: SendBulk reserves consecutive free blocks, fills them with
// cuMemcpyHtoDAsync from pinned host memory in chunks, and stages each
// chunk's tasks once its copy is done with bridge.RefSender.StageDev (the
// block's arena offset in place of a staging position). The device takes
// such a payload as it is; when the task's payload is freed, the device
// marks the block free in a word of mapped host memory, and the host may
// fill it again (gmk_bulk_free in kernels/src/gmk_round.cuh).

// bulkArea is the kernel's bulk blocks as the host sees them.
type bulkArea struct {
	flags  []byte               // mapped host memory: one uint32 per block, 1 = free
	off    uint64               // arena offset of block 0
	next   int                  // the block SendBulk reserves next (ring order)
	events [bulkChunks]cu.Event // one per chunk of a send's copy
	stats  BulkStats
}

// SendBulk splits its copy into at most bulkChunks chunks of at least
// bulkChunkMin bytes (or one block): the copy engine's rate falls with the
// copy's size (into the bulk blocks on the H100, kernel running: 27 GB/s at
// 256 KiB, 35 at 1 MiB, 38 at 2 MiB, 41 at 8 MiB).
const (
	bulkChunks   = 8
	bulkChunkMin = 2 << 20
)

// BulkStats counts SendBulk's work: where the sending thread's time went.
type BulkStats struct {
	Sends, Blocks, Chunks uint64
	WaitNS                uint64 // waiting for the device to free blocks
	CopyNS                uint64 // copying and staging, from the first copy queued to the last task published
}

// BulkStats returns SendBulk's counters (read on the sending goroutine).
func (k *Kernel) BulkStats() BulkStats { return k.bulk.stats }

// bootBulk lays the bulk blocks out (after the pool's, in the arena) and
// allocates their free words, all free. Called by bootState.
func (k *Kernel) bootBulk() error {
	c := k.cfg
	if c.BulkBlocks == 0 {
		return nil
	}
	flags, flagsD, err := hostAlloc(4 * c.BulkBlocks)
	if err != nil {
		return fmt.Errorf("cuda: bulk block flags: %w", err)
	}
	k.bulk = bulkArea{flags: flags, off: uint64(c.Payloads * c.PayloadBlock)}
	for i := range c.BulkBlocks {
		k.bulk.word(i).Store(1)
	}
	for i := range k.bulk.events {
		if k.bulk.events[i], err = cu.MakeEvent(cu.DisableTiming); err != nil {
			return fmt.Errorf("cuda: bulk copy events: %w", err)
		}
	}
	k.st.bulkOff, k.st.bulkFree = k.bulk.off, uint64(flagsD)
	k.st.bulkBlock, k.st.nbulk = uint32(c.BulkBlock), uint32(c.BulkBlocks)
	return nil
}

// word returns block i's free word.
func (b *bulkArea) word(i int) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&b.flags[4*i]))
}

// BulkFree returns how many bulk blocks are free (the host's to fill).
func (k *Kernel) BulkFree() int {
	n := 0
	for i := range k.cfg.BulkBlocks {
		if k.bulk.word(i).Load() == 1 {
			n++
		}
	}
	return n
}

// ErrNoBulk: the kernel has no bulk blocks, or its host.rx sender cannot
// name them (RxDMA).
var ErrNoBulk = errors.New("cuda: no bulk blocks (Config.BulkBlocks) or no in-place sender (host.rx must be RxMapped)")

// SendBulk stages ts on host.rx with their payloads in bulk blocks: ts[i]'s
// PayloadLen bytes (at most Config.BulkBlock) come from
// src.Bytes[off+i*BulkBlock:], so src holds len(ts) blocks from off. It
// reserves len(ts) consecutive blocks, waiting up to wait for the device to
// free them, and copies them with the copy engine in up to bulkChunks
// chunks, each staged and published as soon as its copy is done, so the
// device takes the first tasks while the copy engine moves the rest. It
// runs on the calling goroutine, which must hold the kernel's context (as
// Open's does), and returns once every task is published: src may be
// reused then. len(ts) is at most Config.BulkBlocks.
func (k *Kernel) SendBulk(ts []task.Task, src *HostBuffer, off int, wait time.Duration) error {
	tx, ok := k.Bridge().Sender().(bridge.RefSender)
	if k.cfg.BulkBlocks == 0 || !ok {
		return ErrNoBulk
	}
	if err := k.bulkCheck(ts, src, off); err != nil {
		return err
	}
	t0 := time.Now()
	first, err := k.bulkReserve(len(ts), wait)
	if err != nil {
		return err
	}
	t1 := time.Now()
	n, ev := len(ts), &k.bulk.events
	chunk := min(n, max((n+len(ev)-1)/len(ev), bulkChunkMin/k.cfg.BulkBlock))
	if err := k.bulkQueue(first, n, chunk, src, off); err != nil {
		return err
	}
	for c, i := 0, 0; i < n; c, i = c+1, i+chunk {
		if err := ev[c].Synchronize(); err != nil {
			return fmt.Errorf("cuda: bulk copy: %w", err)
		}
		if err := k.bulkStage(tx, ts[i:i+min(chunk, n-i)], first+i, wait); err != nil {
			return err
		}
	}
	st := &k.bulk.stats
	st.Sends++
	st.Blocks += uint64(n)
	st.WaitNS += uint64(t1.Sub(t0))
	st.CopyNS += uint64(time.Since(t1))
	return nil
}

// bulkQueue queues the copies of n blocks from src at off into the bulk
// blocks from first on, chunk blocks per copy, each followed by its event.
func (k *Kernel) bulkQueue(first, n, chunk int, src *HostBuffer, off int) error {
	for c, i := 0, 0; i < n; c, i = c+1, i+chunk {
		if err := k.bulkCopy((first+i)%k.cfg.BulkBlocks, min(chunk, n-i), src, off+i*k.cfg.BulkBlock); err != nil {
			return err
		}
		if err := k.bulk.events[c].Record(k.aux); err != nil {
			return fmt.Errorf("cuda: bulk copy: %w", err)
		}
		k.bulk.stats.Chunks++
	}
	return nil
}

// bulkCheck refuses a send that does not fit the bulk blocks or src.
func (k *Kernel) bulkCheck(ts []task.Task, src *HostBuffer, off int) error {
	n, bb := len(ts), k.cfg.BulkBlock
	if n > k.cfg.BulkBlocks || off < 0 || off+n*bb > len(src.Bytes) {
		return fmt.Errorf("cuda: bulk send of %d blocks from byte %d of %d (at most %d blocks)", n, off, len(src.Bytes), k.cfg.BulkBlocks)
	}
	for i := range ts {
		if ts[i].PayloadLen == 0 || int(ts[i].PayloadLen) > bb {
			return fmt.Errorf("cuda: bulk task %d: payload of %d bytes (1 to %d)", i, ts[i].PayloadLen, bb)
		}
	}
	return nil
}

// bulkStage stages ts, whose payloads are in the bulk blocks from first on
// (ring order), and publishes them.
func (k *Kernel) bulkStage(tx bridge.RefSender, ts []task.Task, first int, wait time.Duration) error {
	for i := range ts {
		blk := (first + i) % k.cfg.BulkBlocks
		for {
			err := tx.StageDev(&ts[i], k.bulk.off+uint64(blk*k.cfg.BulkBlock))
			if err == nil {
				break
			}
			tx.Publish()
			if !tx.Wait(wait) {
				return fmt.Errorf("cuda: bulk send: host.rx: %w", err)
			}
		}
	}
	tx.Publish()
	return nil
}

// bulkReserve takes the next n blocks in ring order once each is free.
func (k *Kernel) bulkReserve(n int, wait time.Duration) (int, error) {
	first, deadline := k.bulk.next, time.Now().Add(wait)
	for i := range n {
		w := k.bulk.word((first + i) % k.cfg.BulkBlocks)
		for w.Load() != 1 {
			if time.Now().After(deadline) {
				return 0, fmt.Errorf("cuda: bulk send: no free bulk block in %v (the device holds them)", wait)
			}
		}
		w.Store(0)
	}
	k.bulk.next = (first + n) % k.cfg.BulkBlocks
	return first, nil
}

// bulkCopy queues the copy of n blocks from src at off into the bulk blocks
// from first on, on the aux stream: one transfer, or two where the ring
// wraps.
func (k *Kernel) bulkCopy(first, n int, src *HostBuffer, off int) error {
	bb := k.cfg.BulkBlock
	base := k.arenaD + cu.DevicePtr(k.bulk.off)
	for n > 0 {
		run := min(n, k.cfg.BulkBlocks-first)
		dst := base + cu.DevicePtr(first*bb)
		if err := cu.MemcpyHtoDAsync(dst, unsafe.Pointer(&src.Bytes[off]), int64(run*bb), k.aux); err != nil {
			return fmt.Errorf("cuda: bulk copy: %w", err)
		}
		first, n, off = 0, n-run, off+run*bb
	}
	return nil
}
