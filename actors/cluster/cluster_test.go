//go:build !race

// The tests in this file start protoactor cluster members (remote on
// 127.0.0.1), whose own code trips the race detector (see the actor issue);
// they run in the plain `go test` build. GMK's own logic — the producer
// stream, the consumer's dedup and acknowledgement, the kernel's suspension —
// is tested under -race in outbound_test.go, inbound_test.go and package
// kernel.

package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// TestX5_ClusterChannelSurvivesConsumerLoss is acceptance item 5 of the
// actor issue ([X5]): a 3-member cluster in one process — A produces, B and C
// can consume — carries 100,000 tasks of the lossless cluster channel
// orders.in from A to the consumer grain's member. Mid-stream that member
// crashes: A's producer sees CHAN_CLOSED, the grain re-activates on the
// survivor, the stream resumes, and every task is handled at least once;
// a task handled twice is flagged task.Redelivered the second time, and
// their number is at most A's Stats.Redelivered. While both consumers are up,
// each sees its tasks once and in order.
func TestX5_ClusterChannelSurvivesConsumerLoss(t *testing.T) {
	const n = 100_000
	h := newHistory(n)
	agent := test.NewInMemAgent()
	nodes := startCluster(t, agent, []nodeSpec{{name: "a"}, {name: "b", consume: true}, {name: "c", consume: true}}, h)
	a := nodes[0]
	// A producer on A emitting while the channel is suspended sees
	// CHAN_CLOSED: the hook runs inside the suspension, so this does not
	// depend on timing (the producer goroutine below usually sees it too).
	probe := make(chan error, 1)
	hook := func(k *kernel.Kernel, id kernel.ChanID) {
		if k == a.k {
			probe <- k.ChanEmit(id, task.Task{Type: chanType, Meta0: n})
		}
	}
	testHookSuspended.Store(&hook)
	defer testHookSuspended.Store(nil)
	id, err := a.m.Chan(chanName)
	if err != nil {
		t.Fatal(err)
	}

	var closed atomic.Int64
	prodDone := make(chan error, 1)
	go func() { prodDone <- produce(a.k, id, n, &closed) }()

	// Crash the consumer's member once a third of the stream was handled.
	waitFor(t, "a third of the stream handled", func() bool { return h.total.Load() >= n/3 })
	host := h.hostOf(nodes[1:])
	if host == nil {
		t.Fatal("no consumer member has handled anything")
	}
	survivor := nodes[1]
	if host == survivor {
		survivor = nodes[2]
	}
	t.Logf("crashing %s (%d handled there)", host.name, host.rec.count())
	host.crash(t, agent)

	waitFor(t, "every task handled", func() bool { return h.missing() == 0 })
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	sa := a.m.Stats()
	dups := h.check(t)
	t.Logf("CHAN_CLOSED seen by the producer %d times; A: %+v", closed.Load(), sa)
	t.Logf("survivor %s: %+v", survivor.name, survivor.m.Stats())
	t.Logf("handled twice: %d (all flagged redelivered); redelivered by A: %d", dups, sa.Redelivered)
	select {
	case err := <-probe:
		if !errors.Is(err, kernel.ErrChanClosed) {
			t.Errorf("emit while the consumer's member was lost: %v, want CHAN_CLOSED", err)
		}
	default:
		t.Errorf("the channel was never suspended (suspensions %d)", sa.Suspensions)
	}
	for _, x := range nodes[1:] {
		if o := x.rec.order.Load(); o != 0 {
			t.Errorf("%s handled %d tasks out of order", x.name, o)
		}
	}
	if survivor.rec.count() == 0 {
		t.Error("the survivor handled nothing: the grain did not re-activate there")
	}
	if uint64(dups) > sa.Redelivered {
		t.Errorf("%d tasks handled twice, only %d redelivered", dups, sa.Redelivered)
	}
	stopCluster(t, []*node{a, survivor})
}

// produce emits tasks 0..n-1 on id, waiting while the channel is full and
// retrying (after a short pause) while it is suspended (CHAN_CLOSED).
func produce(k *kernel.Kernel, id kernel.ChanID, n int, closed *atomic.Int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	for i := range n {
		for {
			err := k.ChanEmitWait(ctx, id, task.Task{Type: chanType, Meta0: uint64(i)})
			if err == nil {
				break
			}
			if !errors.Is(err, kernel.ErrChanClosed) {
				return fmt.Errorf("emit %d: %w", i, err)
			}
			closed.Add(1)
			time.Sleep(50 * time.Microsecond) // suspended: poll until it reopens
		}
	}
	return nil
}

// history records every handling of every task across the consumers.
type history struct {
	total     atomic.Int64
	handled   []atomic.Int32 // handlings of task i
	unflagged []atomic.Int32 // handlings of task i without task.Redelivered
}

func newHistory(n int) *history {
	return &history{handled: make([]atomic.Int32, n), unflagged: make([]atomic.Int32, n)}
}

func (h *history) missing() int {
	m := 0
	for i := range h.handled {
		if h.handled[i].Load() == 0 {
			m++
		}
	}
	return m
}

func (h *history) hostOf(ns []*node) *node {
	for _, x := range ns {
		if x.rec.count() > 0 {
			return x
		}
	}
	return nil
}

// check asserts the accounting: every task handled at least once, at most
// once without the redelivered flag; it returns the extra handlings.
func (h *history) check(t *testing.T) int {
	t.Helper()
	dups := 0
	for i := range h.handled {
		c, u := h.handled[i].Load(), h.unflagged[i].Load()
		if c == 0 {
			t.Fatalf("task %d lost", i)
		}
		if u > 1 {
			t.Fatalf("task %d handled %d times without the redelivered flag", i, u)
		}
		dups += int(c - 1)
	}
	return dups
}

// recorder is a consumer member's sink: it runs on the delivery
// subscription's home worker, one task at a time.
type recorder struct {
	h     *history
	n     atomic.Int64
	last  int64 // last Meta0 handled here (home worker only)
	order atomic.Int64
}

func (r *recorder) count() int64 { return r.n.Load() }

func (r *recorder) handle(c *kernel.Ctx) kernel.Status {
	x := c.Task()
	i := int64(x.Meta0)
	if r.n.Load() > 0 && i <= r.last {
		r.order.Add(1)
	}
	r.last = i
	r.h.handled[i].Add(1)
	if x.Flags&task.Redelivered == 0 {
		r.h.unflagged[i].Add(1)
	}
	r.n.Add(1)
	r.h.total.Add(1)
	return kernel.OK
}
