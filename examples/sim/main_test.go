package main

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// reference runs the same game of life sequentially on the whole torus.
func reference(size, gens int, seed uint64) (pop int, sum uint32) {
	g := initial(size, seed)
	for range gens {
		next := make([][]byte, size)
		for r := range next {
			next[r] = make([]byte, size)
			for c := range next[r] {
				n := 0
				for dr := -1; dr <= 1; dr++ {
					for dc := -1; dc <= 1; dc++ {
						if dr != 0 || dc != 0 {
							n += int(g[(r+dr+size)%size][(c+dc+size)%size])
						}
					}
				}
				if n == 3 || (n == 2 && g[r][c] == 1) {
					next[r][c] = 1
				}
			}
		}
		g = next
	}
	h := crc32.NewIEEE()
	for _, row := range g {
		for _, c := range row {
			pop += int(c)
		}
		_, _ = h.Write(row)
	}
	return pop, h.Sum32()
}

// [D1][D2] Issue 7 acceptance 1 on the CPU kernel: the simulation gives the
// reference result and the same trace hash in every run, with 1, 2 and 4
// workers (20 runs each; 3 with -short), and a different seed gives a
// different hash.
func TestD2_SimSameEveryRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	hash := sameEveryRun(t, config{gens: 60, stripes: 4, size: 32, seed: 42}, 20, 3)
	var out bytes.Buffer
	if err := run(&out, config{gens: 60, stripes: 4, size: 32, workers: 2, seed: 7}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), hash) {
		t.Fatal("another seed gave the same trace hash")
	}
}

// [D1] [D2] Issue 7 acceptance 1 across the CPU kernel and the simulated
// GPU kernel with tick fences: half the stripes on each kernel give the
// reference result, and the same trace hashes on both kernels in every run
// with 1, 2 and 4 workers per kernel (5 runs each; 2 with -short).
func TestD2_SimFencedAcrossKernels(t *testing.T) {
	defer goleak.VerifyNone(t)
	sameEveryRun(t, config{gens: 40, stripes: 4, size: 32, gpu: 2, seed: 42}, 5, 2)
}

// sameEveryRun runs c with 1, 2 and 4 workers, runs times each (short with
// -short), checks every run's state against the sequential reference and
// that every run prints the same trace hash line, and returns that line.
func sameEveryRun(t *testing.T, c config, runs, short int) string {
	t.Helper()
	pop, sum := reference(c.size, c.gens, c.seed)
	wantState := fmt.Sprintf("population %d, grid crc32 %08x", pop, sum)
	if testing.Short() {
		runs = short
	}
	hash := ""
	for _, c.workers = range []int{1, 2, 4} {
		for range runs {
			var out bytes.Buffer
			if err := run(&out, c); err != nil {
				t.Fatal(err)
			}
			s := out.String()
			if !strings.Contains(s, wantState) || c.gpu > 0 && !strings.Contains(s, fmt.Sprintf("%d on gpu.0", c.gpu)) {
				t.Fatalf("%d workers: %s\nwant %s", c.workers, s, wantState)
			}
			h := s[strings.Index(s, "trace hash "):]
			if hash == "" {
				hash = h
			} else if h != hash {
				t.Fatalf("%d workers: %s, earlier %s", c.workers, h, hash)
			}
		}
	}
	return hash
}
