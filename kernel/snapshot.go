package kernel

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"unsafe"

	"github.com/gmkernel/gmk/kernel/alloc"
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/task"
)

// Snapshots and replay ([F5]). Snapshot stops the world for a moment —
// every worker at the top of its loop, every outside producer at the gate —
// and writes every queued task to a file: the ready queues, the local and
// event queues (with due times), held tasks, subscription queues, failures
// waiting for a decision, and the deterministic lane; with its payload
// bytes. Each such task is flagged Snapshotted in place. From then on, when
// a snapshotted task ends — completed, in sys.error or in sys.dropped — the
// kernel appends its key to BootConfig.Journal. After a crash and a restart,
// Replay re-enqueues the snapshot's IDEMPOTENT tasks whose end the journal
// does not record, and lists the others, which are not replayed.
//
// A task's key is a hash of what identifies it while it is queued: type,
// tenant, channel header, Meta0, Meta1, payload length and payload handle.
// Identical inline tasks share a key; the journal counts, so each recorded
// end skips one of them. A handler that changes Meta0/Meta1 across yields
// changes the key of later runs: the key of its first run after the
// snapshot is kept for it (by its queue identity) until it ends.

// ErrSnapshot reports a malformed snapshot or journal.
var ErrSnapshot = errors.New("gmk: bad snapshot")

const snapMagic = "GMKSNAP1"

// Where a snapshot entry was queued.
const (
	SnapReady    = iota // shared, local or held queues: runnable
	SnapEvent           // an event queue: due at Due (kernel clock)
	SnapChannel         // a subscription queue of Channel
	SnapDeferred        // waiting for a supervisor's decision
	SnapDet             // the deterministic lane
)

// SnapEntry is one snapshotted task.
type SnapEntry struct {
	Where   uint8
	Due     int64  // SnapEvent: kernel clock when it was due
	Channel string // SnapChannel (and channel deliveries): the channel's name
	Task    Task
	Payload []byte // the payload's bytes (Task.PayloadLen of them)
	Key     uint64
}

// Snapshot is a decoded snapshot file.
type Snapshot struct {
	Kernel  string
	Entries []SnapEntry
}

// snapState keeps the keys of snapshotted tasks across their runs and
// writes the journal. Slow path: only snapshotted tasks reach it.
type snapState struct {
	mu      sync.Mutex
	keys    map[[4]uint32]uint64 // queue identity → key of the first run
	journal io.Writer
	err     error
}

func contentKey(t *Task) uint64 {
	return fnvWords(fnvOffset, uint64(t.Type), uint64(t.Tenant), uint64(t.Channel), t.Meta0, t.Meta1,
		uint64(t.PayloadLen), t.Payload)
}

func identOf(t *Task) [4]uint32 { return [4]uint32{t.Seq, t.Type, uint32(t.Tenant), t.Channel} }

// snapStart remembers the key of a snapshotted task as it starts a run.
func (k *Kernel) snapStart(t *Task) {
	s := &k.snap
	s.mu.Lock()
	if s.keys == nil {
		s.keys = map[[4]uint32]uint64{}
	}
	if _, ok := s.keys[identOf(t)]; !ok {
		s.keys[identOf(t)] = contentKey(t)
	}
	s.mu.Unlock()
}

// snapEnd journals the end of a snapshotted task.
func (k *Kernel) snapEnd(t *Task) {
	s := &k.snap
	s.mu.Lock()
	defer s.mu.Unlock()
	key, ok := s.keys[identOf(t)]
	if ok {
		delete(s.keys, identOf(t))
	} else {
		key = contentKey(t)
	}
	if s.journal == nil || s.err != nil {
		return
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], key)
	_, s.err = s.journal.Write(b[:])
}

// Snapshot writes every queued task to w ([F5]) and returns how many. The
// kernel stops for the time it takes (workers finish their current task
// first; outside producers wait).
func (k *Kernel) Snapshot(w io.Writer) (int, error) {
	if k.state.Load() != stateRunning {
		return 0, ErrClosed
	}
	resume, ok := k.stopWorld()
	if !ok {
		return 0, ErrClosed // Halt stopped the workers meanwhile
	}
	defer resume()
	bw := bufio.NewWriter(w)
	var entries []SnapEntry
	add := func(where uint8, due int64, t *Task) {
		t.Flags |= task.Snapshotted
		e := SnapEntry{Where: where, Due: due, Task: *t, Key: contentKey(t)}
		if t.Flags&task.ChannelMsg != 0 {
			if c := k.chans.Get(t.ChannelID()); c != nil {
				e.Channel = c.Name()
			}
		}
		if t.Payload != 0 {
			if p, err := k.arena.Bytes(alloc.Handle(t.Payload), int(t.PayloadLen)); err == nil {
				e.Payload = append([]byte(nil), p...)
			}
		}
		entries = append(entries, e)
	}
	ready := func(t *Task) { add(SnapReady, 0, t) }
	k.core.EachShared(ready)
	for _, wk := range k.workers {
		wk.l.LQ.Each(ready)
		for i := range wk.held {
			wk.held[i].q.Each(ready)
		}
		wk.out.Each(func(t *Task) { add(SnapChannel, 0, t) }) // pushed to its queue at the next flush
		wk.evq.Each(func(due int64, ref uint32) {
			s := k.arena.Slab(int(ref >> 24))
			add(SnapEvent, due, (*Task)(unsafe.Pointer(&s.Node(ref & (1<<24 - 1))[0])))
		})
	}
	for _, c := range k.chans.All() {
		for _, s := range append([]*channel.Sub{c.Sub(channel.ErrorSub)}, c.Subs()...) {
			if s != nil {
				s.Each(func(t *Task) { add(SnapChannel, 0, t) })
			}
		}
	}
	k.deferred.mu.Lock()
	for _, e := range k.deferred.wait {
		add(SnapDeferred, 0, &e.t)
	}
	for i := range k.deferred.done {
		add(SnapDeferred, 0, &k.deferred.done[i].t)
	}
	k.deferred.mu.Unlock()
	if d := k.det; d != nil {
		for i := d.pos; i < len(d.cur); i++ {
			add(SnapDet, 0, &d.cur[i])
		}
		for i := range d.next {
			add(SnapDet, 0, &d.next[i])
		}
		for _, b := range d.bufs {
			for i := range b {
				add(SnapDet, 0, &b[i])
			}
		}
		d.mu.Lock()
		for i := range d.inbox {
			add(SnapDet, 0, &d.inbox[i].t)
		}
		d.mu.Unlock()
	}
	if err := writeSnapshot(bw, k.cfg.ID, entries); err != nil {
		return 0, err
	}
	return len(entries), bw.Flush()
}

func writeSnapshot(w io.Writer, id string, es []SnapEntry) error {
	le := binary.LittleEndian
	b := []byte(snapMagic)
	b = le.AppendUint16(b, uint16(len(id)))
	b = append(b, id...)
	b = le.AppendUint32(b, uint32(len(es)))
	for _, e := range es {
		b = append(b, e.Where)
		b = le.AppendUint64(b, uint64(e.Due))
		b = le.AppendUint16(b, uint16(len(e.Channel)))
		b = append(b, e.Channel...)
		b = append(b, unsafe.Slice((*byte)(unsafe.Pointer(&e.Task)), task.Size)...)
		b = le.AppendUint32(b, uint32(len(e.Payload)))
		b = append(b, e.Payload...)
		b = le.AppendUint64(b, e.Key)
	}
	_, err := w.Write(b)
	return err
}

// ReadSnapshot decodes a snapshot written by Kernel.Snapshot.
func ReadSnapshot(r io.Reader) (*Snapshot, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	d := snapDecoder{b: data}
	if string(d.bytes(len(snapMagic))) != snapMagic {
		return nil, fmt.Errorf("%w: not a GMK snapshot", ErrSnapshot)
	}
	s := &Snapshot{Kernel: string(d.bytes(int(d.u16())))}
	n := int(d.u32())
	for i := 0; i < n && d.err == nil; i++ {
		var e SnapEntry
		e.Where = d.bytes(1)[0]
		e.Due = int64(d.u64())
		e.Channel = string(d.bytes(int(d.u16())))
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&e.Task)), task.Size), d.bytes(task.Size))
		e.Payload = append([]byte(nil), d.bytes(int(d.u32()))...)
		e.Key = d.u64()
		s.Entries = append(s.Entries, e)
	}
	if d.err != nil || len(d.b) != 0 {
		return nil, fmt.Errorf("%w: truncated or trailing bytes", ErrSnapshot)
	}
	return s, nil
}

type snapDecoder struct {
	b   []byte
	err error
}

func (d *snapDecoder) bytes(n int) []byte {
	if d.err != nil || n > len(d.b) {
		d.err = ErrSnapshot
		return make([]byte, max(n, 1))
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *snapDecoder) u16() uint16 { return binary.LittleEndian.Uint16(d.bytes(2)) }
func (d *snapDecoder) u32() uint32 { return binary.LittleEndian.Uint32(d.bytes(4)) }
func (d *snapDecoder) u64() uint64 { return binary.LittleEndian.Uint64(d.bytes(8)) }
