package main

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"sync/atomic"
	"time"

	"github.com/gmkernel/gmk/actors/config"
	"github.com/gmkernel/gmk/kernel"
)

// Task types, as examples/configs/pipeline.yaml declares them.
const (
	tRaw    = 1
	tClean  = 2
	tReport = 3
)

// errBadRecord is transform's failure code for a malformed record.
const errBadRecord = -2

// counts is what the modules saw, read after Halt.
var counts struct {
	stored, checksum, badReports atomic.Uint64
	transformInits, storeInits   atomic.Int64
	rejectEvery                  int
}

// resetCounts zeroes counts before a run (no module of an earlier run is
// alive then: its node has halted).
func resetCounts() {
	counts.stored.Store(0)
	counts.checksum.Store(0)
	counts.badReports.Store(0)
	counts.transformInits.Store(0)
	counts.storeInits.Store(0)
}

func init() {
	config.Register("transform", transform)
	config.Register("store", store)
	config.Register("errors", errorsModule)
}

// transform upper-cases a record in place and forwards the same payload on
// store.put. It rejects records marked bad, and panics on record crash_at
// the first time it sees it. Its channels come from the config.
func transform(p config.Params) (kernel.Module, error) {
	var cfg struct {
		Upper       bool   `yaml:"upper"`
		RejectEvery int    `yaml:"reject_every"`
		CrashAt     uint64 `yaml:"crash_at"`
	}
	if err := p.Decode(&cfg); err != nil {
		return kernel.Module{}, err
	}
	counts.rejectEvery = cfg.RejectEvery
	var put kernel.ChanID
	var crashed atomic.Bool
	return kernel.Module{Version: "1.0",
		Handlers: []kernel.Handler{{Type: tRaw, Name: "clean", Fn: func(c *kernel.Ctx) kernel.Status {
			if c.Task().Meta0 == cfg.CrashAt && crashed.CompareAndSwap(false, true) {
				panic(fmt.Sprintf("record %d: simulated crash", cfg.CrashAt))
			}
			rec := c.Payload()
			if bytes.HasSuffix(rec, []byte(" bad")) {
				return kernel.FailCode(errBadRecord)
			}
			if cfg.Upper {
				for i, b := range rec {
					if 'a' <= b && b <= 'z' {
						rec[i] = b - 'a' + 'A'
					}
				}
			}
			h, err := c.PayloadRetain()
			if err != nil {
				return kernel.Fail
			}
			t := *c.Task()
			t.Type = tClean
			if c.ChanEmit(put, t) != nil {
				_ = c.PayloadRelease(h)
				return kernel.Retry
			}
			return kernel.OK
		}}},
		Init: func(c *kernel.Ctx) (err error) {
			counts.transformInits.Add(1)
			put, err = c.Kernel().Chan("store.put")
			return err
		},
	}, nil
}

// store checksums every cleaned record (one subscription: one worker).
func store(config.Params) (kernel.Module, error) {
	var sum uint32
	return kernel.Module{Version: "1.0",
		Handlers: []kernel.Handler{{Type: tClean, Name: "put", Fn: func(c *kernel.Ctx) kernel.Status {
			sum = crc32.Update(sum, crc32.IEEETable, c.Payload())
			counts.stored.Add(1)
			counts.checksum.Store(uint64(sum))
			return kernel.OK
		}}},
		Init: func(*kernel.Ctx) error { counts.storeInits.Add(1); return nil },
	}, nil
}

// errorsModule counts the reports of bad records on sys.error.
func errorsModule(config.Params) (kernel.Module, error) {
	return kernel.Module{Version: "1.0",
		Handlers: []kernel.Handler{{Type: tReport, Name: "report", Fn: func(c *kernel.Ctx) kernel.Status {
			if kernel.Status(int16(c.Task().Aux)) == kernel.FailCode(errBadRecord) {
				counts.badReports.Add(1)
			}
			return kernel.OK
		}}},
	}, nil
}

// produce emits n records on ingest.raw, blocking while it is full.
func produce(k *kernel.Kernel, n int) error {
	raw, err := k.Chan("ingest.raw")
	if err != nil {
		return err
	}
	every := max(counts.rejectEvery, 1)
	ctx := context.Background()
	for i := range n {
		state := "ok"
		if i%every == every-1 {
			state = "bad"
		}
		h, buf, err := k.Alloc(0, 32)
		if err != nil {
			return err
		}
		m := copy(buf, fmt.Sprintf("record %d %s", i, state))
		t := kernel.Task{Type: tRaw, Payload: h, PayloadLen: uint32(m), Meta0: uint64(i)}
		if err := k.ChanEmitWait(ctx, raw, t); err != nil {
			_ = k.Release(h)
			return err
		}
	}
	return nil
}

func summary(out io.Writer, k *kernel.Kernel, n int, d time.Duration) error {
	r, _ := k.Halted()
	s := r.Stats
	bad := n / max(counts.rejectEvery, 1)
	fmt.Fprintf(out, "ran %d records in %v: %d stored (crc32 %08x), %d bad records reported on sys.error\n",
		n, d.Round(time.Millisecond), counts.stored.Load(), counts.checksum.Load(), counts.badReports.Load())
	fmt.Fprintf(out, "supervision: %d panics, %d restarts (transform initialised %d times, store %d), %d retries\n",
		s.Panics, s.Restarts, counts.transformInits.Load(), counts.storeInits.Load(), s.Retried)
	fmt.Fprintf(out, "accounting: %d created = %d completed + %d errored + %d dropped + %d queued\n",
		s.Created(), s.Completed, s.Errored, s.Dropped, r.Queued)
	if counts.stored.Load() != uint64(n-bad) || counts.badReports.Load() != uint64(bad) {
		return fmt.Errorf("lost records: stored %d of %d, %d of %d bad reports", counts.stored.Load(), n-bad, counts.badReports.Load(), bad)
	}
	if s.Completed+s.Errored+s.Dropped+r.Queued != s.Created() {
		return fmt.Errorf("the accounting does not add up")
	}
	return nil
}
