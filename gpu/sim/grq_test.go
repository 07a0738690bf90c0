package sim_test

import (
	"sync"
	"testing"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/kernel"
)

// [S3] [G1] Acceptance 11 on the simulated GPU kernel: a flood of three
// types, interleaved task by task, runs in homogeneous batches — at most one
// run of a type per batch of 32 — and a few tasks of a rare, low-priority
// type queued behind the whole flood run within one lap of the bucket
// rotation (after at most one batch of each flood type), not after the
// flood. One worker keeps the order deterministic.
func TestS3_Acceptance11_SimGRQHomogeneousAndAging(t *testing.T) {
	const nFlood, nRare, tRare = 1500, 16, 4
	var mu sync.Mutex
	var order []uint32
	rec := func(c *kernel.Ctx, l gpu.Lane) kernel.Status {
		mu.Lock()
		order = append(order, c.Task().Type)
		mu.Unlock()
		return kernel.OK
	}
	m := gpu.Module{Name: "flood",
		Handlers: []gpu.Handler{
			{Type: 1, Name: "a", Flags: kernel.Scalar, Fn: rec},
			{Type: 2, Name: "b", Flags: kernel.Scalar, Fn: rec},
			{Type: 3, Name: "c", Flags: kernel.Scalar, Fn: rec},
			{Type: tRare, Name: "rare", Flags: kernel.Scalar, Fn: rec},
		},
		Init: func(c *kernel.Ctx) error {
			for i := range 3*nFlood + nRare {
				x := kernel.Task{Type: uint32(1 + i%3)}
				if i >= 3*nFlood {
					x = kernel.Task{Type: tRare}
					x.SetPriority(3)
				}
				if err := c.Emit(x); err != nil {
					return err
				}
			}
			return nil
		}}
	s := fxSim(t, sim.Config{Workers: 1}, m)
	fxWait(t, "the flood", func() bool { mu.Lock(); defer mu.Unlock(); return len(order) == 3*nFlood+nRare })
	fxHalt(t, s)

	const batch = 32
	runs, before, rareSeen := 1, 0, 0
	for i, ty := range order {
		if i > 0 && ty != order[i-1] {
			runs++
		}
		if ty == tRare {
			rareSeen++
		} else if rareSeen == 0 {
			before++
		}
	}
	batches := 3*((nFlood+batch-1)/batch) + (nRare+batch-1)/batch
	if runs > batches {
		t.Fatalf("%d runs of one type, want at most %d (one per batch): batches are not homogeneous", runs, batches)
	}
	if rareSeen != nRare || before > 3*batch {
		t.Fatalf("the rare type ran %d of %d tasks after %d flood tasks, want after at most %d (one lap)", rareSeen, nRare, before, 3*batch)
	}
	t.Logf("%d runs in %d batches; the rare tasks ran after %d of %d flood tasks", runs, batches, before, 3*nFlood)
}
