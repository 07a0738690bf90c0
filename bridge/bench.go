package bridge

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gmkernel/gmk/kernel/task"
)

// BenchOptions configures Bench. Zero fields take the defaults in brackets.
type BenchOptions struct {
	Transports []string // "mem", "shm", and over LL rings "mem-ll", "shm-ll" [all four]
	Batches    []int    // batch sizes [1, 8, 64, 256]
	Payloads   []string // "inline", "4k" [both]
	Tasks      int      // tasks per inline measurement; 4k runs use Tasks/8 [2,000,000]
	Count      int      // runs per measurement; the line reports the median [3]
	// Exe is the program the shm measurements start as the consuming process
	// [os.Executable()]. It must call MaybeRunBenchChild first thing in main
	// (or TestMain), as cmd/gmk-bridge-bench does.
	Exe string
}

// Defaults of BenchOptions.
var (
	DefaultBenchBatches = []int{1, 8, 64, 256}
	benchTransports     = []string{"mem", "shm", "mem-ll", "shm-ll"}
	benchPayloads       = []string{"inline", "4k"}
)

const (
	defaultBenchTasks = 2_000_000
	defaultBenchCount = 3
	benchPayload4k    = 4096
	benchChildEnv     = "GMK_BRIDGE_BENCH_CHILD" // "tasks,payloadBytes" in the child
	benchTimeout      = time.Minute              // per run: a stuck peer fails the run
)

// Bench measures bridge throughput ([B2], GMK.md acceptance 19) and writes one
// line per measurement to w:
//
//	bridge <mem|shm|mem-ll|shm-ll> batch=<n> <inline|4k> <tasks/s> transfers_per_task=<x>
//
// (-ll: over LL rings, Config.LL) preceded by a comment line with every run (# ... runs=... best=... median=...).
// A task crosses from a producer to a consumer that checks its order and copies
// its payload out, as a kernel copies it into its arena; mem runs both on
// goroutines of this process, shm runs the consumer in a child process mapping
// the same memfd. tasks/s is the median over Count runs; transfers_per_task is
// publications / tasks (1/batch when batching works).
func Bench(w io.Writer, o BenchOptions) error {
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	for _, kind := range o.Transports {
		for _, pl := range o.Payloads {
			size, n := 0, o.Tasks
			if pl == "4k" {
				size, n = benchPayload4k, max(o.Tasks/8, 1)
			}
			for _, batch := range o.Batches {
				rates := make([]float64, 0, o.Count)
				var tpt float64
				for range o.Count {
					r, x, err := benchRun(kind, o.Exe, batch, size, n)
					if err != nil {
						return fmt.Errorf("bridge bench %s batch=%d %s: %w", kind, batch, pl, err)
					}
					rates, tpt = append(rates, r), x
				}
				runs := make([]string, len(rates))
				for i, r := range rates {
					runs[i] = strconv.FormatFloat(r, 'f', 0, 64)
				}
				slices.Sort(rates)
				med, best := rates[len(rates)/2], rates[len(rates)-1]
				fmt.Fprintf(w, "# bridge %s batch=%d %s tasks=%d runs=%s best=%.0f median=%.0f\n",
					kind, batch, pl, n, strings.Join(runs, ","), best, med)
				fmt.Fprintf(w, "bridge %s batch=%d %s %.0f transfers_per_task=%.4g\n", kind, batch, pl, med, tpt)
			}
		}
	}
	return nil
}

func (o BenchOptions) withDefaults() (BenchOptions, error) {
	if o.Transports == nil {
		o.Transports = benchTransports
	}
	if o.Batches == nil {
		o.Batches = DefaultBenchBatches
	}
	if o.Payloads == nil {
		o.Payloads = benchPayloads
	}
	if o.Tasks == 0 {
		o.Tasks = defaultBenchTasks
	}
	if o.Count == 0 {
		o.Count = defaultBenchCount
	}
	for _, k := range o.Transports {
		if !slices.Contains(benchTransports, k) {
			return o, fmt.Errorf("bridge bench: unknown transport %q (want mem, shm, mem-ll or shm-ll)", k)
		}
	}
	for _, p := range o.Payloads {
		if !slices.Contains(benchPayloads, p) {
			return o, fmt.Errorf("bridge bench: unknown payload %q (want inline or 4k)", p)
		}
	}
	for _, b := range o.Batches {
		if b < 1 {
			return o, fmt.Errorf("bridge bench: batch size %d < 1", b)
		}
	}
	if o.Tasks < 0 || o.Count < 0 {
		return o, errors.New("bridge bench: negative Tasks or Count")
	}
	return o, nil
}

// benchConfig sizes the rings of a measurement: room for 4 batches of 256.
var benchConfig = Config{Capacity: 1024, Staging: 4 << 20}

// benchKind splits a bench transport name into the transport and the ring
// format: "shm-ll" is shm over LL rings.
func benchKind(kind string) (transport string, c Config) {
	c = benchConfig
	transport, c.LL = strings.CutSuffix(kind, "-ll")
	return transport, c
}

// benchRun runs one measurement and returns tasks/s and transfers per task.
func benchRun(kind, exe string, batch, size, n int) (float64, float64, error) {
	transport, c := benchKind(kind)
	if transport == "shm" {
		return benchShm(exe, c, batch, size, n)
	}
	a, b, err := NewMemPair(c)
	if err != nil {
		return 0, 0, err
	}
	defer a.Close()
	errc := make(chan error, 1)
	go func() { errc <- benchConsume(b, n, size) }()
	rate, tpt, err := benchProduce(a, batch, size, n)
	if err != nil {
		a.Disconnect() // unblocks the consumer
	}
	return rate, tpt, errors.Join(err, <-errc)
}

// benchProduce waits for the consumer's ready task, sends n tasks through a
// Batcher of the given size, and waits for the consumer's done task.
func benchProduce(t Transport, batch, size, n int) (float64, float64, error) {
	if _, err := benchAwait(t.Receiver()); err != nil {
		return 0, 0, fmt.Errorf("waiting for the consumer: %w", err)
	}
	bt, err := NewBatcher(t, BatchConfig{Size: batch})
	if err != nil {
		return 0, 0, err
	}
	tx := t.Sender()
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	if size == 0 {
		payload = nil
	}
	before := tx.Stats()
	deadline := time.Now().Add(benchTimeout)
	start := time.Now()
	tk := task.Task{Type: 1, PayloadLen: uint32(size)}
	for i := range n {
		tk.Meta0 = uint64(i)
		for {
			err := bt.Add(&tk, payload)
			if err == nil {
				break
			}
			if !errors.Is(err, ErrFull) {
				return 0, 0, err
			}
			if !tx.Wait(10*time.Millisecond) && time.Now().After(deadline) {
				return 0, 0, errors.New("consumer stopped taking tasks")
			}
		}
	}
	bt.Flush()
	done, err := benchAwait(t.Receiver())
	elapsed := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("waiting for the consumer's count: %w", err)
	}
	if done.Meta0 != uint64(n) {
		return 0, 0, fmt.Errorf("consumer counted %d tasks, want %d", done.Meta0, n)
	}
	s := tx.Stats()
	tpt := float64(s.Transfers-before.Transfers) / float64(s.Tasks-before.Tasks)
	return float64(n) / elapsed.Seconds(), tpt, nil
}

// benchConsume sends a ready task, receives n tasks checking their order and
// copying each payload out, then sends a done task carrying the count.
func benchConsume(t Transport, n, size int) error {
	if err := benchSignal(t.Sender(), 0); err != nil {
		return err
	}
	rx := t.Receiver()
	dst := make([]Msg, 256)
	arena := make([]byte, max(size, 1))
	deadline := time.Now().Add(benchTimeout)
	for got := 0; got < n; {
		k, err := rx.Peek(dst)
		if err != nil {
			return err
		}
		if k == 0 {
			if !rx.Wait(10*time.Millisecond) && time.Now().After(deadline) {
				return errors.New("producer stopped sending")
			}
			continue
		}
		for i := range dst[:k] {
			m := &dst[i]
			if m.Task.Meta0 != uint64(got) || len(m.Payload) != size {
				return fmt.Errorf("task %d: got #%d with %d payload bytes", got, m.Task.Meta0, len(m.Payload))
			}
			copy(arena, m.Payload) // into "the destination kernel's memory"
			got++
		}
		rx.Release()
	}
	return benchSignal(t.Sender(), uint64(n))
}

// benchSignal sends one control task (ready, done) carrying v in Meta0.
func benchSignal(tx Sender, v uint64) error {
	tk := task.Task{Type: 2, Meta0: v}
	for {
		err := tx.Stage(&tk, nil)
		if err == nil {
			tx.Publish()
			return nil
		}
		if !errors.Is(err, ErrFull) {
			return err
		}
		tx.Wait(10 * time.Millisecond)
	}
}

// benchAwait receives one control task.
func benchAwait(rx Receiver) (task.Task, error) {
	dst := make([]Msg, 1)
	deadline := time.Now().Add(benchTimeout)
	for time.Now().Before(deadline) {
		n, err := rx.Peek(dst)
		if err != nil {
			return task.Task{}, err
		}
		if n == 1 {
			rx.Release()
			return dst[0].Task, nil
		}
		rx.Wait(10 * time.Millisecond)
	}
	return task.Task{}, errors.New("timed out")
}

// MaybeRunBenchChild runs the consuming side of a shm measurement when this
// process was started as one by Bench, and returns ran=true with its error;
// the caller then exits. In any other process it returns at once, ran=false.
func MaybeRunBenchChild() (ran bool, err error) {
	spec, ok := os.LookupEnv(benchChildEnv)
	if !ok {
		return false, nil
	}
	var n, size int
	if _, err := fmt.Sscanf(spec, "%d,%d", &n, &size); err != nil {
		return true, fmt.Errorf("bad %s=%q: %w", benchChildEnv, spec, err)
	}
	s, err := OpenShm(os.NewFile(3, "gmk-bridge"))
	if err != nil {
		return true, err
	}
	defer s.Close()
	if err := benchConsume(s, n, size); err != nil {
		return true, err
	}
	// Stay mapped until the parent has read the done task and disconnects.
	_, err = benchAwait(s.Receiver())
	if errors.Is(err, ErrClosed) {
		err = nil
	}
	return true, err
}
