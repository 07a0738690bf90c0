//go:build cuda

package cuda

import (
	"fmt"
	"slices"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gmkernel/gmk/kernel/task"
)

// llSlots is the probe's ring size in 128-byte LL slots.
const llSlots = 64

// ProbeLLEcho measures n round trips of an inline echo over LL slots
// (gmk_probe_llecho): the host writes task i into rx slot i%64 as twelve
// 8-byte words of 4 data bytes and the sequence i+1 — plain stores, any
// order, no tail — and spins on the tx slot's twelve words until all carry
// i+1; pollers warps poll rx. It checks each reply (type + 1, the rest
// echoed) and returns the sorted round trips: what a bridge built on such
// slots would cost. The workers must not run.
func (k *Kernel) ProbeLLEcho(n, pollers int) ([]time.Duration, error) {
	buf, err := NewHostBuffer(2 * llSlots * 128)
	if err != nil {
		return nil, err
	}
	defer buf.Free() // after the probe kernel ended (below)
	words := func(off int) []uint64 { return unsafe.Slice((*uint64)(unsafe.Pointer(&buf.Bytes[off])), llSlots*16) }
	rx, tx := words(0), words(llSlots*128)
	if err := k.launch(k.llecho, 1, 32*pollers, k.aux, buf.Addr, buf.Addr+llSlots*128, llSlots, uint64(n)); err != nil {
		return nil, err
	}
	rtt := make([]time.Duration, 0, n)
	for i := range n {
		t := task.Task{Type: 7, Meta0: uint64(i), Meta1: ^uint64(i)}
		d, err := llRound(rx, tx, i, &t)
		if err != nil {
			for j := i; j < n; j++ { // let the probe kernel finish
				llWrite(rx, j, &t)
			}
			_ = k.aux.Synchronize()
			return nil, err
		}
		rtt = append(rtt, d)
	}
	if err := k.aux.Synchronize(); err != nil {
		return nil, err
	}
	slices.Sort(rtt)
	return rtt, nil
}

// llRound sends t as task i and waits for its echo.
func llRound(rx, tx []uint64, i int, t *task.Task) (time.Duration, error) {
	start, deadline := time.Now(), time.Now().Add(time.Second)
	llWrite(rx, i, t)
	s, seq := tx[(i%llSlots)*16:], uint64(i+1)
	for j := 0; j < 12; {
		if atomic.LoadUint64(&s[j])>>32 == seq {
			j++
			continue
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("cuda: LL echo probe: no reply to %d in 1s", i)
		}
	}
	d := time.Since(start)
	var r task.Task
	w := (*[12]uint32)(unsafe.Pointer(&r))
	for j := range w {
		w[j] = uint32(s[j])
	}
	if want := (task.Task{Type: t.Type + 1, Meta0: t.Meta0, Meta1: t.Meta1}); r != want {
		return 0, fmt.Errorf("cuda: LL echo probe: reply %+v, want %+v", r, want)
	}
	return d, nil
}

// llWrite stores t into rx slot i%llSlots with sequence i+1: twelve plain
// 8-byte stores (single-copy atomic on amd64 and arm64), in any order.
func llWrite(rx []uint64, i int, t *task.Task) {
	s, seq := rx[(i%llSlots)*16:], uint64(i+1)<<32
	w := (*[12]uint32)(unsafe.Pointer(t))
	for j := range w {
		s[j] = seq | uint64(w[j])
	}
}
