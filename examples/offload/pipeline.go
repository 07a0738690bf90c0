package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gmkernel/gmk/gpu/gpumod"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/alloc"
)

// tRecord is a raw record on ingest.in; host.rx and host.tx carry the
// transform's types.
const tRecord = 100

// ingest is the CPU module in front: it takes raw records from ingest.in,
// checks them, and hands them to the GPU on host.rx — zero-copy on this
// kernel; the bridge copies the payload across.
func ingest() kernel.Module {
	var rx kernel.ChanID
	return kernel.Module{Name: "ingest",
		Channels: []kernel.ChanDecl{
			{Name: "ingest.in", Dir: kernel.Consume, Type: tRecord, Guarantee: kernel.Lossless},
			{Name: "host.rx", Dir: kernel.Produce, Type: gpumod.XformInType, Guarantee: kernel.Lossless},
		},
		Init: func(c *kernel.Ctx) (err error) { rx, err = c.Kernel().Chan("host.rx"); return err },
		Handlers: []kernel.Handler{{Type: tRecord, Name: "ingest", Fn: func(c *kernel.Ctx) kernel.Status {
			x := *c.Task()
			if p := c.Payload(); !bytes.HasPrefix([]byte("record "), p[:min(len(p), 7)]) {
				return kernel.FailCode(-1000) // not a record: to sys.error
			}
			x.Type = gpumod.XformInType
			if x.Payload != 0 {
				if _, err := c.PayloadRetain(); err != nil {
					return kernel.Fail
				}
			}
			if err := c.ChanEmit(rx, x); err != nil {
				if x.Payload != 0 {
					_ = c.PayloadRelease(x.Payload)
				}
				if errors.Is(err, kernel.ErrChanFull) {
					return kernel.Retry // held until host.rx has room
				}
				return kernel.Fail
			}
			return kernel.OK
		}}},
	}
}

// store is the CPU module at the end: it checks every transformed record —
// meta1 = 2 × meta0, the payload upper-cased, starting with its own record
// number — and counts.
type store struct {
	n, bad, last atomic.Int64
	size         int
}

func (s *store) module() kernel.Module {
	return kernel.Module{Name: "store",
		Channels: []kernel.ChanDecl{{Name: "host.tx", Dir: kernel.Consume, Type: gpumod.XformOutType, Guarantee: kernel.Lossless}},
		Handlers: []kernel.Handler{{Type: gpumod.XformOutType, Name: "store", Fn: func(c *kernel.Ctx) kernel.Status {
			t := c.Task()
			if t.Meta1 != 2*t.Meta0 || !s.good(int(t.Meta0), c.Payload()) {
				s.bad.Add(1)
			}
			s.last.Store(int64(t.Meta0)) // one subscription: in order
			s.n.Add(1)
			return kernel.OK
		}}},
	}
}

// good reports whether p is record i upper-cased.
func (s *store) good(i int, p []byte) bool {
	if len(p) != s.size {
		return false
	}
	var buf [32]byte
	head := bytes.ToUpper(record(buf[:0], i, min(s.size, 32)))
	if !bytes.HasPrefix(p, head) {
		return false
	}
	for _, b := range p {
		if 'a' <= b && b <= 'z' {
			return false
		}
	}
	return true
}

func (s *store) lastRecord() string {
	if s.size == 0 || s.n.Load() == 0 {
		return ""
	}
	var buf [64]byte
	return string(bytes.ToUpper(record(buf[:0], int(s.last.Load()), min(s.size, 48))))
}

const filler = " the quick brown fox jumps over the lazy dog;"

// record appends the first size bytes of record i to dst: "record <i>:"
// and filler text.
func record(dst []byte, i, size int) []byte {
	start := len(dst)
	dst = append(dst, "record "...)
	dst = strconv.AppendInt(dst, int64(i), 10)
	dst = append(dst, ':')
	for len(dst)-start < size {
		dst = append(dst, filler...)
	}
	return dst[:start+size]
}

// source emits the records on ingest.in from outside the kernel, in batches,
// keeping at most a window of records in flight: a client's window bounds
// the arena memory the records hold while they travel. Without one, a
// source that takes every block its arena frees would starve the records
// coming back from the GPU of memory.
func source(k *kernel.Kernel, st *store, c config) error {
	st.size = c.size
	window := c.window
	if c.size > 0 { // at most a quarter of the arena bin the records come from
		a := k.Config().Arena
		block := 1 << bits.Len(uint(c.size-1))
		window = min(window, max(1, a.Size*a.BlockPct/100/alloc.NumBins/block/4))
	}
	id, err := k.Chan("ingest.in")
	if err != nil {
		return err
	}
	batch := make([]kernel.Task, 0, 256)
	scratch := make([]byte, 0, c.size+len(filler)+32)
	for i := 0; i < c.n; {
		room := window - (i - int(st.n.Load())) // records the window still admits
		if room <= 0 {
			time.Sleep(50 * time.Microsecond)
			continue
		}
		batch = batch[:0]
		for end := i + min(room, cap(batch)); i < c.n && i < end; i++ {
			x := kernel.Task{Type: tRecord, Meta0: uint64(i)}
			if c.size > 0 {
				h, b, err := k.Alloc(0, c.size)
				for errors.Is(err, kernel.ErrAllocFail) { // the arena frees as records are stored
					time.Sleep(50 * time.Microsecond)
					h, b, err = k.Alloc(0, c.size)
				}
				if err != nil {
					return fmt.Errorf("record %d: %w", i, err)
				}
				copy(b, record(scratch[:0], i, c.size))
				x.Payload, x.PayloadLen = h, uint32(c.size)
			}
			batch = append(batch, x)
		}
		if err := k.ChanEmitAll(context.Background(), id, batch); err != nil {
			return err
		}
	}
	return nil
}
