package bridge

import (
	"errors"
	"os"
	"strconv"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// sendN stages and publishes n inline tasks with Meta0 from..from+n-1.
func sendN(t *testing.T, tx Sender, from, n int) {
	t.Helper()
	for i := range n {
		if err := tx.Stage(&task.Task{Type: 1, Meta0: uint64(from + i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	tx.Publish()
}

// recvN peeks and releases n tasks and checks their Meta0.
func recvN(t *testing.T, rx Receiver, from, n int) {
	t.Helper()
	buf := make([]Msg, n)
	got, err := rx.Peek(buf)
	if err != nil || got != n {
		t.Fatalf("peek: %d tasks, %v; want %d", got, err, n)
	}
	for i := range buf[:got] {
		if buf[i].Task.Meta0 != uint64(from+i) {
			t.Fatalf("task %d: meta0 %d, want %d", i, buf[i].Task.Meta0, from+i)
		}
	}
	rx.Release()
}

// [B4] After a peer reset the creator reads what each ring carried, and the
// next epoch's rings continue the sequence where the producer stopped: no gap
// is reported for the first task of the new epoch, the tasks left in the old
// ring are counted (InRing), and each ring's Stats count the new epoch only.
func TestB4_MemEpochContinuesSequence(t *testing.T) { forModes(t, testMemEpochContinuesSequence) }

// testMemEpochContinuesSequence is TestB4_MemEpochContinuesSequence in one slot format (ll: LL rings).
func testMemEpochContinuesSequence(t *testing.T, ll bool) {
	c := Config{Capacity: 16, Staging: 1024, LL: ll}
	a, b, err := NewMemPair(c)
	if err != nil {
		t.Fatal(err)
	}
	sendN(t, a.Sender(), 0, 10)
	recvN(t, b.Receiver(), 0, 6) // the peer dies with 4 tasks in the ring
	sendN(t, b.Sender(), 100, 3)
	a.Disconnect()
	st, ok := States(a)
	if !ok {
		t.Fatal("a mem transport has no ring states")
	}
	if ab := st[RingAB]; ab.Epoch != 1 || ab.Published != 10 || ab.Released != 6 || ab.InRing() != 4 || !ab.Closed {
		t.Fatalf("ring AB %+v", ab)
	}
	if ba := st[RingBA]; ba.Published != 3 || ba.Released != 0 {
		t.Fatalf("ring BA %+v", ba)
	}
	e := NextEpoch(st)
	if e.Number != 2 || e.StartSeq != [2]uint64{10, 3} {
		t.Fatalf("next epoch %+v", e)
	}
	a2, b2, err := NewMemPairEpoch(c, e)
	if err != nil {
		t.Fatal(err)
	}
	sendN(t, a2.Sender(), 10, 5)
	recvN(t, b2.Receiver(), 10, 5)
	sendN(t, b2.Sender(), 103, 2)
	recvN(t, a2.Receiver(), 103, 2)
	if s := a2.Sender().Stats(); s.Tasks != 5 {
		t.Fatalf("epoch 2 sender stats %+v, want 5 tasks", s)
	}
	st2, _ := States(b2)
	if ab := st2[RingAB]; ab.Epoch != 2 || ab.StartSeq != 10 || ab.Published != 15 || ab.Released != 15 || ab.Closed {
		t.Fatalf("epoch 2 ring AB %+v", ab)
	}
	if _, _, err := NewMemPairEpoch(c, Epoch{}); err == nil {
		t.Fatal("epoch 0 accepted")
	}
}

// [B4] Re-formatting a shared-memory region for the next epoch: the retired
// transport can no longer close the new epoch's rings nor unmap them, and a
// new peer mapping the same memfd continues the sequence.
func TestB4_ShmReformat(t *testing.T) { forModes(t, testShmReformat) }

// testShmReformat is TestB4_ShmReformat in one slot format (ll: LL rings).
func testShmReformat(t *testing.T, ll bool) {
	s, err := NewShm(Config{Capacity: 16, Staging: 1024, LL: ll})
	if errors.Is(err, ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	peer := openPeer(t, s)
	sendN(t, s.Sender(), 0, 7)
	recvN(t, peer.Receiver(), 0, 7)
	peer.Disconnect() // the peer dies
	_ = peer.Close()
	st, _ := States(s)
	s2, err := s.Reformat(NextEpoch(st))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s.Disconnect() // retired: a no-op on the new epoch
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	peer2 := openPeer(t, s2)
	defer peer2.Close()
	sendN(t, s2.Sender(), 7, 4)
	recvN(t, peer2.Receiver(), 7, 4)
	if st, _ := States(peer2); st[RingAB].Epoch != 2 || st[RingAB].Published != 11 || st[RingAB].Closed {
		t.Fatalf("after reformat %+v", st[RingAB])
	}
}

// openPeer maps s's memfd again in this process, as the peer process would.
func openPeer(t *testing.T, s *Shm) *Shm {
	t.Helper()
	fd, err := dupFile(s.File())
	if err != nil {
		t.Fatal(err)
	}
	p, err := OpenShm(fd)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func dupFile(f *os.File) (*os.File, error) {
	return os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), os.O_RDWR, 0)
}
