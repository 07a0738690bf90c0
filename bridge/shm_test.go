package bridge

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"
)

// echoChildEnv makes the test binary, re-executed by TestB1_CrossProcessEcho,
// run runEchoChild instead of the tests.
const echoChildEnv = "GMK_BRIDGE_TEST_ECHO"

// runEchoChild maps the memfd passed as fd 3 (side B) and sends every task it
// receives back, payload included, until the parent disconnects.
func runEchoChild() error {
	s, err := OpenShm(os.NewFile(3, "gmk-bridge"))
	if err != nil {
		return err
	}
	defer s.Close()
	return runEcho(s)
}

// TestB1_CrossProcessEcho: the shm transport carries tasks between two
// processes through one memfd mapped by both ([B1], DESIGN.md decision 7): the
// parent sends N tasks (inline and up to 4 KiB payloads) from one goroutine and
// receives the child's echo on another; every task returns once, in order,
// with its payload intact, in fewer transfers than tasks.
func TestB1_CrossProcessEcho(t *testing.T) { forModes(t, testCrossProcessEcho) }

// testCrossProcessEcho is TestB1_CrossProcessEcho in one slot format (ll: LL rings).
func testCrossProcessEcho(t *testing.T, ll bool) {
	s, err := NewShm(Config{Capacity: 64, Staging: 64 << 10, LL: ll})
	if errors.Is(err, ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), echoChildEnv+"=1")
	cmd.ExtraFiles = []*os.File{s.File()}
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { err := cmd.Wait(); s.Disconnect(); exited <- err }()

	const n = 20000
	sizes := []int{0, 0, 0, 64, 4096, 1}
	sendErr := make(chan error, 1)
	go func() { sendErr <- echoSend(s, n, sizes) }()
	got, recvErr := echoReceive(t, s, n, sizes)
	if err := <-sendErr; err != nil {
		t.Errorf("send: %v", err)
	}
	s.Disconnect()
	if err := <-exited; err != nil {
		t.Fatalf("child: %v: %s", err, out.Bytes())
	}
	if recvErr != nil || got != n {
		t.Fatalf("received %d of %d: %v", got, n, recvErr)
	}
	st := s.Sender().Stats()
	if st.Tasks != n || st.Transfers >= n {
		t.Fatalf("sender stats %+v: want %d tasks in fewer transfers", st, n)
	}
}

// echoSend sends n tasks through a Batcher of 16.
func echoSend(s Transport, n int, sizes []int) error {
	b, err := NewBatcher(s, BatchConfig{Size: 16})
	if err != nil {
		return err
	}
	for i := range n {
		tk, p := withPayload(i, sizes[i%len(sizes)])
		for {
			err := b.Add(&tk, p)
			if err == nil {
				break
			}
			if !errors.Is(err, ErrFull) {
				return err
			}
			s.Sender().Wait(100 * time.Millisecond)
		}
	}
	b.Flush()
	return nil
}

// echoReceive receives the echo and checks order and content.
func echoReceive(t *testing.T, s Transport, n int, sizes []int) (int, error) {
	rx := s.Receiver()
	dst := make([]Msg, 64)
	deadline := time.Now().Add(30 * time.Second)
	got := 0
	for got < n && time.Now().Before(deadline) {
		k, err := rx.Peek(dst)
		if err != nil {
			return got, err
		}
		if k == 0 {
			rx.Wait(100 * time.Millisecond)
			continue
		}
		for _, m := range dst[:k] {
			want, wp := withPayload(got, sizes[got%len(sizes)])
			if m.Task != want || !bytes.Equal(m.Payload, wp) {
				t.Errorf("task %d: got %+v with %d bytes, want %+v with %d", got, m.Task, len(m.Payload), want, len(wp))
				return got, errors.New("mismatch")
			}
			got++
		}
		rx.Release()
	}
	return got, nil
}
