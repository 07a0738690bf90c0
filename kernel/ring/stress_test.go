package ring

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// stressCase is one concurrent run: producers push perProducer values each,
// mixing Push and PushBatch; consumers mix Pop and PopBatch until every value
// is out. Values are tasks whose Meta0 is a unique id and Meta1 its complement,
// so a torn or mixed-up cell shows.
type stressCase struct {
	name                 string
	producers, consumers int
	capacity             int
	start                uint64
	perProducer          int
	newRing              func(capacity int, start uint64) queue[task.Task]
}

func mpmcTasks(c int, s uint64) queue[task.Task] { return newMPMCAt[task.Task](c, s) }
func spscTasks(c int, s uint64) queue[task.Task] { return newSPSCAt[task.Task](c, s) }
func spscInTasks(c int, _ uint64) queue[task.Task] {
	return NewSPSCIn[task.Task](make([]byte, roundCapacity(c)*task.Size+7))
}

// [R1][R2] Several producers and consumers, single and batch operations mixed,
// indices starting just before the uint64 wrap-around: every value comes out
// exactly once, intact; with one consumer, each producer's values come out in
// the order it pushed them.
func TestR1_MPMCStress(t *testing.T) {
	const n = 8000 * stressScale // per producer; about a second under -race on 2 cores
	for _, c := range []stressCase{
		{"4P4C/cap8", 4, 4, 8, 0, n, mpmcTasks},
		{"4P4C/cap8/wrap", 4, 4, 8, ^uint64(0) - 2*n, n, mpmcTasks},
		{"3P1C/cap64/wrap", 3, 1, 64, ^uint64(0) - n, n, mpmcTasks},
		{"1P3C/cap2/wrap", 1, 3, 2, ^uint64(0) - n/2, n, mpmcTasks},
	} {
		t.Run(c.name, func(t *testing.T) { runStress(t, c) })
	}
}

// [R1][R2] One producer and one consumer, single and batch operations mixed:
// every value comes out exactly once, intact and in order.
func TestR1_SPSCStress(t *testing.T) {
	const n = 15000 * stressScale
	for _, c := range []stressCase{
		{"cap2/wrap", 1, 1, 2, ^uint64(0) - n/2, n, spscTasks},
		{"cap16/wrap", 1, 1, 16, ^uint64(0) - n/2, n, spscTasks},
		{"cap1024", 1, 1, 1024, 0, n, spscTasks},
		{"arena/cap16", 1, 1, 16, 0, n, spscInTasks},
	} {
		t.Run(c.name, func(t *testing.T) { runStress(t, c) })
	}
}

func runStress(t *testing.T, c stressCase) {
	r := c.newRing(c.capacity, c.start)
	total := c.producers * c.perProducer
	seen := make([]atomic.Int32, total)
	var producersDone atomic.Bool
	var pwg, cwg sync.WaitGroup
	for p := range c.producers {
		pwg.Go(func() { produce(r, p, c.perProducer) })
	}
	for i := range c.consumers {
		cwg.Go(func() {
			if err := consume(r, uint64(i), seen, c.perProducer, c.consumers == 1, &producersDone); err != nil {
				t.Error(err)
			}
		})
	}
	pwg.Wait()
	producersDone.Store(true)
	cwg.Wait()
	bad := 0
	for id := range seen {
		if k := seen[id].Load(); k != 1 && bad < 10 {
			bad++
			t.Errorf("value %d came out %d times", id, k)
		}
	}
	if r.Len() != 0 {
		t.Errorf("Len() = %d after draining", r.Len())
	}
}

// produce pushes ids p*n .. p*n+n-1 in order, in single pushes and batches of
// 1..32, yielding whenever the ring is full.
func produce(r queue[task.Task], p, n int) {
	rng := rand.New(rand.NewPCG(uint64(p), 1))
	batch := make([]task.Task, 32)
	for i := 0; i < n; {
		k := 1
		if rng.IntN(2) == 0 {
			k = 1 + rng.IntN(min(32, n-i))
		}
		for j := range k {
			batch[j] = stressTask(p, p*n+i+j)
		}
		for sent := 0; sent < k; {
			var m int
			if k == 1 {
				m = b2i(r.Push(&batch[0]))
			} else {
				m = r.PushBatch(batch[sent:k])
			}
			if m == 0 {
				runtime.Gosched() // full: let a consumer run
			}
			sent += m
		}
		i += k
	}
}

func stressTask(p, id int) task.Task {
	return task.Task{Type: uint32(p), Meta0: uint64(id), Meta1: ^uint64(id)}
}

// consume pops until the producers are done and the ring is empty, marking
// each id in seen, and returns the first bad value it saw. With ordered set it
// is the only consumer and checks that each producer's ids arrive in
// increasing order.
func consume(r queue[task.Task], seed uint64, seen []atomic.Int32, n int, ordered bool, done *atomic.Bool) error {
	rng := rand.New(rand.NewPCG(seed, 2))
	buf := make([]task.Task, 32)
	last := map[uint32]int{}
	var firstErr error
	for {
		k := 0
		if rng.IntN(2) == 0 {
			k = b2i(r.Pop(&buf[0]))
		} else {
			k = r.PopBatch(buf[:1+rng.IntN(32)])
		}
		if k == 0 {
			// All pushes are published once the producers returned, so an
			// empty ring then is empty for good.
			if done.Load() && r.Len() == 0 {
				return firstErr
			}
			runtime.Gosched()
			continue
		}
		for _, v := range buf[:k] {
			if err := checkStressTask(v, seen, n, ordered, last); err != nil && firstErr == nil {
				firstErr = err // keep draining, or the producers would spin on a full ring
			}
		}
	}
}

func checkStressTask(v task.Task, seen []atomic.Int32, n int, ordered bool, last map[uint32]int) error {
	id := int(v.Meta0)
	if v.Meta1 != ^v.Meta0 || id >= len(seen) || id/n != int(v.Type) {
		return fmt.Errorf("torn or foreign value %+v", v)
	}
	seen[id].Add(1)
	if prev, ok := last[v.Type]; ordered && ok && id <= prev {
		return fmt.Errorf("producer %d: id %d after %d", v.Type, id, prev)
	}
	last[v.Type] = id
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
