package bridge

import (
	"bufio"
	"bytes"
	"regexp"
	"strconv"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// benchLine is the machine-readable line of issue 4, acceptance 4.
var benchLine = regexp.MustCompile(`^bridge (mem|shm|mem-ll|shm-ll) batch=(\d+) (inline|4k) (\d+) transfers_per_task=([0-9.e-]+)$`)

// TestB2_BenchLines runs Bench small — mem and mem-ll at batch 1 and 64, and
// shm and shm-ll with 4 KiB payloads across two processes (this test binary
// is re-executed as the consumer) — and checks one well-formed line per measurement with transfers
// per task = 1/batch, rounded up over a partial last batch (GMK.md
// acceptance 19: fewer transfers than tasks).
func TestB2_BenchLines(t *testing.T) {
	var out bytes.Buffer
	err := Bench(&out, BenchOptions{Transports: []string{"mem", "mem-ll"}, Batches: []int{1, 64}, Tasks: 2000, Count: 1})
	if err == nil {
		err = Bench(&out, BenchOptions{Transports: []string{"shm", "shm-ll"}, Payloads: []string{"4k"}, Batches: []int{64}, Tasks: 2000, Count: 1})
	}
	if err != nil {
		t.Fatalf("Bench: %v\n%s", err, out.Bytes())
	}
	lines := 0
	for sc := bufio.NewScanner(&out); sc.Scan(); {
		line := sc.Text()
		if line[0] == '#' {
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("malformed line %q", line)
		}
		batch, _ := strconv.Atoi(m[2])
		n := 2000
		if m[3] == "4k" {
			n = 250
		}
		tpt, _ := strconv.ParseFloat(m[5], 64)
		want := float64((n+batch-1)/batch) / float64(n)
		if diff := tpt - want; diff > 1e-3 || diff < -1e-3 {
			t.Errorf("%q: transfers_per_task %v, want %.4g", line, tpt, want)
		}
		lines++
	}
	if lines != 2*(2*2+1) {
		t.Fatalf("%d measurement lines, want 10:\n%s", lines, out.Bytes())
	}
}

// TestB2_RTTLines runs BenchRTT small for both formats and checks one
// well-formed line each, with min <= p50 <= p99.
func TestB2_RTTLines(t *testing.T) {
	var out bytes.Buffer
	if err := BenchRTT(&out, []string{"mem", "mem-ll"}, 200); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^bridge-rtt (mem|mem-ll) inline p50=(\d+) p99=(\d+) min=(\d+) n=200$`)
	var kinds []string
	for sc := bufio.NewScanner(&out); sc.Scan(); {
		m := re.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("malformed line %q", sc.Text())
		}
		p50, _ := strconv.Atoi(m[2])
		p99, _ := strconv.Atoi(m[3])
		lo, _ := strconv.Atoi(m[4])
		if lo > p50 || p50 > p99 || lo <= 0 {
			t.Fatalf("%q: want 0 < min <= p50 <= p99", sc.Text())
		}
		kinds = append(kinds, m[1])
	}
	if len(kinds) != 2 || kinds[0] != "mem" || kinds[1] != "mem-ll" {
		t.Fatalf("lines for %v, want mem, mem-ll", kinds)
	}
	if err := BenchRTT(&out, []string{"shm"}, 1); err == nil {
		t.Fatal("BenchRTT over shm: no error")
	}
}

// BenchmarkBridge compares a buffered Go channel of tasks (the baseline) with
// the mem transport at batch sizes 1 and 64: b.N inline tasks from one
// goroutine to another.
func BenchmarkBridge(b *testing.B) {
	b.Run("chan", func(b *testing.B) {
		ch := make(chan task.Task, 1024)
		done := make(chan struct{})
		go func() {
			for range b.N {
				<-ch
			}
			close(done)
		}()
		b.ReportAllocs()
		for i := range b.N {
			ch <- task.Task{Meta0: uint64(i)}
		}
		<-done
	})
	for _, kind := range []string{"mem", "mem-ll"} {
		for _, batch := range []int{1, 64} {
			b.Run(kind+"/batch="+strconv.Itoa(batch), func(b *testing.B) {
				b.ReportAllocs()
				rate, _, err := benchRun(kind, "", batch, 0, b.N)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(rate, "tasks/s")
			})
		}
	}
}

// BenchmarkBridgeRTT is the Go ↔ Go round trip (ns/op) of one inline task
// over an in-memory pair, version-1 and LL rings, after a Go-channel
// ping-pong baseline: one goroutine each side.
func BenchmarkBridgeRTT(b *testing.B) {
	b.Run("chan", func(b *testing.B) {
		ping, pong := make(chan task.Task, 1), make(chan task.Task, 1)
		go func() {
			for t := range ping {
				pong <- t
			}
		}()
		b.ReportAllocs()
		for i := range b.N {
			ping <- task.Task{Meta0: uint64(i)}
			<-pong
		}
		close(ping)
	})
	for _, ll := range []bool{false, true} {
		b.Run(modeName(ll), func(b *testing.B) {
			b.ReportAllocs()
			r, err := RTT(ll, b.N)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(r.P50.Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(r.P99.Nanoseconds()), "p99-ns")
		})
	}
}
