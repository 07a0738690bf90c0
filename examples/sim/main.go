// Command sim runs a small deterministic simulation on GMK's deterministic
// lane ([D1], [D2]): Conway's game of life on a torus, split into horizontal
// stripes, one module per stripe. Each generation, a stripe sends its top and
// bottom rows to its neighbours over deterministic channels; a stripe that
// has both halo rows (its gate: two deliveries per generation) computes its
// next generation and sends its new edge rows. What a stripe emits at tick T
// arrives at T+1, so one generation takes one tick.
//
// It prints the final population, a checksum of the grid and a line
// `trace hash <hex>`: the same for every run and every worker count
// (-workers, or the GMK_WORKERS environment variable).
//
// With -gpu N the last N stripes run on the simulated GPU kernel, the two
// kernels' deterministic lanes tied by tick fences (gpu/system
// Config.Fence): the edges between a CPU stripe and a GPU stripe cross the
// bridge, and the result and the hashes of both kernels are again the same
// for every run and worker count (gpu.go).
//
//	go run ./examples/sim [-gens 200] [-stripes 4] [-size 64] [-workers 2] [-gpu 0]
package main

import (
	"context"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/gmkernel/gmk/kernel"
)

// Task types: both deterministic.
const (
	tSeed = 1 // starts the run: every stripe sends its first edges
	tEdge = 2 // an edge row from a neighbour; Meta0 0 = from above, 1 = from below
	tGo   = 3 // -gpu: each kernel's stripes send their first edges (gpu.go)
)

type config struct {
	gens, stripes, size, workers int
	gpu                          int // stripes on the simulated GPU kernel
	seed                         uint64
}

func main() {
	c := config{workers: 2}
	if v, err := strconv.Atoi(os.Getenv("GMK_WORKERS")); err == nil && v > 0 {
		c.workers = v
	}
	flag.IntVar(&c.gens, "gens", 200, "generations to run")
	flag.IntVar(&c.stripes, "stripes", 4, "stripes (modules) the grid is split into")
	flag.IntVar(&c.size, "size", 64, "the grid is size×size cells")
	flag.IntVar(&c.workers, "workers", c.workers, "kernel workers (default $GMK_WORKERS or 2)")
	flag.Uint64Var(&c.seed, "seed", 42, "seed of the initial grid")
	flag.IntVar(&c.gpu, "gpu", 0, "the last N stripes run on the simulated GPU kernel, fenced to the CPU kernel's ticks")
	flag.Parse()
	if err := run(os.Stdout, c); err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		os.Exit(1)
	}
}

func run(out io.Writer, c config) error {
	if c.stripes < 1 || c.size%c.stripes != 0 || c.size/c.stripes < 1 || c.gens < 1 || c.gpu < 0 || c.gpu >= c.stripes {
		return fmt.Errorf("size %d must split into %d stripes, gens %d must be positive, and 0 ≤ gpu stripes %d < stripes",
			c.size, c.stripes, c.gens, c.gpu)
	}
	stripes := newStripes(c)
	if c.gpu > 0 {
		return runFenced(out, c, stripes)
	}
	mods := []kernel.Module{seeder(stripes)}
	for _, s := range stripes {
		mods = append(mods, s.module())
	}
	k, err := kernel.Boot(kernelConfig(c), mods...)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := k.Submit(kernel.Task{Type: tSeed}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := k.Halt(ctx); err != nil { // runs until the last generation
		return err
	}
	pop, sum, err := state(stripes)
	if err != nil {
		return err
	}
	st, ds := k.Stats(), k.DetStats()
	fmt.Fprintf(out, "life %dx%d, %d stripes, %d workers: %d generations in %d ticks, %v\n",
		c.size, c.size, c.stripes, c.workers, stripes[0].gen, ds.Tick, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(out, "population %d, grid crc32 %08x, %d tasks (%d deterministic), max tick %v\n",
		pop, sum, st.Completed, ds.Ran, time.Duration(ds.MaxTickNS).Round(time.Microsecond))
	fmt.Fprintf(out, "trace hash %016x\n", k.TraceHash())
	return nil
}

// newStripes splits the initial grid into c.stripes stripes.
func newStripes(c config) []*stripe {
	stripes := make([]*stripe, c.stripes)
	grid := initial(c.size, c.seed)
	rows := c.size / c.stripes
	for i := range stripes {
		stripes[i] = &stripe{index: i, n: c.stripes, size: c.size, gens: c.gens, cells: grid[i*rows : (i+1)*rows]}
	}
	return stripes
}

// kernelConfig is the kernel configuration of every kernel of the run.
func kernelConfig(c config) kernel.BootConfig {
	return kernel.BootConfig{Workers: c.workers, ArenaSize: 8 << 20, Types: []kernel.TypeInfo{
		{ID: tSeed, Name: "seed", Deterministic: true}, {ID: tEdge, Name: "edge", Deterministic: true},
		{ID: tGo, Name: "go", Deterministic: true}}}
}

// state returns the final population and the grid's checksum.
func state(stripes []*stripe) (pop int, sum uint32, err error) {
	h := crc32.NewIEEE()
	for _, s := range stripes {
		if s.err != nil {
			return 0, 0, s.err
		}
		for _, row := range s.cells {
			for _, cell := range row {
				pop += int(cell)
			}
			_, _ = h.Write(row)
		}
	}
	return pop, h.Sum32(), nil
}

// initial returns a size×size grid with about a third of the cells alive,
// from a fixed pseudo-random sequence.
func initial(size int, seed uint64) [][]byte {
	grid := make([][]byte, size)
	x := seed | 1
	for r := range grid {
		grid[r] = make([]byte, size)
		for c := range grid[r] {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			if x%3 == 0 {
				grid[r][c] = 1
			}
		}
	}
	return grid
}
