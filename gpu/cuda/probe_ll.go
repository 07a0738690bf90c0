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

// llSlots is the probe's ring size in LL slots.
const llSlots = 64

// llSlot is the layout of the probe's LL slots: words 4-byte words of the
// task, each beside the slot's sequence in an 8-byte word, in slots of
// stride 8-byte words.
type llSlot struct{ words, stride int }

// ProbeLLEcho measures n round trips of an inline echo over LL slots
// (gmk_probe_llecho): the host writes task i into rx slot i%64 as words
// 8-byte words of 4 task bytes and the sequence i+1 — plain stores, any
// order, no tail — and spins on the tx slot's words until all carry i+1;
// pollers warps poll rx. words is 12 (the whole 48-byte task, 128-byte
// slots) or 8 (the 32 bytes of an inline task, 64-byte slots). It checks
// each reply (word 0 + 1, the rest echoed) and returns the sorted round
// trips: what a bridge built on such slots would cost. The workers must not
// run.
func (k *Kernel) ProbeLLEcho(n, pollers, words int) ([]time.Duration, error) {
	if words != 8 && words != 12 {
		return nil, fmt.Errorf("cuda: LL echo probe: %d words a slot (8 or 12)", words)
	}
	l := llSlot{words: words, stride: 16}
	if words == 8 {
		l.stride = 8
	}
	buf, err := NewHostBuffer(2 * llSlots * l.stride * 8)
	if err != nil {
		return nil, err
	}
	defer buf.Free() // after the probe kernel ended (below)
	ring := func(off int) []uint64 {
		return unsafe.Slice((*uint64)(unsafe.Pointer(&buf.Bytes[off])), llSlots*l.stride)
	}
	half := llSlots * l.stride * 8
	rx, tx := ring(0), ring(half)
	if err := k.launch(k.llecho, 1, 32*pollers, k.aux, buf.Addr, buf.Addr+uint64(half), llSlots, uint64(n),
		uint64(words), uint64(l.stride)); err != nil {
		return nil, err
	}
	rtt := make([]time.Duration, 0, n)
	for i := range n {
		t := task.Task{Type: 7, Meta0: uint64(i), Meta1: ^uint64(i), Channel: uint32(i)}
		d, err := l.round(rx, tx, i, &t)
		if err != nil {
			for j := i; j < n; j++ { // let the probe kernel finish
				l.write(rx, j, &t)
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

// round sends t as task i and waits for its echo.
func (l llSlot) round(rx, tx []uint64, i int, t *task.Task) (time.Duration, error) {
	start, deadline := time.Now(), time.Now().Add(time.Second)
	l.write(rx, i, t)
	s, seq := tx[(i%llSlots)*l.stride:], uint64(i+1)
	for j := 0; j < l.words; {
		if atomic.LoadUint64(&s[j])>>32 == seq {
			j++
			continue
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("cuda: LL echo probe: no reply to %d in 1s", i)
		}
	}
	d := time.Since(start)
	w := (*[12]uint32)(unsafe.Pointer(t))
	for j := range l.words {
		want := w[j]
		if j == 0 {
			want++
		}
		if got := uint32(s[j]); got != want {
			return 0, fmt.Errorf("cuda: LL echo probe: reply %d word %d is %#x, want %#x", i, j, got, want)
		}
	}
	return d, nil
}

// write stores t's first l.words words into rx slot i%llSlots with sequence
// i+1: plain 8-byte stores (single-copy atomic on amd64 and arm64), in any
// order.
func (l llSlot) write(rx []uint64, i int, t *task.Task) {
	s, seq := rx[(i%llSlots)*l.stride:], uint64(i+1)<<32
	w := (*[12]uint32)(unsafe.Pointer(t))
	for j := range l.words {
		s[j] = seq | uint64(w[j])
	}
}
