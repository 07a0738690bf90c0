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
var benchLine = regexp.MustCompile(`^bridge (mem|shm) batch=(\d+) (inline|4k) (\d+) transfers_per_task=([0-9.e-]+)$`)

// TestB2_BenchLines runs Bench small — mem at batch 1 and 64, and shm with
// 4 KiB payloads across two processes (this test binary is re-executed as the
// consumer) — and checks one well-formed line per measurement with transfers
// per task = 1/batch, rounded up over a partial last batch (GMK.md
// acceptance 19: fewer transfers than tasks).
func TestB2_BenchLines(t *testing.T) {
	var out bytes.Buffer
	err := Bench(&out, BenchOptions{Transports: []string{"mem"}, Batches: []int{1, 64}, Tasks: 2000, Count: 1})
	if err == nil {
		err = Bench(&out, BenchOptions{Transports: []string{"shm"}, Payloads: []string{"4k"}, Batches: []int{64}, Tasks: 2000, Count: 1})
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
	if lines != 2*2+1 {
		t.Fatalf("%d measurement lines, want 5:\n%s", lines, out.Bytes())
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
	for _, batch := range []int{1, 64} {
		b.Run("mem/batch="+strconv.Itoa(batch), func(b *testing.B) {
			b.ReportAllocs()
			rate, _, err := benchRun("mem", "", batch, 0, b.N)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(rate, "tasks/s")
		})
	}
}
