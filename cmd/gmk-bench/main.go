// Command gmk-bench compares GMK with Go channels and protoactor-go on this
// machine, in one run: for each case (p2p, pipeline3, fanout3, mpmc2x2) it prints
// ns/task, tasks/s, allocs/task and GMK's throughput ratio against each peer,
// ending with one machine-readable line per comparison (stdout; the progress
// goes to stderr: a bar on a terminal, one line per measurement elsewhere):
//
//	ratio <case> vs=<peer> <x>
//
// Usage:
//
//	gmk-bench [-cases p2p,pipeline3] [-count 3] [-benchtime 300ms]
//
// It is what `make bench` runs; see internal/bench for what a task is per case.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/gmkernel/gmk/internal/bench"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main with its arguments and output writers as parameters; it returns
// the exit status (2 for bad flags, 1 for a failed run).
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gmk-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cases := fs.String("cases", "", "comma-separated cases to run (default: all registered)")
	count := fs.Int("count", bench.DefaultCount, "repetitions per implementation; the median is reported")
	benchtime := fs.String("benchtime", bench.DefaultBenchtime, "time per repetition (e.g. 300ms) or a task count (e.g. 100000x)")
	quiet := fs.Bool("q", false, "no progress on stderr (a bar on a terminal, lines elsewhere)")
	det := fs.Bool("det", false, "measure the determinism overhead also when -cases is given (it runs by default)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	opts := bench.Options{Count: *count, Benchtime: *benchtime}
	if !*quiet {
		opts.Progress, opts.Bar = stderr, isTerminal(stderr)
	}
	if err := opts.Validate(); err != nil {
		fmt.Fprintln(stderr, "gmk-bench:", err)
		return 2
	}
	fmt.Fprintln(stdout, machineLine())
	fmt.Fprintf(stdout, "# count=%d benchtime=%s\n", *count, *benchtime)
	roundTrip(stdout, "before the cases")
	list := splitList(*cases)
	if err := bench.Run(stdout, list, opts); err != nil {
		fmt.Fprintln(stderr, "gmk-bench:", err)
		return 1
	}
	roundTrip(stdout, "after them")
	if len(list) == 0 || *det {
		if _, err := bench.DetOverhead(stdout, *count); err != nil {
			fmt.Fprintln(stderr, "gmk-bench:", err)
			return 1
		}
		if _, err := bench.FenceCost(stdout, *count); err != nil {
			fmt.Fprintln(stderr, "gmk-bench:", err)
			return 1
		}
	}
	return 0
}

// isTerminal reports whether w is a terminal (a character device): the
// progress is a bar there, and plain lines in logs and pipes.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
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

// machineLine states where the numbers come from.
func machineLine() string {
	return fmt.Sprintf("# machine: cpu=%q NumCPU=%d GOMAXPROCS=%d %s/%s %s",
		cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// roundTrip prints the cross-core round trip (bench.CoreRoundTrip), which
// on a shared VM moves GMK's cross-worker hops more than Go channels.
func roundTrip(w io.Writer, when string) {
	if d := bench.CoreRoundTrip(100 * time.Millisecond); d > 0 {
		fmt.Fprintf(w, "# cross-core round trip %s: %d ns\n", when, d.Nanoseconds())
	}
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "unknown" where that
// file is not readable (not Linux, or a sandbox).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown"
}
