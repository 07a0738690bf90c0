package kernel

import (
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"sync/atomic"
	"time"

	"github.com/gmkernel/gmk/kernel/task"
)

// ReplayReport is what Replay did.
type ReplayReport struct {
	Replayed int         // IDEMPOTENT tasks re-enqueued
	Ended    int         // tasks whose end the journal recorded: not replayed
	Skipped  []SnapEntry // tasks that are not IDEMPOTENT: listed, not replayed
}

// ReadJournal reads a journal (BootConfig.Journal) into end counts by key.
func ReadJournal(r io.Reader) (map[uint64]int, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if len(data)%8 != 0 {
		return nil, fmt.Errorf("%w: journal of %d bytes is not whole keys", ErrSnapshot, len(data))
	}
	ends := map[uint64]int{}
	for i := 0; i < len(data); i += 8 {
		ends[binary.LittleEndian.Uint64(data[i:])]++
	}
	return ends, nil
}

// Replay re-enqueues the IDEMPOTENT tasks of s whose end ends does not
// record ([F5]): direct tasks are submitted (an event's due time is not
// kept: it runs now), channel deliveries are emitted again on their channel
// (once per emit: the copies a fan-out emit left in several subscribers'
// queues share everything but the subscriber index). Payloads are copied
// into this kernel's arena. The others are listed in Skipped. The new tasks
// are not snapshotted.
func (k *Kernel) Replay(s *Snapshot, ends map[uint64]int) (ReplayReport, error) {
	var r ReplayReport
	ends = maps.Clone(ends)
	emitted := map[[2]uint64]bool{} // channel deliveries already re-emitted, by (channel, key without subscriber)
	for _, e := range s.Entries {
		if ends[e.Key] > 0 {
			ends[e.Key]--
			r.Ended++
			continue
		}
		if e.Task.Flags&task.Idempotent == 0 {
			r.Skipped = append(r.Skipped, e)
			continue
		}
		t := e.Task
		t.Flags &^= task.Snapshotted | task.ChannelMsg
		msg := e.Task.Flags&task.ChannelMsg != 0
		if msg {
			x := e.Task
			x.SetChannel(x.ChannelID(), 0)
			id := [2]uint64{uint64(x.ChannelID()), contentKey(&x)}
			if emitted[id] {
				continue
			}
			emitted[id] = true
		}
		t.Channel, t.Payload = 0, 0
		if len(e.Payload) > 0 {
			h, buf, err := k.Alloc(int(t.Tenant), len(e.Payload))
			if err != nil {
				return r, err
			}
			copy(buf, e.Payload)
			t.Payload = h
		}
		var err error
		if msg {
			var id ChanID
			if id, err = k.Chan(e.Channel); err == nil {
				err = k.replayEmit(id, t)
			}
		} else {
			err = k.Submit(t)
		}
		if err != nil {
			if t.Payload != 0 {
				_ = k.Release(t.Payload)
			}
			return r, fmt.Errorf("gmk: replay of a %s task of type %d: %w", whereName(e.Where), t.Type, err)
		}
		r.Replayed++
	}
	return r, nil
}

func (k *Kernel) replayEmit(id ChanID, t Task) error {
	for {
		err := k.ChanEmit(id, t)
		if err != ErrChanFull {
			return err
		}
		time.Sleep(50 * time.Microsecond) // the lossless channel drains
	}
}

func whereName(w uint8) string {
	if int(w) < 5 {
		return [...]string{"ready", "event", "channel", "deferred", "deterministic"}[w]
	}
	return "?"
}

// world stops every worker and outside producer for a snapshot.
type world struct {
	req    atomic.Bool
	resume atomic.Pointer[chan struct{}]
	parked atomic.Int32
}

// stopWorld pauses the workers at the top of their loops and holds outside
// producers at the gate; it returns the function that resumes them. One at
// a time (Snapshot holds snapMu). ok is false when Halt stopped the workers
// before they all paused: the world is resumed, and there is nothing to
// snapshot.
func (k *Kernel) stopWorld() (resume func(), ok bool) {
	k.snapMu.Lock()
	ch := make(chan struct{})
	k.world.resume.Store(&ch)
	k.world.req.Store(true)
	resume = func() {
		k.world.req.Store(false)
		close(ch)
		for k.world.parked.Load() != 0 {
			time.Sleep(10 * time.Microsecond) // every worker left the pause
		}
		k.snapMu.Unlock()
	}
	for int(k.world.parked.Load()) < len(k.workers) {
		if k.stopping() {
			resume() // a stopped worker never pauses; the paused ones leave on k.stop
			return nil, false
		}
		for _, w := range k.workers {
			k.core.Idle.Wake(w.id)
		}
		time.Sleep(20 * time.Microsecond)
	}
	for k.submitting.busy() {
		time.Sleep(10 * time.Microsecond) // a producer between its check and its push
	}
	return resume, true
}

// pauseForWorld parks a worker while the world is stopped.
func (w *worker) pauseForWorld() {
	w.out.Flush(&w.em) // so that the stopped world sees the deliveries in their queue
	w.flush()
	ch := w.k.world.resume.Load()
	w.aside.Store(true) // a module's restart on another worker must not wait for this one
	w.k.world.parked.Add(1)
	select {
	case <-*ch:
	case <-w.k.stop:
	}
	w.k.world.parked.Add(-1)
	w.aside.Store(false) // before the next loop count and dispatch (hold.go)
}

// waitWorld holds an outside producer while the world is stopped.
func (k *Kernel) waitWorld() {
	if ch := k.world.resume.Load(); ch != nil && k.world.req.Load() {
		select {
		case <-*ch:
		case <-k.stop:
		}
	}
}
