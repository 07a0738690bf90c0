package channel_test

import (
	"fmt"

	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/metrics"
	"github.com/gmkernel/gmk/kernel/task"
)

// printEnv is a kernel side that reports what the channel asks of it.
type printEnv struct{}

func (printEnv) Dropped(from int, t task.Task, code task.Status) {
	fmt.Printf("dropped message %d for subscriber %d: %v\n", t.Meta0, t.Subscriber(), code)
}
func (printEnv) AddRefs(payload uint64, n int) { fmt.Printf("payload %#x: +%d refs\n", payload, n) }
func (printEnv) Wake(int)                      {}

// A lossy fan-out channel with two subscribers: both get a copy of the header,
// the payload gains one reference for the extra copy, and a subscriber whose
// queue is full loses its copy to sys.dropped while the other still gets it.
func Example() {
	reg := channel.NewRegistry(16)
	stats := metrics.NewSet((reg.Max()+1)*channel.NumStats, 0)
	em := &channel.Emitter{Worker: -1, Stats: stats, Env: printEnv{}}

	c, _, _ := reg.Open(channel.Spec{Name: "prices.tick", Type: 1, Mode: channel.FanOut, Slots: 2})
	fast, _ := c.Subscribe(0, 10)
	slow, _ := c.Subscribe(1, 11)

	buf := make([]task.Task, 4)
	for i := range 3 {
		t := task.Task{Type: 1, Meta0: uint64(i), Payload: 0xA0 + uint64(i)}
		st, n := c.Emit(em, &t)
		fmt.Printf("emit %d: %v, %d copies\n", i, st, n)
		fast.Drain(buf) // the slow subscriber never drains
	}
	n := slow.Drain(buf)
	for _, d := range buf[:n] {
		fmt.Printf("slow got message %d seq %d on channel %d\n", d.Meta0, d.Seq, d.ChannelID())
	}
	fmt.Println("drops:", stats.Value(int(c.ID())*channel.NumStats+channel.StatDrops))
	// Output:
	// payload 0xa0: +1 refs
	// emit 0: OK, 2 copies
	// payload 0xa1: +1 refs
	// emit 1: OK, 2 copies
	// payload 0xa2: +1 refs
	// dropped message 2 for subscriber 1: CHAN_FULL
	// emit 2: OK, 1 copies
	// slow got message 0 seq 1 on channel 1
	// slow got message 1 seq 2 on channel 1
	// drops: 1
}
