package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Defaults of Options: a full run of 4 cases × 3 peers stays well under a minute.
const (
	DefaultCount     = 3
	DefaultBenchtime = "300ms"
)

// Sentinel errors of Run and Options.Validate.
var (
	ErrUnknownCase = errors.New("bench: unknown case")
	ErrImplFailed  = errors.New("bench: implementation failed")
	ErrBadOptions  = errors.New("bench: bad options")
)

// Options tunes Run. The zero value means the defaults.
type Options struct {
	// Count is the number of repetitions per implementation; the median by
	// ns/task is reported (the lower median for an even count). 0 means
	// DefaultCount.
	Count int
	// Benchtime is testing's -benchtime for each repetition: a duration
	// ("300ms") or a fixed number of tasks ("100000x"). "" means DefaultBenchtime.
	Benchtime string
	// Progress, if not nil, receives one line per implementation as it finishes.
	Progress io.Writer
	// Bar shows the progress on Progress as a bar (implementations done of
	// the total) instead of lines: for a terminal, where lines would scroll
	// the report away; CI logs keep the lines.
	Bar bool
}

// Validate returns an error wrapping ErrBadOptions when a field is out of range.
func (o Options) Validate() error {
	if o.Count < 0 {
		return fmt.Errorf("%w: count %d < 0", ErrBadOptions, o.Count)
	}
	if o.Benchtime == "" {
		return nil
	}
	if n, ok := strings.CutSuffix(o.Benchtime, "x"); ok {
		if v, err := strconv.Atoi(n); err != nil || v <= 0 {
			return fmt.Errorf("%w: benchtime %q: want a positive count before x", ErrBadOptions, o.Benchtime)
		}
		return nil
	}
	if d, err := time.ParseDuration(o.Benchtime); err != nil || d <= 0 {
		return fmt.Errorf("%w: benchtime %q: want a positive duration or Nx", ErrBadOptions, o.Benchtime)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Count == 0 {
		o.Count = DefaultCount
	}
	if o.Benchtime == "" {
		o.Benchtime = DefaultBenchtime
	}
	return o
}

// Run measures each selected case × implementation through testing.Benchmark,
// in rounds of one repetition per implementation (runCase), and writes the
// report (see WriteReport) to w. cases selects by name, in the order given;
// empty means every registered case.
//
// Run returns an error wrapping ErrBadOptions for invalid opts, ErrUnknownCase for
// a name nothing registered, ErrImplFailed when an implementation fails its
// benchmark (nothing is printed then), or the first write error.
func Run(w io.Writer, cases []string, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	opts = opts.withDefaults()
	restore, err := setBenchtime(opts.Benchtime)
	if err != nil {
		return err
	}
	defer restore()
	return run(w, defaultRegistry.list(), cases, opts, measure)
}

// measureFunc measures one implementation count times and returns the median;
// tests replace the real one (measure) with a deterministic fake.
type measureFunc func(caseName string, impl Impl, count int) (Result, error)

// run is Run with the registry contents and the measurement injected.
func run(w io.Writer, all []Case, names []string, opts Options, m measureFunc) error {
	selected, err := selectCases(all, names)
	if err != nil {
		return err
	}
	p := newProgress(opts, selected)
	var results []Result
	for _, c := range selected {
		rs, err := runCase(c, opts.Count, m, p)
		if err != nil {
			p.finish()
			return err
		}
		results = append(results, rs...)
	}
	p.finish()
	return WriteReport(w, results)
}

// runCase measures every implementation of c count times, in rounds that
// take each implementation once (GMK, Go channels, protoactor, GMK, …), and
// returns each one's median. The reference VM drifts over minutes between
// phases that move the peers differently; rounds make each ratio compare
// measurements taken at the same time, where back-to-back repetitions of
// one implementation compared one phase with another.
func runCase(c Case, count int, m measureFunc, p *progress) ([]Result, error) {
	reps := make([][]Result, len(c.Impls))
	for range count {
		for i, impl := range c.Impls {
			p.start(c.Name, impl.Peer)
			r, err := m(c.Name, impl, 1)
			if err != nil {
				return nil, err
			}
			reps[i] = append(reps[i], r)
		}
	}
	out := make([]Result, len(c.Impls))
	for i := range c.Impls {
		out[i] = median(reps[i])
		p.done(out[i], count)
	}
	return out, nil
}

// selectCases returns the cases named, in the order named, or all when names is
// empty.
func selectCases(all []Case, names []string) ([]Case, error) {
	if len(names) == 0 {
		return all, nil
	}
	out := make([]Case, 0, len(names))
	for _, name := range names {
		i := slices.IndexFunc(all, func(c Case) bool { return c.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("%w: %q", ErrUnknownCase, name)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// measure runs impl count times through testing.Benchmark and returns the
// median repetition by ns/task.
func measure(caseName string, impl Impl, count int) (Result, error) {
	runs := make([]Result, 0, count)
	for range count {
		var failed atomic.Bool
		br := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			// Deferred so that it also runs when b.Fatal ends the goroutine.
			defer func() { failed.Store(failed.Load() || b.Failed()) }()
			impl.Run(b)
		})
		if failed.Load() || br.N == 0 {
			return Result{}, fmt.Errorf("%w: %s/%s", ErrImplFailed, caseName, impl.Peer)
		}
		runs = append(runs, Result{
			Case:          caseName,
			Peer:          impl.Peer,
			N:             br.N,
			NsPerTask:     float64(br.T.Nanoseconds()) / float64(br.N),
			AllocsPerTask: float64(br.MemAllocs) / float64(br.N),
		})
	}
	return median(runs), nil
}

// median returns the repetition with the median ns/task (the lower median for
// an even count). runs is not empty.
func median(runs []Result) Result {
	sorted := slices.Clone(runs)
	slices.SortFunc(sorted, func(a, b Result) int {
		switch {
		case a.NsPerTask < b.NsPerTask:
			return -1
		case a.NsPerTask > b.NsPerTask:
			return 1
		}
		return 0
	})
	return sorted[(len(sorted)-1)/2]
}

// setBenchtime sets testing's process-wide test.benchtime flag, which
// testing.Benchmark reads, and returns a function restoring the old value.
func setBenchtime(v string) (restore func(), err error) {
	testing.Init() // registers the test.* flags; a no-op after the first call
	f := flag.Lookup("test.benchtime")
	if f == nil {
		return nil, fmt.Errorf("%w: testing has no test.benchtime flag", ErrBadOptions)
	}
	old := f.Value.String()
	if err := f.Value.Set(v); err != nil {
		return nil, fmt.Errorf("%w: benchtime %q: %v", ErrBadOptions, v, err)
	}
	return func() { _ = f.Value.Set(old) }, nil
}
