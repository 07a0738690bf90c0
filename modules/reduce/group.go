package reduce

import (
	"sync"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// Reduce is a reduce module instance.
type Reduce struct {
	cfg Config
	out sdk.Port

	mu     sync.Mutex       // guards everything below
	byID   map[uint32]int32 // group id → slot; sized for MaxGroups at New
	groups []group
	free   []int32 // stack of free slots
}

// group is one open group. Its arrays hold MaxElems entries, allocated at
// New and reused by every group that takes the slot.
type group struct {
	id      uint32
	last    int64    // index of the element flagged last; -1 until it arrives
	maxSeen int64    // highest index seen
	count   int      // elements arrived
	have    []uint64 // bitset of arrived indices
	vals    []uint64 // meta1 of element i
	handles []uint64 // concat: retained payload of element i (0 = none)
	bytes   [][]byte // concat: its bytes (arena memory, valid while retained)
	pending bool     // complete; out not sent yet (its channel was full)
	out     kernel.Task
	by      [2]uint64 // seq and meta0 of the element that completed the group
}

// New returns a reduce instance; its group tables are allocated here, once.
func New(cfg Config) (*Reduce, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Reduce{cfg: cfg, byID: make(map[uint32]int32, cfg.MaxGroups),
		groups: make([]group, cfg.MaxGroups), free: make([]int32, cfg.MaxGroups)}
	n := cfg.MaxElems
	for i := range r.groups {
		g := &r.groups[i]
		g.have, g.vals = make([]uint64, (n+63)/64), make([]uint64, n)
		if cfg.Reducer.Op == sdk.OpConcat {
			g.handles, g.bytes = make([]uint64, n), make([][]byte, n)
		}
		r.free[i] = int32(cfg.MaxGroups - 1 - i)
	}
	return r, nil
}

// Open returns the number of groups open (waiting for elements or for room
// on reduce.out).
func (r *Reduce) Open() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byID)
}

// element handles one reduce.in task (the contract is in doc.go).
func (r *Reduce) element(c *kernel.Ctx) kernel.Status {
	t := c.Task()
	gid, idx, last := sdk.SplitElemMeta(t.Meta0)
	r.mu.Lock()
	defer r.mu.Unlock()
	slot, ok := r.byID[gid]
	if ok && r.groups[slot].pending {
		// The retry of the element that completed the group, or an element
		// of the next group with this id that overtook it: send the result
		// first; the latter then starts the next group.
		mine := r.groups[slot].by == [2]uint64{uint64(t.Seq), t.Meta0}
		if st := r.send(c, slot); st != kernel.OK || mine {
			return st
		}
		ok = false
	}
	if int(idx) >= r.cfg.MaxElems {
		return sdk.CodeBadRequest
	}
	if !ok {
		if len(r.free) == 0 {
			return sdk.CodeFull
		}
		slot = r.free[len(r.free)-1]
		r.free = r.free[:len(r.free)-1]
		r.byID[gid] = slot
		g := &r.groups[slot]
		g.id, g.last, g.maxSeen, g.count = gid, -1, -1, 0
	}
	g := &r.groups[slot]
	i := int64(idx)
	switch {
	case g.have[i/64]&(1<<(i%64)) != 0:
		return sdk.CodeDuplicate
	case g.last >= 0 && (last || i > g.last), last && i < g.maxSeen:
		return sdk.CodeMismatch
	}
	if g.handles != nil && t.Payload != 0 {
		h, err := c.PayloadRetain()
		if err != nil {
			return sdk.Code(err)
		}
		g.handles[i], g.bytes[i] = h, c.Payload()
	}
	g.have[i/64] |= 1 << (i % 64)
	g.vals[i] = t.Meta1
	g.count++
	g.maxSeen = max(g.maxSeen, i)
	if last {
		g.last = i
	}
	if g.last < 0 || int64(g.count) != g.last+1 {
		return kernel.OK
	}
	g.by = [2]uint64{uint64(t.Seq), t.Meta0}
	if st := r.complete(c, g); st != kernel.OK {
		r.drop(c, slot)
		return st
	}
	return r.send(c, slot)
}

// complete folds a complete group into its result task.
func (r *Reduce) complete(c *kernel.Ctx, g *group) kernel.Status {
	n := g.count
	g.out = kernel.Task{Type: r.out.Type, Tenant: uint16(c.Tenant()), Meta0: uint64(g.id)<<32 | uint64(n)}
	if g.handles == nil {
		g.out.Meta1 = r.cfg.Reducer.Fold(g.vals[:n])
		g.pending = true
		return kernel.OK
	}
	total := 0
	for _, b := range g.bytes[:n] {
		total += len(b)
	}
	g.out.Meta1 = uint64(total)
	if total > 0 {
		h, b, err := c.Alloc(total)
		if err != nil {
			return sdk.Code(err)
		}
		off := 0
		for _, e := range g.bytes[:n] {
			off += copy(b[off:], e)
		}
		g.out.Payload, g.out.PayloadLen = h, uint32(total)
	}
	g.pending = true
	return kernel.OK
}

// send sends slot's result on reduce.out and frees the slot; while the
// channel is full the group stays pending and the element retries (the
// kernel holds it until there is room). The payload reference stays with
// the group until an emit succeeds, so ChanEmit is used directly.
func (r *Reduce) send(c *kernel.Ctx, slot int32) kernel.Status {
	g := &r.groups[slot]
	err := c.ChanEmit(r.out.Chan, g.out)
	if err == nil {
		g.out.Payload = 0 // moved to the receiver
		r.drop(c, slot)
		return kernel.OK
	}
	if st := sdk.Code(err); st != sdk.Code(kernel.ErrChanFull) {
		r.drop(c, slot)
		return st
	}
	return kernel.Retry
}

// drop frees slot: releases what it retained, clears its bitset.
func (r *Reduce) drop(c *kernel.Ctx, slot int32) {
	g := &r.groups[slot]
	if g.out.Payload != 0 {
		_ = c.PayloadRelease(g.out.Payload)
	}
	for i, h := range g.handles[:min(len(g.handles), int(g.maxSeen+1))] {
		if h != 0 {
			_ = c.PayloadRelease(h)
			g.handles[i], g.bytes[i] = 0, nil
		}
	}
	clear(g.have)
	g.pending, g.out = false, kernel.Task{}
	delete(r.byID, g.id)
	r.free = append(r.free, slot) // within capacity: no allocation
}

// releaseAll drops every open group (Fini: their elements' payloads would
// otherwise stay retained after halt).
func (r *Reduce) releaseAll(c *kernel.Ctx) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, slot := range r.byID {
		r.drop(c, slot)
	}
}
