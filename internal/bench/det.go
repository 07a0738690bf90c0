package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gmkernel/gmk/kernel"
)

// The determinism overhead (issue 7 acceptance 3): how much a flood of plain
// tasks slows down while the deterministic lane runs a simulation beside it
// on the same kernel. The flood is DetFlood inline tasks submitted in
// batches from outside; the lane runs detEntities entities that exchange a
// value over a deterministic channel every tick, free-running (a tick
// starts when the last one ended) for as long as the flood lasts.
// Overhead = (flood time beside the lane ÷ flood time alone) − 1. The lane
// takes worker 0's time in turns with the flood; its own cost — the same
// number of ticks run alone, spread over the two workers' time — is the
// bound the overhead is compared with.

// DetFlood is the number of plain tasks per measurement.
const DetFlood = 400_000

const (
	detStep = iota + 1
	detMsg
	detNoise
	detEntities = 16
)

// DetResult is one determinism-overhead measurement (medians).
type DetResult struct {
	AloneNS, BesideNS float64 // flood ns/task
	TickNS            float64 // the lane's mean wall time per tick while flooded
	Ticks             uint64  // ticks the lane ran during the flood
	LaneNS            float64 // the lane alone: wall time for those ticks
	OverheadPct       float64
	BoundPct          float64 // the lane's own cost, as a share of both workers' time during the flood alone
	BusyPct           float64 // worker 0's time in the lane during the flood, as a share of the flood's wall time
}

// DetOverhead measures the determinism overhead count times and writes the
// median: a few lines and `determinism overhead <x>%`.
func DetOverhead(w io.Writer, count int) (DetResult, error) {
	if count < 1 {
		count = DefaultCount
	}
	var alone, beside, tick, lane, busyPct []float64
	var ticks []uint64
	for range count {
		a, _, _, _, err := detRun(true, false, 0)
		if err != nil {
			return DetResult{}, err
		}
		b, tk, n, busy, err := detRun(true, true, 0)
		if err != nil {
			return DetResult{}, err
		}
		l, _, _, _, err := detRun(false, true, n)
		if err != nil {
			return DetResult{}, err
		}
		alone, beside, tick, ticks = append(alone, a), append(beside, b), append(tick, tk), append(ticks, n)
		lane, busyPct = append(lane, l), append(busyPct, float64(busy)/(b*DetFlood)*100)
	}
	r := DetResult{AloneNS: medianF(alone), BesideNS: medianF(beside), TickNS: medianF(tick), LaneNS: medianF(lane)}
	slices.Sort(ticks)
	r.Ticks = ticks[len(ticks)/2]
	r.OverheadPct = (r.BesideNS/r.AloneNS - 1) * 100
	r.BoundPct = r.LaneNS / (2 * r.AloneNS * DetFlood) * 100
	r.BusyPct = medianF(busyPct)
	_, err := fmt.Fprintf(w, "det flood alone %.1f ns/task, beside the lane %.1f ns/task; lane %d ticks (%.0f ns/tick flooded, %.1f ms alone = %.1f%% of the flood's worker time; worker 0 in the lane %.1f%% of the flood)\ndeterminism overhead %.1f%%\n",
		r.AloneNS, r.BesideNS, r.Ticks, r.TickNS, r.LaneNS/1e6, r.BoundPct, r.BusyPct, r.OverheadPct)
	return r, err
}

func medianF(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// detRun times DetFlood plain tasks (flood), with the lane running beside
// them or not, and returns ns per flood task, the lane's ns per tick and its
// tick count. Without a flood it runs the lane alone for maxTicks ticks and
// returns the total ns as nsPerTask.
func detRun(flood, lane bool, maxTicks uint64) (nsPerTask, nsPerTick float64, ticks uint64, busyNS int64, err error) {
	var done, stop atomic.Bool
	var ring kernel.ChanID
	vals := make([]uint64, detEntities)
	step := func(c *kernel.Ctx) kernel.Status {
		i := c.Task().Meta1
		vals[i] = vals[i]*31 + c.Task().Meta0
		if stop.Load() || (maxTicks > 0 && c.Tick() >= maxTicks) {
			if maxTicks > 0 && c.Tick() >= maxTicks {
				done.Store(true)
			}
			return kernel.OK
		}
		if c.ChanEmit(ring, kernel.Task{Type: detMsg, Meta0: vals[i], Meta1: (i + 1) % detEntities}) != nil {
			return kernel.Retry
		}
		if c.Emit(kernel.Task{Type: detStep, Meta0: 1, Meta1: i}) != nil {
			return kernel.Fail
		}
		return kernel.OK
	}
	msg := func(c *kernel.Ctx) kernel.Status { vals[c.Task().Meta1] ^= c.Task().Meta0; return kernel.OK }
	var flooded atomic.Int64
	mods := []kernel.Module{{Name: "lane", Handlers: []kernel.Handler{
		{Type: detStep, Fn: step, Flags: kernel.DetHandler}, {Type: detMsg, Fn: msg, Flags: kernel.DetHandler}},
		Channels: []kernel.ChanDecl{{Name: "det.ring", Dir: kernel.Produce, Type: detMsg, Mode: kernel.FanOut, Guarantee: kernel.Lossless},
			{Name: "det.ring", Dir: kernel.Consume, Type: detMsg, Mode: kernel.FanOut, Guarantee: kernel.Lossless}},
		Init: func(c *kernel.Ctx) (err error) { ring, err = c.Kernel().Chan("det.ring"); return err }},
		{Name: "flood", Handlers: []kernel.Handler{{Type: detNoise, Fn: func(*kernel.Ctx) kernel.Status {
			if flooded.Add(1) == DetFlood {
				done.Store(true)
			}
			return kernel.OK
		}}}}}
	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 4 << 20, MaxTypes: 8, MaxChannels: 8, QueueCap: 16384,
		Types: []kernel.TypeInfo{{ID: detStep, Deterministic: true}, {ID: detMsg, Deterministic: true}}}, mods...)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	if lane {
		var in []kernel.Task
		for i := range detEntities {
			in = append(in, kernel.Task{Type: detStep, Meta1: uint64(i)})
		}
		if _, err := k.SubmitBatch(in); err != nil {
			return 0, 0, 0, 0, err
		}
		for k.DetStats().Tick < 2 { // the lane is running
			time.Sleep(50 * time.Microsecond)
		}
	}
	t0, tick0, busy0 := time.Now(), k.DetStats().Tick, k.DetStats().BusyNS
	batch := make([]kernel.Task, 256)
	for sent := 0; flood && sent < DetFlood; {
		n := min(len(batch), DetFlood-sent)
		for i := range batch[:n] {
			batch[i] = kernel.Task{Type: detNoise, Meta0: uint64(sent + i)}
		}
		m, _ := k.SubmitBatch(batch[:n])
		sent += m
	}
	for !done.Load() {
		time.Sleep(20 * time.Microsecond)
	}
	el := time.Since(t0)
	ticks = k.DetStats().Tick - tick0
	busyNS = k.DetStats().BusyNS - busy0
	stop.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := k.Halt(ctx); err != nil {
		return 0, 0, 0, 0, err
	}
	if !flood {
		return float64(el.Nanoseconds()), 0, ticks, busyNS, nil
	}
	if ticks > 0 {
		nsPerTick = float64(el.Nanoseconds()) / float64(ticks)
	}
	return float64(el.Nanoseconds()) / DetFlood, nsPerTick, ticks, busyNS, nil
}
