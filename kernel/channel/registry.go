package channel

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel/task"
)

// Registry resolves channel names to ids ([C1]). Open, Lookup and All take a
// mutex (control plane); Get is lock-free for the data path.
type Registry struct {
	mu     sync.Mutex
	byName map[string]*Channel
	byID   []atomic.Pointer[Channel] // index = id; id 0 is never used
	next   uint32
	gen    *atomic.Uint64 // see Gen
}

// NewRegistry returns a registry for up to max channels.
func NewRegistry(max int) *Registry {
	if max <= 0 {
		max = DefaultMax
	}
	g := new(paddedGen)
	g.v.Store(1)
	return &Registry{byName: make(map[string]*Channel), byID: make([]atomic.Pointer[Channel], max+1), next: 1, gen: &g.v}
}

// Gen returns the registry's control generation: a counter that Close of
// any of its channels increments after the channel is closed, and that the
// registry's user may increment for its own rare state changes (the kernel
// does for held modules, poisoned types and trace levels). A reader that
// loads the generation, then finds a state fine, may trust that state for
// as long as the generation still reads the same: every change that could
// make it wrong is followed by an increment (sequentially consistent
// atomics order the change before the increment, and the reader's load of
// the generation before its reads of the state). It starts at 1, so a
// zeroed cache entry never matches.
func (r *Registry) Gen() *atomic.Uint64 { return r.gen }

// paddedGen keeps the generation on a cache line of its own: it is read
// with every dispatch of every worker and written almost never, so it stays
// shared in every core's cache.
type paddedGen struct {
	_ [cacheLinePad]byte
	v atomic.Uint64
	_ [cacheLinePad - 8]byte
}

// Open returns the channel named spec.Name, creating it when new. Opening an
// existing name with a different type, mode or guarantee fails with
// CHAN_TYPE_MISMATCH; created reports whether this call made it.
func (r *Registry) Open(spec Spec) (c *Channel, created bool, err error) {
	spec = spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return nil, false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.byName[spec.Name]; c != nil {
		s := c.spec
		if s.Type != spec.Type || s.Mode != spec.Mode || s.Guarantee != spec.Guarantee {
			return nil, false, fmt.Errorf("%w: %s is open as type=%d %s %s, not type=%d %s %s",
				task.ErrChanTypeMismatch, spec.Name, s.Type, s.Mode, s.Guarantee, spec.Type, spec.Mode, spec.Guarantee)
		}
		return c, false, nil
	}
	if int(r.next) >= len(r.byID) {
		return nil, false, fmt.Errorf("%w: too many channels (max %d) opening %s", ErrBadSpec, len(r.byID)-1, spec.Name)
	}
	c = newChannel(r.next, spec, r.gen)
	r.byName[spec.Name] = c
	r.byID[r.next].Store(c)
	r.next++
	return c, true, nil
}

func newChannel(id uint32, spec Spec, gen *atomic.Uint64) *Channel {
	c := &Channel{id: id, spec: spec, gen: gen, roomCh: make(chan struct{}, roomTokens)}
	c.cap = pow2(spec.Slots)
	c.reserve = c.cap - c.cap/10 // the top 10 % accept priority 0 only ([C8])
	if spec.Replay > 0 {
		c.replay = &replayBuf{buf: make([]task.Task, spec.Replay)}
	}
	return c
}

// roomTokens bounds the wake-up tokens buffered for waiting producers.
const roomTokens = 64

// Get returns the channel with id, or nil. Lock-free.
func (r *Registry) Get(id uint32) *Channel {
	if int(id) >= len(r.byID) {
		return nil
	}
	return r.byID[id].Load()
}

// Lookup returns the channel named name, or nil.
func (r *Registry) Lookup(name string) *Channel {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byName[name]
}

// All returns every channel in id order.
func (r *Registry) All() []*Channel {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Channel, 0, len(r.byName))
	for _, c := range r.byName {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// Max returns the registry's capacity.
func (r *Registry) Max() int { return len(r.byID) - 1 }

// pow2 rounds n up to a power of two (the ring's capacity rule).
func pow2(n int) int {
	c := 2
	for c < n {
		c <<= 1
	}
	return c
}
