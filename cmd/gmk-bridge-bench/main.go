// Command gmk-bridge-bench measures bridge throughput ([B2], GMK.md acceptance
// 19) for the in-memory and the shared-memory transport, inline tasks and
// 4 KiB payloads, at several batch sizes, and prints one machine-readable line
// per measurement (after a comment line with every run):
//
//	bridge <mem|shm|mem-ll|shm-ll> batch=<n> <inline|4k> <tasks/s> transfers_per_task=<x>
//
// (-ll: over LL rings), then the Go ↔ Go round trip of one task in flight
// over an in-memory pair, version-1 and LL rings (bridge.BenchRTT):
//
//	bridge-rtt <mem|mem-ll> inline p50=<ns> p99=<ns> min=<ns> n=<round trips>
//
// Usage:
//
//	gmk-bridge-bench [-transports mem,shm,mem-ll,shm-ll] [-batches 1,8,64,256] [-payloads inline,4k] [-tasks 2000000] [-count 3] [-rtt 200000]
//
// The shm measurements re-execute this program as the consuming process.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/gmkernel/gmk/bridge"
)

func main() {
	if ran, err := bridge.MaybeRunBenchChild(); ran { // the shm consumer process
		if err != nil {
			fmt.Fprintln(os.Stderr, "gmk-bridge-bench child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main with its arguments and output writers as parameters; it returns
// the exit status (2 for bad flags, 1 for a failed run).
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gmk-bridge-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	transports := fs.String("transports", "mem,shm,mem-ll,shm-ll", "transports to measure (-ll: LL rings)")
	batches := fs.String("batches", "1,8,64,256", "batch sizes")
	payloads := fs.String("payloads", "inline,4k", "payload kinds")
	tasks := fs.Int("tasks", 2_000_000, "tasks per inline measurement (4k: tasks/8)")
	count := fs.Int("count", 3, "runs per measurement; the line reports the median")
	rtt := fs.Int("rtt", 200_000, "round trips per bridge-rtt line (mem and mem-ll); 0: none")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	opts := bridge.BenchOptions{
		Transports: splitList(*transports), Payloads: splitList(*payloads), Tasks: *tasks, Count: *count,
	}
	for _, b := range splitList(*batches) {
		n, err := strconv.Atoi(b)
		if err != nil {
			fmt.Fprintf(stderr, "gmk-bridge-bench: bad batch size %q\n", b)
			return 2
		}
		opts.Batches = append(opts.Batches, n)
	}
	fmt.Fprintf(stdout, "# machine: NumCPU=%d GOMAXPROCS=%d %s/%s %s\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
	if err := bridge.Bench(stdout, opts); err != nil {
		fmt.Fprintln(stderr, "gmk-bridge-bench:", err)
		return 1
	}
	if *rtt > 0 {
		if err := bridge.BenchRTT(stdout, []string{"mem", "mem-ll"}, *rtt); err != nil {
			fmt.Fprintln(stderr, "gmk-bridge-bench:", err)
			return 1
		}
	}
	return 0
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
