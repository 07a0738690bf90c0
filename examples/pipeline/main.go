// Command pipeline runs GMK's example pipeline on the CPU kernel:
//
//	producer ──ingest.raw──▶ transform ──store.put──▶ store
//	                             │ FAIL on bad records
//	                             ▼
//	                         sys.error ──▶ errors
//
// The producer (this goroutine, outside the kernel) allocates each record in
// the kernel's arena and emits it on a lossless P2P channel, blocking while the
// channel is full. transform validates and upper-cases the record in place and
// forwards the same payload; store checksums it. One record in 1000 is bad:
// transform fails it, and the errors module counts the reports on sys.error.
// At the end the program prints a summary: tasks, rates, drops and errors.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/gmkernel/gmk/kernel"
)

// Task types of the pipeline.
const (
	tRaw    = 1 // a raw record on ingest.raw
	tClean  = 2 // a cleaned record on store.put
	tReport = 3 // the errors module's handler for sys.error reports
)

// errBadRecord is transform's failure code for a malformed record.
const errBadRecord = -2

func main() {
	n := flag.Int("n", 200_000, "records to push through the pipeline")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "kernel worker goroutines")
	flag.Parse()
	if err := run(os.Stdout, *n, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "pipeline:", err)
		os.Exit(1)
	}
}

// stats is what the store and errors modules saw; each field is written by one
// subscription's home worker and read after Halt.
type stats struct {
	stored, storedBytes uint64
	checksum            uint32
	badReports          uint64
}

func run(out io.Writer, n, workers int) error {
	var st stats
	cfg := kernel.BootConfig{Workers: workers, ArenaSize: 16 << 20,
		// Bad records are expected here, about a thousand a second at full
		// speed: raise the poison threshold ([F3], default 32 failures per
		// 1000 ticks) so that transform is not taken for a crashing handler.
		Poison: kernel.PoisonPolicy{Failures: 100_000, Window: 1000}}
	k, err := kernel.Boot(cfg, transform(), store(&st), errorsModule(&st))
	if err != nil {
		return err
	}
	raw, err := k.Chan("ingest.raw")
	if err != nil {
		return err
	}
	start := time.Now()
	if err := produce(k, raw, n); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := k.Halt(ctx); err != nil {
		return err
	}
	return summary(out, k, &st, n, time.Since(start))
}

// produce emits n records: "record <i> ok" or, for one in 1000, "record <i> bad".
func produce(k *kernel.Kernel, raw kernel.ChanID, n int) error {
	ctx := context.Background()
	for i := range n {
		state := "ok"
		if i%1000 == 999 {
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

// transform validates and upper-cases a record in place, then forwards the
// same payload on store.put (retaining it, since the runtime releases the
// delivered task's own reference when the handler returns).
func transform() kernel.Module {
	var put kernel.ChanID
	return kernel.Module{Name: "transform", Version: "1.0",
		Handlers: []kernel.Handler{{Type: tRaw, Name: "clean", Fn: func(c *kernel.Ctx) kernel.Status {
			rec := c.Payload()
			if bytes.HasSuffix(rec, []byte(" bad")) {
				return kernel.FailCode(errBadRecord)
			}
			for i, b := range rec {
				if 'a' <= b && b <= 'z' {
					rec[i] = b - 'a' + 'A'
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
		Channels: []kernel.ChanDecl{
			{Name: "ingest.raw", Dir: kernel.Consume, Type: tRaw, Guarantee: kernel.Lossless},
			{Name: "store.put", Dir: kernel.Produce, Type: tClean, Guarantee: kernel.Lossless},
		},
		Init: func(c *kernel.Ctx) (err error) {
			put, err = c.Kernel().Chan("store.put")
			return err
		},
	}
}

// store checksums every cleaned record.
func store(st *stats) kernel.Module {
	return kernel.Module{Name: "store", Version: "1.0",
		Handlers: []kernel.Handler{{Type: tClean, Name: "put", Fn: func(c *kernel.Ctx) kernel.Status {
			rec := c.Payload()
			st.stored++
			st.storedBytes += uint64(len(rec))
			st.checksum = crc32.Update(st.checksum, crc32.IEEETable, rec)
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: "store.put", Dir: kernel.Consume, Type: tClean, Guarantee: kernel.Lossless}},
	}
}

// errorsModule counts the failure reports of bad records on sys.error.
func errorsModule(st *stats) kernel.Module {
	return kernel.Module{Name: "errors", Version: "1.0",
		Handlers: []kernel.Handler{{Type: tReport, Name: "report", Fn: func(c *kernel.Ctx) kernel.Status {
			if kernel.Status(int16(c.Task().Aux)) == kernel.FailCode(errBadRecord) {
				st.badReports++
			}
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: kernel.SysError, Dir: kernel.Consume, Type: tReport, Mode: kernel.FanOut}},
	}
}

func summary(out io.Writer, k *kernel.Kernel, st *stats, n int, d time.Duration) error {
	r, _ := k.Halted()
	s := r.Stats
	fmt.Fprintf(out, "GMK pipeline: %d records through ingest → transform → store on %s (%d workers) in %v\n",
		n, k.ID(), k.Config().Workers, d.Round(time.Millisecond))
	fmt.Fprintf(out, "  records   %d stored (%d bytes, crc32 %08x), %.0f records/s\n",
		st.stored, st.storedBytes, st.checksum, float64(st.stored)/d.Seconds())
	fmt.Fprintf(out, "  tasks     %d created, %d completed, %.0f tasks/s\n", s.Created(), s.Completed, float64(s.Completed)/d.Seconds())
	fmt.Fprintf(out, "  errors    %d in sys.error (%d bad-record reports handled), %d retries, %d panics\n",
		s.Errored, st.badReports, s.Retried, s.Panics)
	fmt.Fprintf(out, "  drops     %d in sys.dropped\n", s.Dropped)
	fmt.Fprintf(out, "  queued    %d at halt, %d payloads live\n", r.Queued, k.LivePayloads())
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  channel\temits\tfull\tdrops\tsubs\t")
	for _, name := range []string{"ingest.raw", "store.put", kernel.SysError, kernel.SysDropped} {
		id, _ := k.Chan(name)
		cs, err := k.ChanStats(id)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t\n", cs.Name, cs.Emits, cs.Full, cs.Drops, cs.Subscribers)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if want := uint64(n - n/1000); st.stored != want || st.badReports != uint64(n/1000) {
		return fmt.Errorf("lost records: stored %d of %d, %d of %d bad reports", st.stored, want, st.badReports, n/1000)
	}
	return nil
}
