package cli

import (
	"cmp"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/channel"
)

// Defaults.
const (
	DefaultSize = 256 // entries kept
	PreviewLen  = 32  // payload bytes copied per entry
)

// Tap is a channel the module consumes and records ([U5] gmk log --tasks).
// Its shape must agree with the channel's other declarations ([C11]).
type Tap struct {
	Channel   string
	Type      uint32 // the channel's task type
	Mode      channel.Mode
	Guarantee channel.Guarantee
	Slots     int // 0 = as the other declarations say
}

// Config configures the cli module. Zero fields take their defaults.
type Config struct {
	Name string // module name; default "cli"
	Size int    // ring entries; default DefaultSize
	Taps []Tap  // channels to record besides sys.error and sys.dropped
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	c.Name = cmp.Or(c.Name, "cli")
	c.Size = cmp.Or(c.Size, DefaultSize)
	return c
}

// Validate reports a configuration that cannot work (after defaults).
func (c Config) Validate() error {
	if c.Size < 1 || c.Size > 1<<20 {
		return fmt.Errorf("cli: size %d out of range [1, 1Mi]", c.Size)
	}
	for _, t := range c.Taps {
		if t.Channel == kernel.SysError || t.Channel == kernel.SysDropped || t.Channel == "" {
			return fmt.Errorf("cli: tap %q: name a channel other than the system channels", t.Channel)
		}
	}
	return nil
}

// Kind says where an entry came from.
type Kind uint8

// Entry kinds.
const (
	KindError   Kind = iota // a task that ended in sys.error
	KindDropped             // a task that ended in sys.dropped
	KindTap                 // a task on a tapped channel
)

var kindNames = [...]string{KindError: "error", KindDropped: "dropped", KindTap: "tap"}

// String returns "error", "dropped" or "tap".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Entry is one recorded task.
type Entry struct {
	Seq        uint64 // 1, 2, 3 … in the order the module took the tasks
	Kind       Kind
	Channel    string        // the channel it arrived on
	Type       uint32        // the task's type
	Code       kernel.Status // the report's status code (0 for taps)
	Tenant     uint16
	Meta0      uint64
	Meta1      uint64
	PayloadLen uint32
	Tick       uint64 // kernel tick when recorded
	Time       int64  // kernel clock (ns since boot) when recorded
	preview    [PreviewLen]byte
	previewN   uint8
}

// Preview returns the first PreviewLen bytes of the payload (a copy).
func (e *Entry) Preview() []byte { return append([]byte(nil), e.preview[:e.previewN]...) }

// Stats are the module's accounting: every task it took is an error, a drop
// or a tap, and is either in the ring or evicted from it.
type Stats struct {
	Taken, Errors, Dropped, Tapped, Evicted uint64
	Kept                                    int
}

// CLI is a cli module instance: its ring and its kernel module.
type CLI struct {
	cfg        Config
	subscribed atomic.Bool // the first Init subscribed to the system channels
	sysErr     atomic.Uint32
	sysDrop    atomic.Uint32

	mu      sync.Mutex // guards everything below
	ring    []Entry    // ring[(seq-1) % len] holds entry seq
	taken   uint64
	byKind  [3]uint64
	tapName map[kernel.ChanID]string // written by Init (before any delivery), read under mu
}

// New returns a cli instance.
func New(cfg Config) (*CLI, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &CLI{cfg: cfg, ring: make([]Entry, cfg.Size), tapName: map[kernel.ChanID]string{}}, nil
}

// Module returns the module of a new instance; an invalid configuration
// makes its Init fail, so Boot reports it.
func Module(cfg Config) kernel.Module {
	c, err := New(cfg)
	if err != nil {
		return kernel.Module{Name: cfg.WithDefaults().Name, Init: func(*kernel.Ctx) error { return err }}
	}
	return c.Module()
}

// Module returns the instance's kernel module.
func (c *CLI) Module() kernel.Module {
	m := kernel.Module{Name: c.cfg.Name, Version: "1.0",
		Handlers: []kernel.Handler{{Type: kernel.AnyType, Name: "record", Fn: c.record}},
		Init:     c.init}
	for _, t := range c.cfg.Taps {
		m.Channels = append(m.Channels, kernel.ChanDecl{Name: t.Channel, Dir: kernel.Consume, Type: t.Type,
			Mode: t.Mode, Guarantee: t.Guarantee, Slots: t.Slots})
	}
	return m
}

// init resolves the taps and subscribes to the system channels once.
func (c *CLI) init(ctx *kernel.Ctx) error {
	k := ctx.Kernel()
	c.mu.Lock()
	for _, t := range c.cfg.Taps {
		id, err := k.Chan(t.Channel)
		if err != nil {
			c.mu.Unlock()
			return err
		}
		c.tapName[id] = t.Channel
	}
	c.mu.Unlock()
	if !c.subscribed.CompareAndSwap(false, true) {
		return nil
	}
	for _, s := range []struct {
		name string
		id   *atomic.Uint32
	}{{kernel.SysError, &c.sysErr}, {kernel.SysDropped, &c.sysDrop}} {
		id, err := k.Chan(s.name)
		if err != nil {
			return err
		}
		s.id.Store(id)
		if err := ctx.ChanSub(id, kernel.AnyType); err != nil {
			return fmt.Errorf("cli: subscribe %s: %w", s.name, err)
		}
	}
	return nil
}

// record takes one delivery into the ring.
func (c *CLI) record(ctx *kernel.Ctx) kernel.Status {
	t := ctx.Task()
	e := Entry{Type: t.Type, Tenant: t.Tenant, Meta0: t.Meta0, Meta1: t.Meta1, PayloadLen: t.PayloadLen,
		Tick: ctx.Tick(), Time: ctx.Now()}
	switch id := t.ChannelID(); id {
	case c.sysErr.Load():
		e.Kind, e.Channel, e.Code = KindError, kernel.SysError, kernel.Status(int16(t.Aux))
	case c.sysDrop.Load():
		e.Kind, e.Channel, e.Code = KindDropped, kernel.SysDropped, kernel.Status(int16(t.Aux))
	default:
		e.Kind = KindTap
	}
	e.previewN = uint8(copy(e.preview[:], ctx.Payload()))
	c.mu.Lock()
	if e.Kind == KindTap {
		e.Channel = c.tapName[t.ChannelID()]
	}
	c.taken++
	c.byKind[e.Kind]++
	e.Seq = c.taken
	c.ring[(e.Seq-1)%uint64(len(c.ring))] = e
	c.mu.Unlock()
	return kernel.OK
}

// Recent returns the kept entries with Seq above after, oldest first,
// limited to the kinds given (none: every kind).
func (c *CLI) Recent(after uint64, kinds ...Kind) []Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	first := uint64(1)
	if n := uint64(len(c.ring)); c.taken > n {
		first = c.taken - n + 1
	}
	first = max(first, after+1)
	var out []Entry
	for seq := first; seq <= c.taken; seq++ {
		e := c.ring[(seq-1)%uint64(len(c.ring))]
		if len(kinds) == 0 || containsKind(kinds, e.Kind) {
			out = append(out, e)
		}
	}
	return out
}

func containsKind(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// Stats returns the module's accounting.
func (c *CLI) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := min(c.taken, uint64(len(c.ring)))
	return Stats{Taken: c.taken, Errors: c.byKind[KindError], Dropped: c.byKind[KindDropped],
		Tapped: c.byKind[KindTap], Kept: int(kept), Evicted: c.taken - kept}
}

// Name returns the module's name.
func (c *CLI) Name() string { return c.cfg.Name }
