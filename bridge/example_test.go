package bridge_test

import (
	"fmt"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/kernel/task"
)

// Two kernels in one process joined by a bridge: side A sends three tasks
// through a Batcher of 2 — an inline one and two with payloads — and side B
// receives them with Poll, copying each payload out before the release.
func ExampleNewMemPair() {
	a, b, err := bridge.NewMemPair(bridge.Config{Capacity: 16, Staging: 4096})
	if err != nil {
		panic(err)
	}
	defer a.Close()
	tx, _ := bridge.NewBatcher(a, bridge.BatchConfig{Size: 2})
	rx, _ := bridge.NewBatcher(b, bridge.BatchConfig{Size: 2})

	for i, p := range []string{"", "hello", "gpu"} {
		t := task.Task{Type: 7, Meta0: uint64(i), PayloadLen: uint32(len(p))}
		if err := tx.Add(&t, []byte(p)); err != nil { // the 2nd Add fills the batch: published
			panic(err)
		}
	}
	tx.Flush() // the 3rd task's batch is partial: publish it now (Tick would, after 10 µs)

	for {
		n, err := rx.Poll(func(ms []bridge.Msg) {
			for _, m := range ms {
				kept := string(m.Payload) // copy out: the view dies at the release
				fmt.Printf("task %d type %d payload %q\n", m.Task.Meta0, m.Task.Type, kept)
			}
		})
		if n == 0 || err != nil {
			break
		}
	}
	sent, _ := tx.Stats()
	fmt.Printf("%d tasks in %d transfers\n", sent.Tasks, sent.Transfers)
	// Output:
	// task 0 type 7 payload ""
	// task 1 type 7 payload "hello"
	// task 2 type 7 payload "gpu"
	// 3 tasks in 2 transfers
}
