package main

import (
	"fmt"

	"github.com/gmkernel/gmk/kernel"
)

// stripe is a band of rows of the grid and the module that evolves it. Its
// handler runs on the deterministic lane, one task at a time.
type stripe struct {
	index, n, size, gens int
	cells                [][]byte
	halo                 [2][]byte // row above (0) and row below (1), this generation
	got                  int       // halo rows received this generation (the gate)
	gen                  int
	up, down             kernel.ChanID // the neighbours' edge channels
	err                  error
}

func edgeChan(i int) string { return fmt.Sprintf("sim.edge%d", i) }

func (s *stripe) module() kernel.Module {
	above, below := (s.index+s.n-1)%s.n, (s.index+1)%s.n
	decl := func(i int, dir kernel.Dir) kernel.ChanDecl {
		return kernel.ChanDecl{Name: edgeChan(i), Dir: dir, Type: tEdge, Mode: kernel.P2P, Guarantee: kernel.Lossless}
	}
	m := kernel.Module{Name: fmt.Sprintf("stripe%d", s.index),
		Handlers: []kernel.Handler{{Type: tEdge, Name: "edge", Flags: kernel.DetHandler, Fn: s.edge}},
		Channels: []kernel.ChanDecl{decl(s.index, kernel.Consume), decl(above, kernel.Produce)},
		Init: func(c *kernel.Ctx) (err error) {
			if s.up, err = c.Kernel().Chan(edgeChan(above)); err != nil {
				return err
			}
			s.down, err = c.Kernel().Chan(edgeChan(below))
			return err
		}}
	if below != above {
		m.Channels = append(m.Channels, decl(below, kernel.Produce))
	}
	s.halo = [2][]byte{make([]byte, s.size), make([]byte, s.size)}
	return m
}

// seeder starts the run: each stripe sends its first edges.
func seeder(stripes []*stripe) kernel.Module {
	return kernel.Module{Name: "seeder",
		Handlers: []kernel.Handler{{Type: tSeed, Name: "seed", Flags: kernel.DetHandler, Fn: sendAll(stripes)}}}
}

// edge takes a neighbour's row; with both rows, the stripe steps.
func (s *stripe) edge(c *kernel.Ctx) kernel.Status {
	t := c.Task()
	copy(s.halo[t.Meta0&1], c.Payload())
	if s.got++; s.got < 2 {
		return kernel.OK
	}
	s.got = 0
	s.step()
	if s.gen >= s.gens {
		return kernel.OK
	}
	return s.sendEdges(c)
}

// sendEdges sends the top row up (it is the row below for the stripe above)
// and the bottom row down.
func (s *stripe) sendEdges(c *kernel.Ctx) kernel.Status {
	for _, e := range [...]struct {
		ch  kernel.ChanID
		row []byte
		dir uint64
	}{{s.up, s.cells[0], 1}, {s.down, s.cells[len(s.cells)-1], 0}} {
		h, buf, err := c.Alloc(len(e.row))
		if err != nil {
			s.err = err
			return kernel.Fail
		}
		copy(buf, e.row)
		t := kernel.Task{Type: tEdge, Payload: h, PayloadLen: uint32(len(e.row)), Meta0: e.dir, Meta1: uint64(s.gen)}
		if err := c.ChanEmit(e.ch, t); err != nil {
			_ = c.Free(h)
			s.err = err
			return kernel.Fail
		}
	}
	return kernel.OK
}

// step computes the next generation of the stripe from its rows and halo.
func (s *stripe) step() {
	rows := len(s.cells)
	at := func(r, c int) byte {
		c = (c + s.size) % s.size
		switch {
		case r < 0:
			return s.halo[0][c]
		case r >= rows:
			return s.halo[1][c]
		}
		return s.cells[r][c]
	}
	next := make([][]byte, rows)
	for r := range next {
		next[r] = make([]byte, s.size)
		for c := range next[r] {
			n := 0
			for dr := -1; dr <= 1; dr++ {
				for dc := -1; dc <= 1; dc++ {
					if dr != 0 || dc != 0 {
						n += int(at(r+dr, c+dc))
					}
				}
			}
			if n == 3 || (n == 2 && s.cells[r][c] == 1) {
				next[r][c] = 1
			}
		}
	}
	for r := range next {
		copy(s.cells[r], next[r])
	}
	s.gen++
}
