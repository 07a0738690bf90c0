package bridge

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestB4_StressDuplexExactlyOnce: side A sends tasks (inline and payloads up
// to 4 KiB, random batch sizes and interval flushes) to side B, which echoes
// each back; three goroutines, small rings so both sides hit full and empty
// and sleep on their bells, indices starting near the uint64 wrap. Every task
// comes back exactly once, in order, with its payload intact. Under -race this
// also checks the publication protocol: slot and staging bytes are plain
// memory ordered only by the index stores.
func TestB4_StressDuplexExactlyOnce(t *testing.T) { forModes(t, testStressDuplexExactlyOnce) }

// testStressDuplexExactlyOnce is TestB4_StressDuplexExactlyOnce in one slot format (ll: LL rings).
func testStressDuplexExactlyOnce(t *testing.T, ll bool) {
	n := 20000 * stressScale
	a, b := newMemAt(t, Config{Capacity: 16, Staging: 16 << 10, LL: ll}, nearWrap)
	size := func(i int) int { return []int{0, 0, 1, 33, 4096, 0, 700}[i%7] }

	var wg sync.WaitGroup
	errs := make(chan error, 3)
	wg.Add(2)
	go func() { // A: sender
		defer wg.Done()
		rng := rand.New(rand.NewPCG(1, 2))
		bt, _ := NewBatcher(a, BatchConfig{Size: 1 + rng.IntN(32)})
		for i := range n {
			tk, p := withPayload(i, size(i))
			for {
				err := bt.Add(&tk, p)
				if err == nil {
					break
				}
				if !errors.Is(err, ErrFull) {
					errs <- err
					return
				}
				a.tx.Wait(time.Second)
			}
			if rng.IntN(50) == 0 {
				bt.Flush() // an idle moment: the poll interval expired
			}
		}
		bt.Flush()
	}()
	go func() { // B: echo
		defer wg.Done()
		errs <- runEcho(b)
	}()
	got := 0
	dst := make([]Msg, 8)
	for got < n {
		k, err := a.rx.Peek(dst)
		if err != nil {
			t.Fatalf("A Peek after %d: %v", got, err)
		}
		if k == 0 {
			a.rx.Wait(time.Second)
			continue
		}
		for _, m := range dst[:k] {
			want, wp := withPayload(got, size(got))
			if m.Task != want || !bytes.Equal(m.Payload, wp) {
				t.Fatalf("task %d: got %+v (%d bytes)", got, m.Task, len(m.Payload))
			}
			got++
		}
		a.rx.Release()
	}
	a.Disconnect() // stops the echo
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if s := b.rx.Stats(); s.Tasks != uint64(n) {
		t.Fatalf("B received %d, want %d", s.Tasks, n)
	}
}

// runEcho sends back every task t receives until t is disconnected.
func runEcho(t Transport) error {
	rx, tx := t.Receiver(), t.Sender()
	dst := make([]Msg, 5)
	for {
		n, err := rx.Peek(dst)
		if errors.Is(err, ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		if n == 0 {
			rx.Wait(time.Second)
			continue
		}
		for i := 0; i < n; {
			err := tx.Stage(&dst[i].Task, dst[i].Payload)
			switch {
			case err == nil:
				i++
			case errors.Is(err, ErrClosed):
				return nil
			case errors.Is(err, ErrFull):
				tx.Publish()
				tx.Wait(time.Second)
			default:
				return err
			}
		}
		tx.Publish()
		rx.Release()
	}
}
