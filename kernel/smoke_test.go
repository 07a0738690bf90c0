package kernel

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func haltOK(t *testing.T, k *Kernel) HaltReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := k.Halt(ctx); err != nil {
		t.Fatalf("halt: %v", err)
	}
	r, _ := k.Halted()
	return r
}

// checkIdentity asserts the accounting identity of [C9] after Halt.
func checkIdentity(t *testing.T, r HaltReport) {
	t.Helper()
	s := r.Stats
	if got := s.Completed + s.Errored + s.Dropped + r.Queued; got != s.Created() {
		t.Fatalf("accounting: created %d != completed %d + errored %d + dropped %d + queued %d (= %d)",
			s.Created(), s.Completed, s.Errored, s.Dropped, r.Queued, got)
	}
}

func TestSmokePipeline(t *testing.T) {
	const (
		tIn  = 1
		tMid = 2
		tOut = 3
		n    = 100000
	)
	var got atomic.Int64
	var sum atomic.Uint64
	var chMid, chOut ChanID
	src := Module{Name: "src",
		Handlers: []Handler{{Type: tIn, Fn: func(c *Ctx) Status {
			x := *c.Task()
			x.Type = tMid
			if err := c.ChanEmit(chMid, x); err != nil {
				return Retry
			}
			return OK
		}}},
		Channels: []ChanDecl{{Name: "p.in", Dir: Consume, Type: tIn, Guarantee: Lossless},
			{Name: "p.mid", Dir: Produce, Type: tMid, Guarantee: Lossless}},
		Init: func(c *Ctx) (err error) {
			chMid, err = c.Kernel().Chan("p.mid")
			return err
		},
	}
	mid := Module{Name: "mid",
		Handlers: []Handler{{Type: tMid, Fn: func(c *Ctx) Status {
			x := *c.Task()
			x.Type = tOut
			x.Meta0++
			if err := c.ChanEmit(chOut, x); err != nil {
				return Retry
			}
			return OK
		}}},
		Channels: []ChanDecl{{Name: "p.mid", Dir: Consume, Type: tMid, Guarantee: Lossless},
			{Name: "p.out", Dir: Produce, Type: tOut, Guarantee: Lossless}},
		Init: func(c *Ctx) (err error) {
			chOut, err = c.Kernel().Chan("p.out")
			return err
		},
	}
	sink := Module{Name: "sink",
		Handlers: []Handler{{Type: tOut, Fn: func(c *Ctx) Status {
			got.Add(1)
			sum.Add(c.Task().Meta0)
			return OK
		}}},
		Channels: []ChanDecl{{Name: "p.out", Dir: Consume, Type: tOut, Guarantee: Lossless}},
	}
	k, err := Boot(BootConfig{Workers: 2, ArenaSize: 8 << 20}, src, mid, sink)
	if err != nil {
		t.Fatal(err)
	}
	in, err := k.Chan("p.in")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		for k.ChanEmit(in, Task{Type: tIn, Meta0: uint64(i)}) != nil {
			time.Sleep(time.Microsecond)
		}
	}
	for _, name := range []string{"p.mid", "p.out"} {
		id, _ := k.Chan(name)
		cs, _ := k.ChanStats(id)
		defer t.Logf("%+v", cs)
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if got.Load() != n {
		t.Fatalf("sink got %d, want %d (%v)", got.Load(), n, r.Stats)
	}
	if want := uint64(n*(n-1)/2 + n); sum.Load() != want {
		t.Fatalf("sum %d want %d", sum.Load(), want)
	}
	t.Logf("%v", r.Stats)
}
