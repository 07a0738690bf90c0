package bench

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gmkernel/gmk/internal/errw"
)

// Result is the measurement of one implementation of one case: the median of the
// repetitions Run made.
type Result struct {
	Case          string
	Peer          string
	N             int     // tasks in the measured run (b.N)
	NsPerTask     float64 // wall-clock nanoseconds per task
	AllocsPerTask float64 // heap allocations per task
}

// TasksPerSec is the throughput of r; 0 when r has no time.
func (r Result) TasksPerSec() float64 {
	if r.NsPerTask <= 0 {
		return 0
	}
	return 1e9 / r.NsPerTask
}

// Ratio is GMK's throughput divided by the peer's: peer ns/task over GMK ns/task.
// It is above 1 when GMK is faster. ok is false when either has no time.
func Ratio(gmk, peer Result) (x float64, ok bool) {
	if gmk.NsPerTask <= 0 || peer.NsPerTask <= 0 {
		return 0, false
	}
	return peer.NsPerTask / gmk.NsPerTask, true
}

// FormatRatio writes x with three significant digits and no exponent for the
// ratios one meets in practice: 2.4, 0.153, 12.3, 1234.
func FormatRatio(x float64) string {
	if x >= 1000 {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

// WriteReport prints results as Run does: what a task is per case, an aligned
// table (case, peer, ns/task, tasks/s, allocs/task, gmk/peer), then one line
// `ratio <case> vs=<peer> <x>` for every peer of every case that has a GMK result,
// in the order of results. It returns the first write error.
func WriteReport(w io.Writer, results []Result) error {
	ew := errw.New(w)
	writeLegend(ew, results)
	writeTable(ew, results)
	ratios := ratioLines(results)
	if len(ratios) > 0 {
		fmt.Fprintln(ew)
	}
	for _, l := range ratios {
		fmt.Fprintln(ew, l)
	}
	return ew.Err
}

// writeLegend says what a task is for each case present in results.
func writeLegend(w io.Writer, results []Result) {
	fmt.Fprintln(w, "# a task is one item entering the system; b.N = tasks:")
	seen := map[string]bool{}
	for _, r := range results {
		if seen[r.Case] {
			continue
		}
		seen[r.Case] = true
		meaning, ok := taskMeaning[r.Case]
		if !ok {
			meaning = "(see the case's implementation)"
		}
		fmt.Fprintf(w, "#   %-10s %s\n", r.Case, meaning)
	}
	fmt.Fprintln(w, "# gmk/peer = GMK tasks/s ÷ peer tasks/s (above 1: GMK is faster)")
	fmt.Fprintln(w)
}

func writeTable(w io.Writer, results []Result) {
	gmk := gmkByCase(results)
	rows := [][]string{{"case", "peer", "ns/task", "tasks/s", "allocs/task", "gmk/peer"}}
	for _, r := range results {
		ratio := "-"
		if g, has := gmk[r.Case]; has {
			if x, ok := Ratio(g, r); ok {
				ratio = FormatRatio(x)
			}
		}
		rows = append(rows, []string{
			r.Case, r.Peer,
			strconv.FormatFloat(r.NsPerTask, 'f', 1, 64),
			strconv.FormatFloat(r.TasksPerSec(), 'f', 0, 64),
			strconv.FormatFloat(r.AllocsPerTask, 'f', 2, 64),
			ratio,
		})
	}
	writeAligned(w, rows, 2)
}

// ratioLines are the machine-readable lines: one per (case with a GMK result,
// other peer).
func ratioLines(results []Result) []string {
	gmk := gmkByCase(results)
	var out []string
	for _, r := range results {
		g, has := gmk[r.Case]
		if !has || r.Peer == PeerGMK {
			continue
		}
		if x, ok := Ratio(g, r); ok {
			out = append(out, fmt.Sprintf("ratio %s vs=%s %s", r.Case, r.Peer, FormatRatio(x)))
		}
	}
	return out
}

func gmkByCase(results []Result) map[string]Result {
	m := map[string]Result{}
	for _, r := range results {
		if r.Peer == PeerGMK {
			m[r.Case] = r
		}
	}
	return m
}

// writeAligned prints rows as columns two spaces apart: the first left columns
// left-aligned (names), the others right-aligned (numbers).
func writeAligned(w io.Writer, rows [][]string, left int) {
	var width []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], len([]rune(cell)))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", width[i]-len([]rune(cell)))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < left {
				b.WriteString(cell + pad)
			} else {
				b.WriteString(pad + cell)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
