package bridge

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/gmkernel/gmk/kernel/task"
)

// RTTResult is the distribution of one round-trip measurement.
type RTTResult struct {
	N             int
	P50, P99, Min time.Duration
}

// rttConfig sizes the rings of a round-trip measurement: one task in flight.
var rttConfig = Config{Capacity: 64, Staging: 64 << 10}

// BenchRTT measures the bridge round trip over an in-memory pair, for each
// kind ("mem", "mem-ll": the version-1 and the LL slot format), and writes
// one line per kind to w:
//
//	bridge-rtt <mem|mem-ll> inline p50=<ns> p99=<ns> min=<ns> n=<round trips>
//
// Side A sends an inline task, side B's goroutine echoes it back, side A
// waits for the echo before sending the next: n round trips, one task in
// flight, both sides polling (Receiver.Wait: a spin, then yields, then a
// sleep). This is the Go ↔ Go latency of the ring protocol alone; the GPU
// bench's bridge-rtt line measures the device path.
func BenchRTT(w io.Writer, kinds []string, n int) error {
	for _, kind := range kinds {
		if kind != "mem" && kind != "mem-ll" {
			return fmt.Errorf("bridge rtt: unknown transport %q (want mem or mem-ll)", kind)
		}
		r, err := RTT(kind == "mem-ll", n)
		if err != nil {
			return fmt.Errorf("bridge rtt %s: %w", kind, err)
		}
		fmt.Fprintf(w, "bridge-rtt %s inline p50=%d p99=%d min=%d n=%d\n",
			kind, r.P50.Nanoseconds(), r.P99.Nanoseconds(), r.Min.Nanoseconds(), r.N)
	}
	return nil
}

// RTT runs n round trips (see BenchRTT) over a fresh in-memory pair, LL
// rings when ll, and returns their distribution.
func RTT(ll bool, n int) (RTTResult, error) {
	if n < 1 {
		return RTTResult{}, errors.New("bridge rtt: n < 1")
	}
	c := rttConfig
	c.LL = ll
	a, b, err := NewMemPair(c)
	if err != nil {
		return RTTResult{}, err
	}
	defer a.Close()
	errc := make(chan error, 1)
	go func() { errc <- rttEcho(b) }()
	lat := make([]time.Duration, n)
	err = rttPing(a, lat)
	a.Disconnect() // ends the echo
	if err = errors.Join(err, <-errc); err != nil {
		return RTTResult{}, err
	}
	slices.Sort(lat)
	return RTTResult{N: n, P50: lat[n/2], P99: lat[n*99/100], Min: lat[0]}, nil
}

// rttPing sends len(lat) tasks one at a time and records each round trip.
func rttPing(t Transport, lat []time.Duration) error {
	tx, rx := t.Sender(), t.Receiver()
	dst := make([]Msg, 1)
	tk := task.Task{Type: 1} // one for the run: Stage through an interface moves it to the heap
	for i := range lat {
		tk.Meta0 = uint64(i)
		start := time.Now()
		if err := tx.Stage(&tk, nil); err != nil {
			return err
		}
		tx.Publish()
		if err := rttAwait(rx, dst); err != nil {
			return err
		}
		lat[i] = time.Since(start)
		if dst[0].Task.Meta0 != uint64(i) {
			return fmt.Errorf("round trip %d came back as %d", i, dst[0].Task.Meta0)
		}
		rx.Release()
	}
	return nil
}

// rttEcho sends every task it receives straight back until the ring closes.
func rttEcho(t Transport) error {
	tx, rx := t.Sender(), t.Receiver()
	dst := make([]Msg, 1)
	for {
		if err := rttAwait(rx, dst); err != nil {
			if errors.Is(err, ErrClosed) {
				return nil
			}
			return err
		}
		if err := tx.Stage(&dst[0].Task, nil); err != nil {
			return err
		}
		tx.Publish()
		rx.Release()
	}
}

// rttAwait peeks one task into dst, waiting for it with Receiver.Wait (its
// spin, then yields, then sleeps) for benchTimeout at most.
func rttAwait(rx Receiver, dst []Msg) error {
	deadline := time.Now().Add(benchTimeout)
	for {
		n, err := rx.Peek(dst)
		if err != nil || n == 1 {
			return err
		}
		if !rx.Wait(10*time.Millisecond) && time.Now().After(deadline) {
			return errors.New("timed out")
		}
	}
}
