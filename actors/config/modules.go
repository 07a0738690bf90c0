package config

import (
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/channel"
	"gopkg.in/yaml.v3"
)

var (
	moduleFields  = []string{"name", "module", "params", "channels"}
	chanRefFields = []string{"channel", "dir", "type", "worker", "on_error"}
	dirNames      = []string{kernel.Produce: "produce", kernel.Consume: "consume"}
)

// modules reads the modules section: unique names, registered drivers,
// params as a free map, channel references to declared channels.
func (p *parser) modules(m *mapping, t *Tree) []ModuleSpec {
	items, path := m.sequence("modules")
	ms := make([]ModuleSpec, 0, len(items))
	seen := map[string]bool{}
	for i, n := range items {
		ip := index(path, i)
		mm := p.mapping(n, ip, moduleFields...)
		s := ModuleSpec{Pos: p.pos(n), Params: Params{}}
		mm.require("name")
		mm.str("name", &s.Name)
		if nn, np := mm.get("name"); nn != nil && seen[s.Name] {
			p.fail(nn, np, ErrDuplicate, "duplicate module name %q", s.Name)
		}
		seen[s.Name] = true
		s.Driver = s.Name
		mm.str("module", &s.Driver)
		p.driver(mm, s.Driver)
		s.Params = p.params(mm)
		s.Channels = p.chanRefs(mm, t)
		ms = append(ms, s)
	}
	return ms
}

// driver checks that the module's registered name exists.
func (p *parser) driver(mm *mapping, name string) {
	if p.err != nil {
		return
	}
	if _, err := lookup(name); err != nil {
		n, path := mm.get("module")
		if n == nil {
			n, path = mm.get("name")
		}
		p.fail(n, path, ErrUnknownModule, "%s", err.Error())
	}
}

// params decodes the module's params, a mapping of any YAML values.
func (p *parser) params(mm *mapping) Params {
	n, path := mm.get("params")
	out := Params{}
	if n == nil || p.err != nil {
		return out
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n, path, ErrInvalid, "want a mapping, got %s", kindName(n))
		return out
	}
	if err := n.Decode(&out); err != nil {
		p.fail(n, path, ErrInvalid, "%s", err.Error())
	}
	return out
}

// chanRefs reads a module's channel references. A reference takes its shape
// and type from the channel's declaration; consuming an untyped system
// channel (sys.error, sys.dropped) needs the handler type.
func (p *parser) chanRefs(mm *mapping, t *Tree) []ChanRef {
	items, path := mm.sequence("channels")
	refs := make([]ChanRef, 0, len(items))
	seen := map[[2]string]bool{}
	for i, n := range items {
		ip := index(path, i)
		cm := p.mapping(n, ip, chanRefFields...)
		r := ChanRef{Pos: p.pos(n), Type: channel.AnyType}
		cm.require("channel")
		cm.str("channel", &r.Channel)
		cm.require("dir")
		if d := cm.enum("dir", "direction", dirNames); d >= 0 {
			r.Dir = kernel.Dir(d)
		}
		c := p.chanOf(cm, t, r.Channel)
		if c != nil {
			r.Type = c.Type
		}
		if cm.has("type") {
			r.Type, _ = p.typeRef(cm, "type", t.Types)
		}
		if v, vp := cm.get("type"); c != nil && v != nil && r.Type != c.Type && p.err == nil {
			p.fail(v, vp, ErrInvalid, "channel %q carries type %d, not %d", c.Name, c.Type, r.Type)
		}
		cm.integer("worker", &r.Worker, 0, maxWorkers-1)
		r.Pin = cm.has("worker")
		cm.boolean("on_error", &r.OnError)
		p.checkRef(cm, r, seen)
		refs = append(refs, r)
	}
	return refs
}

// chanOf returns the declared channel of a reference (nil for sys.*).
func (p *parser) chanOf(cm *mapping, t *Tree, name string) *Channel {
	if p.err != nil || name == kernel.SysError || name == kernel.SysDropped {
		return nil
	}
	for i := range t.Channels {
		if t.Channels[i].Name == name {
			return &t.Channels[i]
		}
	}
	n, path := cm.get("channel")
	p.fail(n, path, ErrUndefined, "undefined channel %q (declare it under channels)", name)
	return nil
}

// checkRef rejects a reference given twice and an untyped consume reference.
func (p *parser) checkRef(cm *mapping, r ChanRef, seen map[[2]string]bool) {
	if p.err != nil {
		return
	}
	key := [2]string{r.Channel, dirNames[r.Dir]}
	if seen[key] {
		n, path := cm.get("channel")
		p.fail(n, path, ErrDuplicate, "channel %q referenced twice as %s", r.Channel, dirNames[r.Dir])
		return
	}
	seen[key] = true
	if r.Dir == kernel.Consume && r.Type == channel.AnyType {
		p.fail(cm.n, cm.path+".type", ErrMissing, "consuming untyped channel %q needs the handler type", r.Channel)
	}
}
