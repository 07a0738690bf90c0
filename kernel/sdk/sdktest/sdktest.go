package sdktest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/alloc"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/kernel/trace"
)

// Config configures a sandbox. The zero value is a 2-worker kernel with an
// 8 MiB arena, tracing at level ALL, capturing the default channels.
type Config struct {
	Boot    kernel.BootConfig // zero fields: Workers 2, ArenaSize 8 MiB, TraceLevel ALL, the kernel's defaults
	Capture []string          // channels to capture; nil: the modules' outputs (see the package doc)
	Wait    time.Duration     // how long Send, WaitEmits and Halt may wait; default 30 s
}

// Emit is a task captured on an output channel.
type Emit struct {
	Chan    string
	Task    kernel.Task
	Payload []byte // a copy of the payload (nil for an inline task)
}

// Report is what a sandbox found at Halt.
type Report struct {
	Stats        kernel.Stats
	Queued       uint64         // tasks still queued when the workers stopped
	Traces       []trace.Record // every trace record of the run
	Alloc        alloc.Stats    // tenant 0's allocator statistics: allocations made, frees, failures
	LivePayloads int            // payload blocks still allocated (a module that kept one)
}

// Sandbox is a kernel booted for a module's test.
type Sandbox struct {
	K   *kernel.Kernel
	t   testing.TB
	cfg Config

	mu     sync.Mutex
	emits  map[string][]Emit
	traces []trace.Record
	report *Report
}

// Boot starts a kernel with mods and the capture subscribers, and halts it
// at the test's end. A boot failure fails the test.
func Boot(t testing.TB, cfg Config, mods ...kernel.Module) *Sandbox {
	t.Helper()
	cfg = cfg.withDefaults()
	s := &Sandbox{t: t, cfg: cfg, emits: map[string][]Emit{}}
	all := slices.Clone(mods)
	for _, d := range captured(mods, cfg.Capture) {
		all = append(all, s.capture(d))
	}
	k, err := kernel.Boot(cfg.Boot, all...)
	if err != nil {
		t.Fatalf("sdktest: boot: %v", err)
	}
	s.K = k
	t.Cleanup(func() { s.Halt() })
	return s
}

func (c Config) withDefaults() Config {
	if c.Boot.Workers == 0 {
		c.Boot.Workers = 2
	}
	if c.Boot.ArenaSize == 0 {
		c.Boot.ArenaSize = 8 << 20
	}
	if c.Boot.TraceLevel == 0 {
		c.Boot.TraceLevel = trace.All
	}
	if c.Wait <= 0 {
		c.Wait = 30 * time.Second
	}
	return c
}

// captured returns the declarations to capture: names given, or the
// default set (see the package doc).
func captured(mods []kernel.Module, names []string) []kernel.ChanDecl {
	consumed := map[string]bool{}
	for _, m := range mods {
		for _, d := range m.Channels {
			if d.Dir == kernel.Consume {
				consumed[d.Name] = true
			}
		}
	}
	var out []kernel.ChanDecl
	seen := map[string]bool{}
	for _, m := range mods {
		for _, d := range m.Channels {
			if d.Dir != kernel.Produce || seen[d.Name] {
				continue
			}
			want := slices.Contains(names, d.Name)
			if names == nil {
				want = !consumed[d.Name] || d.Mode == kernel.FanOut
			}
			if want {
				seen[d.Name] = true
				out = append(out, d)
			}
		}
	}
	return out
}

// capture returns the module that subscribes to the channel of producer
// declaration d and records what arrives.
func (s *Sandbox) capture(d kernel.ChanDecl) kernel.Module {
	name := d.Name
	return kernel.Module{Name: "sdktest.capture." + name,
		Handlers: []kernel.Handler{{Type: d.Type, Fn: func(c *kernel.Ctx) kernel.Status {
			e := Emit{Chan: name, Task: *c.Task()}
			if p := c.Payload(); len(p) > 0 {
				e.Payload = slices.Clone(p)
			}
			s.mu.Lock()
			s.emits[name] = append(s.emits[name], e)
			s.mu.Unlock()
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: name, Dir: kernel.Consume, Type: d.Type, Mode: d.Mode,
			Guarantee: d.Guarantee, Slots: d.Slots, Replay: d.Replay}},
	}
}

// Send emits a task on channel ch from outside the kernel (tenant 0, the
// channel's type, payload a copy of payload), waiting while it is full. An
// error fails the test.
func (s *Sandbox) Send(ch string, meta0, meta1 uint64, payload []byte) {
	s.t.Helper()
	p, err := sdk.Dial(s.K, ch)
	if err != nil {
		s.t.Fatalf("sdktest: send: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Wait)
	defer cancel()
	if err := sdk.EmitBytes(ctx, s.K, p, 0, meta0, meta1, payload); err != nil {
		s.t.Fatalf("sdktest: send on %s: %v", ch, err)
	}
}

// Emits returns a copy of what was captured on ch so far.
func (s *Sandbox) Emits(ch string) []Emit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.emits[ch])
}

// WaitEmits waits until n tasks were captured on ch and returns them (all
// that arrived); it fails the test after Config.Wait.
func (s *Sandbox) WaitEmits(ch string, n int) []Emit {
	s.t.Helper()
	deadline := time.Now().Add(s.cfg.Wait)
	for {
		if e := s.Emits(ch); len(e) >= n {
			return e
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("sdktest: %d of %d tasks captured on %s after %v", len(s.Emits(ch)), n, ch, s.cfg.Wait)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// Traces drains the kernel's trace rings and returns every record seen so
// far (those of the whole run after Halt).
func (s *Sandbox) Traces() []trace.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.K.DrainTrace(func(_ int, r *trace.Record) { s.traces = append(s.traces, *r) })
	return slices.Clone(s.traces)
}

// Halt halts the kernel once, checks the accounting of [C9] and returns the
// report; later calls return the same report.
func (s *Sandbox) Halt() Report {
	s.t.Helper()
	s.mu.Lock()
	r := s.report
	s.mu.Unlock()
	if r != nil {
		return *r
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Wait)
	defer cancel()
	if err := s.K.Halt(ctx); err != nil && !errors.Is(err, kernel.ErrClosed) {
		s.t.Errorf("sdktest: halt: %v", err)
	}
	hr, _ := s.K.Halted()
	if st := hr.Stats; st.Created() != st.Completed+st.Errored+st.Dropped+hr.Queued {
		s.t.Errorf("sdktest: [C9] accounting: %v queued=%d", st, hr.Queued)
	}
	rep := Report{Stats: hr.Stats, Queued: hr.Queued, Traces: s.Traces(),
		Alloc: s.K.AllocStats(0), LivePayloads: s.K.LivePayloads()}
	s.mu.Lock()
	s.report = &rep
	s.mu.Unlock()
	return rep
}

// Count returns how many records of event ev r holds.
func (r Report) Count(ev trace.Event) int {
	n := 0
	for i := range r.Traces {
		if r.Traces[i].Event == ev {
			n++
		}
	}
	return n
}
