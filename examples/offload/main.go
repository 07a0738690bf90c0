// Command offload runs GMK's main job on two peer kernels: CPU ingest → GPU
// transform → CPU store. The CPU kernel ingests records, the GPU kernel —
// the simulated one: no GPU or CUDA toolkit is needed — upper-cases each
// record with a WARP handler (gpu/gpumod.Xform), and the CPU kernel stores
// and checks the results. The modules only declare channels; the system
// wires host.rx (CPU→GPU) and host.tx (GPU→CPU) as bridge channels.
//
// It prints the boot summary, then a final summary: records, rates, each
// kernel's accounting and each bridge channel's transfers per task.
//
// With -gpud the GPU kernel runs in the GPU daemon instead (DESIGN.md
// decision 7): the daemon executable's simulated kernel, the bridge rings in
// shared memory between the two processes, the control path over
// protoactor remote on 127.0.0.1, under the watchdog.
//
//	go run ./examples/offload [-n 100000] [-size 64] [-workers 2] [-gpu-workers 2]
//	go build -o /tmp/gmk-gpud ./cmd/gmk-gpud && go run ./examples/offload -gpud /tmp/gmk-gpud
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/daemon"
	"github.com/gmkernel/gmk/gpu/gpumod"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/kernel"
)

type config struct {
	n, size, workers, gpuWorkers, window int
	gpud                                 string // the GPU daemon's executable; "": the GPU kernel in process
}

func main() {
	c := config{}
	flag.IntVar(&c.n, "n", 100_000, "records to process")
	flag.IntVar(&c.size, "size", 64, "bytes per record (0: inline records, no payload)")
	flag.IntVar(&c.workers, "workers", 2, "CPU kernel workers")
	flag.IntVar(&c.gpuWorkers, "gpu-workers", 2, "simulated GPU worker blocks")
	flag.IntVar(&c.window, "window", 4096, "records in flight at most (the source's window)")
	flag.StringVar(&c.gpud, "gpud", "", "run the GPU kernel in the GPU daemon: path of the gmk-gpud executable")
	flag.Parse()
	if err := run(os.Stdout, c); err != nil {
		fmt.Fprintln(os.Stderr, "offload:", err)
		os.Exit(1)
	}
}

func run(out io.Writer, c config) error {
	if c.n < 1 || c.size < 0 || c.size > 64<<10 || c.window < 1 {
		return fmt.Errorf("bad flags: n %d, size %d (0..65536), window %d", c.n, c.size, c.window)
	}
	st := &store{}
	cpuCfg := kernel.BootConfig{Workers: c.workers}
	scfg := system.Config{
		CPU:        cpuCfg,
		SimConfig:  sim.Config{Workers: c.gpuWorkers},
		CPUModules: []kernel.Module{ingest(), st.module()},
		GPUModules: []gpu.Module{gpumod.Xform(gpumod.XformConfig{Scale: 2})},
	}
	if c.gpud != "" {
		scfg.GPUModules = nil // built from the daemon's catalogue
		scfg.Daemon = &daemon.Config{Exe: c.gpud, Sim: scfg.SimConfig,
			Modules: []daemon.ModuleRef{{Name: "xform", Args: map[string]string{"scale": "2"}}}}
	}
	s, err := system.Boot(scfg)
	if err != nil {
		return err
	}
	if c.gpud != "" {
		stop := s.Watch(system.WatchConfig{}) // a daemon that dies is restarted at once
		defer stop()
	}
	fmt.Fprint(out, s.Summary())
	if why := s.Summary().Kernels[1].Why; why != "" {
		fmt.Fprintf(out, "gpu.0 is the simulated GPU kernel: %s\n", why)
	}
	fmt.Fprintf(out, "offload: %d records of %d bytes: cpu.0 ingest → gpu.0 xform (WARP) → cpu.0 store\n", c.n, c.size)

	start := time.Now()
	srcErr := source(s.CPU(), st, c)
	for srcErr == nil && st.n.Load() < int64(c.n) {
		time.Sleep(200 * time.Microsecond)
	}
	elapsed := time.Since(start)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, haltErr := s.Halt(ctx)
	if srcErr != nil {
		return srcErr
	}
	report(out, c, st, r, elapsed)
	if err := r.Check(); err != nil {
		return err
	}
	if haltErr != nil {
		return haltErr
	}
	if bad := st.bad.Load(); bad != 0 || st.n.Load() != int64(c.n) {
		return fmt.Errorf("%d records stored, %d bad, want %d good", st.n.Load(), bad, c.n)
	}
	fmt.Fprintln(out, "accounting: ok (both kernels and every bridge channel)")
	return nil
}

func report(out io.Writer, c config, st *store, r system.Report, el time.Duration) {
	n := st.n.Load()
	fmt.Fprintf(out, "stored %d records (%d bad) in %v: %.0f records/s, %.1f MB/s\n",
		n, st.bad.Load(), el.Round(time.Millisecond), float64(n)/el.Seconds(), float64(n)*float64(c.size)/el.Seconds()/1e6)
	if last := st.lastRecord(); last != "" {
		fmt.Fprintf(out, "last record: %q\n", last)
	}
	for _, k := range []struct {
		id string
		r  kernel.HaltReport
	}{{"cpu.0", r.CPU}, {"gpu.0", r.GPU.Kernel}} {
		fmt.Fprintf(out, "kernel %s: %v queued=%d\n", k.id, k.r.Stats, k.r.Queued)
	}
	for _, l := range r.Links {
		if l.Dir == link.Out {
			fmt.Fprintf(out, "bridge %s %s→%s (%s): %d tasks in %d transfers, %.4f transfers/task, %d pauses\n",
				l.Chan, l.Kernel, l.Peer, l.Transport, l.Sent, l.Transfers, l.TransfersPerTask(), l.Pauses)
		}
	}
}
