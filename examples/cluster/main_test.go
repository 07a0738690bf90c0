package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestX5_ThreeProcesses is acceptance item 6 of the actor issue ([X5]): the
// cluster channel of acceptance item 5 across three OS processes on
// 127.0.0.1 with protoactor's automanaged provider. Two consumer members and
// a producer start; once the consumer hosting the grain has handled a third
// of the 100,000 tasks it is killed (SIGKILL). The producer sees
// CHAN_CLOSED, the grain re-activates on the other consumer, and the
// producer finishes with every task acknowledged. From the consumers' record
// files: every task was handled at least once, at most once without the
// redelivered flag, each consumer in order; tasks handled twice are at most
// the producer's redelivered count.
func TestX5_ThreeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three processes")
	}
	const n = 100_000
	dir := t.TempDir()
	bin := filepath.Join(dir, "cluster")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ports := freePorts(t, 6)
	var hosts []string
	for _, p := range ports[3:] {
		hosts = append(hosts, "127.0.0.1:"+strconv.Itoa(p))
	}
	start := time.Now()
	deadline := start.Add(50 * time.Second)
	var procs []*child
	t.Cleanup(func() { // everything is killed, whatever happened
		for _, p := range procs {
			p.kill()
			_ = p.wait()
		}
	})
	proc := func(name string, args ...string) *child {
		i := len(procs) // its own remote port and health port
		args = append(args, "-port", strconv.Itoa(ports[i]), "-health", strconv.Itoa(ports[3+i]),
			"-hosts", strings.Join(hosts, ","))
		c := startChild(t, name, bin, args...)
		procs = append(procs, c)
		return c
	}
	recB, recC := filepath.Join(dir, "b.bin"), filepath.Join(dir, "c.bin")
	b := proc("b", "-role", "consumer", "-record", recB)
	c := proc("c", "-role", "consumer", "-record", recC)
	a := proc("a", "-role", "producer", "-n", strconv.Itoa(n), "-members", "3", "-timeout", "45s")

	// The consumer that starts handling hosts the grain; kill it a third in.
	var host, survivor *child
	var hostRec string
	select {
	case <-b.consuming:
		host, survivor, hostRec = b, c, recB
	case <-c.consuming:
		host, survivor, hostRec = c, b, recC
	case <-time.After(time.Until(deadline)):
		t.Fatal("no consumer started handling")
	}
	for size(hostRec) < n/3*RecordSize {
		if time.Now().After(deadline) {
			t.Fatalf("%s handled only %d tasks", host.name, size(hostRec)/RecordSize)
		}
		time.Sleep(time.Millisecond)
	}
	host.kill()
	t.Logf("killed %s after %d tasks, %v in", host.name, size(hostRec)/RecordSize, time.Since(start))

	var sum struct {
		Emitted, Closed int
		Stats           struct{ Redelivered, Acked, Suspensions uint64 }
	}
	select {
	case line := <-a.json:
		if err := json.Unmarshal([]byte(line), &sum); err != nil {
			t.Fatalf("producer summary %q: %v", line, err)
		}
	case <-time.After(time.Until(deadline)):
		t.Fatal("the producer did not finish")
	}
	if err := a.wait(); err != nil {
		t.Fatalf("producer: %v\n%s", err, a.stderr())
	}
	survivor.stop()
	if err := survivor.wait(); err != nil {
		t.Fatalf("%s: %v\n%s", survivor.name, err, survivor.stderr())
	}
	t.Logf("done in %v: %+v", time.Since(start), sum)

	handled, unflagged := make([]int, n), make([]int, n)
	for _, path := range []string{recB, recC} {
		last := -1
		for _, r := range readRecords(t, path) {
			if r.i >= n {
				t.Fatalf("%s: task %d out of range", path, r.i)
			}
			if r.i <= last {
				t.Fatalf("%s: task %d after %d: out of order", path, r.i, last)
			}
			last = r.i
			handled[r.i]++
			if !r.redelivered {
				unflagged[r.i]++
			}
		}
	}
	dups := 0
	for i := range handled {
		switch {
		case handled[i] == 0:
			t.Fatalf("task %d lost", i)
		case unflagged[i] > 1:
			t.Fatalf("task %d handled %d times without the redelivered flag", i, unflagged[i])
		}
		dups += handled[i] - 1
	}
	t.Logf("handled twice: %d; redelivered: %d; CHAN_CLOSED seen: %d", dups, sum.Stats.Redelivered, sum.Closed)
	if sum.Emitted != n || sum.Stats.Acked != n {
		t.Errorf("producer emitted %d, acknowledged %d; want %d", sum.Emitted, sum.Stats.Acked, n)
	}
	if uint64(dups) > sum.Stats.Redelivered {
		t.Errorf("%d tasks handled twice, only %d redelivered", dups, sum.Stats.Redelivered)
	}
	if sum.Closed == 0 || sum.Stats.Suspensions == 0 {
		t.Errorf("the producer saw CHAN_CLOSED %d times (suspensions %d), want some", sum.Closed, sum.Stats.Suspensions)
	}
}

// child is one member process; its stdout lines are watched.
type child struct {
	name      string
	cmd       *exec.Cmd
	errBuf    *strings.Builder
	consuming chan struct{} // closed on the "consuming" line
	json      chan string   // JSON lines
	done      chan error
}

func startChild(t *testing.T, name, bin string, args ...string) *child {
	t.Helper()
	c := &child{name: name, cmd: exec.Command(bin, args...), errBuf: new(strings.Builder),
		consuming: make(chan struct{}), json: make(chan string, 1), done: make(chan error, 1)}
	c.cmd.Stderr = c.errBuf
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan struct{})
	go func() {
		defer close(lines)
		c.scan(out)
	}()
	go func() {
		<-lines // Wait closes stdout: read it all first
		c.done <- c.cmd.Wait()
	}()
	return c
}

func (c *child) scan(r io.Reader) {
	sc := bufio.NewScanner(r)
	once := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "consuming" && !once:
			once = true
			close(c.consuming)
		case strings.HasPrefix(line, "{"):
			select {
			case c.json <- line:
			default:
			}
		}
	}
}

func (c *child) kill() { _ = c.cmd.Process.Signal(syscall.SIGKILL) }
func (c *child) stop() { _ = c.cmd.Process.Signal(syscall.SIGTERM) }

// wait waits for the process to exit (at most 20 s, then kills it and
// waits for that).
func (c *child) wait() error {
	select {
	case err := <-c.done:
		c.done <- err // a second wait (cleanup) returns at once
		return err
	case <-time.After(20 * time.Second):
		c.kill()
		c.done <- <-c.done
		return fmt.Errorf("%s did not exit", c.name)
	}
}

func (c *child) stderr() string { return c.errBuf.String() }

// freePorts returns k distinct TCP ports free on 127.0.0.1 right now.
func freePorts(t *testing.T, k int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range k {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func size(path string) int {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return int(fi.Size())
}

type record struct {
	i           int
	redelivered bool
}

func readRecords(t *testing.T, path string) []record {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = b[:len(b)-len(b)%RecordSize] // a write cut by SIGKILL
	rs := make([]record, 0, len(b)/RecordSize)
	for off := 0; off < len(b); off += RecordSize {
		rs = append(rs, record{i: int(binary.LittleEndian.Uint64(b[off:])), redelivered: b[off+8] == 1})
	}
	return rs
}
