package config

import (
	"fmt"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/channel"
)

// BootConfig returns the first kernel's configuration with the types section
// as its per-type policies. Fields the config does not set keep their zero
// value, which kernel.Boot reads as the default.
func (t *Tree) BootConfig() kernel.BootConfig { return t.bootConfig(t.Kernels[0]) }

// BootConfigs returns the configuration of every kernel, in file order.
func (t *Tree) BootConfigs() []kernel.BootConfig {
	out := make([]kernel.BootConfig, len(t.Kernels))
	for i, k := range t.Kernels {
		out[i] = t.bootConfig(k)
	}
	return out
}

func (t *Tree) bootConfig(k Kernel) kernel.BootConfig {
	cfg := kernel.BootConfig{ID: k.ID, Role: k.Role, Workers: k.Workers, Tenants: k.Tenants,
		ArenaSize: k.ArenaSize, MaxTypes: k.MaxTypes, Policy: k.Policy, TraceLevel: k.TraceLevel,
		Poison: k.Poison}
	for _, ty := range t.Types {
		cfg.Types = append(cfg.Types, kernel.TypeInfo{ID: ty.ID, Name: ty.Name, MaxYields: ty.MaxYields,
			RetryLimit: ty.RetryLimit, Lossless: ty.Lossless, Deterministic: ty.Deterministic})
	}
	return cfg
}

// Order returns the module specs in start order: depth first over the
// supervision tree, children in their order.
func (t *Tree) Order() []*ModuleSpec {
	var out []*ModuleSpec
	var walk func(s *Supervisor)
	walk = func(s *Supervisor) {
		for _, c := range s.Children {
			if c.Module != nil {
				out = append(out, c.Module)
			} else if c.Supervisor != nil {
				walk(c.Supervisor)
			}
		}
	}
	if t.Root != nil {
		walk(t.Root)
	}
	return out
}

// Modules builds the modules in start order (see Order) by calling their
// registered factories with their params. Each module is named after its
// config entry, and the channel references of the config are merged into its
// declarations: a declaration of the same channel and direction takes the
// config's shape; a reference the module does not declare is added. A
// factory's error, a factory that is no longer registered, and a consume
// reference to a type the module has no handler for are *Errors at the
// module's line.
func (t *Tree) Modules() ([]kernel.Module, error) {
	specs := t.Order()
	mods := make([]kernel.Module, 0, len(specs))
	for _, s := range specs {
		m, err := build(s)
		if err != nil {
			return nil, err
		}
		if err := t.merge(&m, s); err != nil {
			return nil, err
		}
		mods = append(mods, m)
	}
	return mods, nil
}

func build(s *ModuleSpec) (kernel.Module, error) {
	f, err := lookup(s.Driver)
	if err != nil {
		return kernel.Module{}, &Error{Pos: s.Pos, Field: "module " + s.Name, Msg: err.Error(), Err: ErrUnknownModule}
	}
	params := make(Params, len(s.Params))
	for k, v := range s.Params {
		params[k] = v
	}
	m, err := f(params)
	if err != nil {
		return kernel.Module{}, &Error{Pos: s.Pos, Field: "module " + s.Name, Msg: fmt.Sprintf("%s: %v", s.Driver, err), Err: fmt.Errorf("%w: %w", ErrModule, err)}
	}
	m.Name = s.Name
	return m, nil
}

// merge applies the module's channel references to its declarations. It
// copies the module's slice first: a factory may return a shared one.
func (t *Tree) merge(m *kernel.Module, s *ModuleSpec) error {
	m.Channels = append([]kernel.ChanDecl(nil), m.Channels...)
	for _, r := range s.Channels {
		d := t.decl(r)
		if d.Dir == kernel.Consume && !d.OnError && !hasHandler(m, d.Type) {
			return &Error{Pos: r.Pos, Field: "module " + s.Name, Msg: fmt.Sprintf("consumes %s as type %d but has no handler for it", r.Channel, d.Type), Err: ErrInvalid}
		}
		i := 0
		for i < len(m.Channels) && (m.Channels[i].Name != d.Name || m.Channels[i].Dir != d.Dir) {
			i++
		}
		if i == len(m.Channels) {
			m.Channels = append(m.Channels, d)
		} else {
			m.Channels[i] = d
		}
	}
	return nil
}

// decl turns a reference into the kernel declaration, with the shape of the
// declared channel; the system channels are fan-out and lossy.
func (t *Tree) decl(r ChanRef) kernel.ChanDecl {
	d := kernel.ChanDecl{Name: r.Channel, Dir: r.Dir, Type: r.Type, Mode: channel.FanOut, Guarantee: channel.Lossy,
		Pin: r.Pin, Worker: r.Worker, OnError: r.OnError}
	for _, c := range t.Channels {
		if c.Name == r.Channel {
			d.Mode, d.Guarantee, d.Slots, d.Replay = c.Mode, c.Guarantee, c.Slots, c.Replay
		}
	}
	return d
}

func hasHandler(m *kernel.Module, typ uint32) bool {
	for _, h := range m.Handlers {
		if h.Type == typ {
			return true
		}
	}
	return false
}
