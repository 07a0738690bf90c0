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
// slot: Bulk.Send reserves consecutive free blocks, fills them with one
// cuMemcpyHtoDAsync per contiguous run from pinned host memory, waits for
// the copy, then stages the tasks with bridge.RefSender.StageDev (the
// block's arena offset in place of a staging position). The device takes
// such a payload as it is; when the task's payload is freed, the device
// marks the block free in a word of mapped host memory, and the host may
// fill it again (gmk_bulk_free in kernels/src/gmk_round.cuh).

// bulkArea is the kernel's bulk blocks as the host sees them.
type bulkArea struct {
	flags []byte // mapped host memory: one uint32 per block, 1 = free
	off   uint64 // arena offset of block 0
	next  int    // the block SendBulk reserves next (ring order)
}

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
// free them, copies them with the copy engine (on the calling goroutine,
// which must hold the kernel's context, as Open's does), waits for the
// copy, then stages and publishes the tasks. len(ts) is at most
// Config.BulkBlocks.
func (k *Kernel) SendBulk(ts []task.Task, src *HostBuffer, off int, wait time.Duration) error {
	c := k.cfg
	tx, ok := k.Bridge().Sender().(bridge.RefSender)
	if c.BulkBlocks == 0 || !ok {
		return ErrNoBulk
	}
	n, bb := len(ts), c.BulkBlock
	if n > c.BulkBlocks || off < 0 || off+n*bb > len(src.Bytes) {
		return fmt.Errorf("cuda: bulk send of %d blocks from byte %d of %d (at most %d blocks)", n, off, len(src.Bytes), c.BulkBlocks)
	}
	for i := range ts {
		if ts[i].PayloadLen == 0 || int(ts[i].PayloadLen) > bb {
			return fmt.Errorf("cuda: bulk task %d: payload of %d bytes (1 to %d)", i, ts[i].PayloadLen, bb)
		}
	}
	first, err := k.bulkReserve(n, wait)
	if err != nil {
		return err
	}
	if err := k.bulkCopy(first, n, src, off); err != nil {
		return err
	}
	for i := range ts {
		blk := (first + i) % c.BulkBlocks
		for {
			err := tx.StageDev(&ts[i], k.bulk.off+uint64(blk*bb))
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

// bulkCopy copies n blocks from src at off into the bulk blocks from first
// on (ring order: one transfer, or two where the ring wraps), and waits.
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
	return k.aux.Synchronize()
}
