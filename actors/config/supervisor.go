package config

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

var (
	supervisorFields = []string{"name", "strategy", "max_restarts", "within", "backoff", "children"}
	backoffFields    = []string{"min", "max", "random_factor", "reset_after"}
	childFields      = []string{"module", "supervisor", "restart"}
)

// supervisor reads a supervisor mapping and, recursively, its children.
func (p *parser) supervisor(n *yaml.Node, path string, depth int) *Supervisor {
	s := &Supervisor{Pos: p.pos(n), MaxRestarts: DefaultMaxRestarts, Within: DefaultWithin}
	if depth >= maxDepth {
		p.fail(n, path, ErrInvalid, "supervisors nested deeper than %d", maxDepth)
		return s
	}
	m := p.mapping(n, path, supervisorFields...)
	m.require("name")
	m.str("name", &s.Name)
	if nn, np := m.get("name"); nn != nil {
		if p.isModule(s.Name) {
			p.fail(nn, np, ErrDuplicate, "supervisor name %q is also a module's name", s.Name)
		}
		p.claim(nn, np, s.Name)
	}
	m.require("strategy")
	if i := m.enum("strategy", "strategy", strategyNames); i >= 0 {
		s.Strategy = Strategy(i)
	}
	p.intensity(m, s)
	s.Backoff = p.backoff(m)
	items, cpath := m.sequence("children")
	for i, c := range items {
		s.Children = append(s.Children, p.child(c, index(cpath, i), depth))
	}
	return s
}

// intensity reads max_restarts (≥ 0) and within (> 0).
func (p *parser) intensity(m *mapping, s *Supervisor) {
	v, path, ok := m.scalar("max_restarts")
	var x int64
	switch {
	case !ok:
	case v.Tag != "!!int" || v.Decode(&x) != nil:
		p.fail(v, path, ErrInvalid, "want an integer, got %s", kindName(v))
	case x < 0:
		p.fail(v, path, ErrInvalid, "max_restarts %d is negative", x)
	case x > 1<<20:
		p.fail(v, path, ErrInvalid, "max_restarts %d above %d", x, 1<<20)
	default:
		s.MaxRestarts = int(x)
	}
	m.duration("within", &s.Within)
	if v, path := m.get("within"); v != nil && s.Within == 0 {
		p.fail(v, path, ErrInvalid, "within must be positive")
	}
}

// backoff reads the backoff block: min and max are required, min ≤ max,
// random_factor in [0, 1]; reset_after defaults to min (as in
// actors/supervise).
func (p *parser) backoff(sm *mapping) Backoff {
	n, path := sm.get("backoff")
	var b Backoff
	if n == nil {
		return b
	}
	m := p.mapping(n, path, backoffFields...)
	m.require("min")
	m.require("max")
	m.duration("min", &b.Min)
	m.duration("max", &b.Max)
	m.fraction("random_factor", &b.RandomFactor)
	m.duration("reset_after", &b.ResetAfter)
	if p.err != nil {
		return b
	}
	if v, vp := m.get("min"); b.Min == 0 {
		p.fail(v, vp, ErrInvalid, "backoff min must be positive")
	} else if b.Min > b.Max {
		v, vp = m.get("max")
		p.fail(v, vp, ErrInvalid, "backoff max %v is below min %v", b.Max, b.Min)
	}
	if !m.has("reset_after") {
		b.ResetAfter = b.Min
	}
	return b
}

// child reads a child: a module reference or a nested supervisor.
func (p *parser) child(n *yaml.Node, path string, depth int) Child {
	c := Child{Pos: p.pos(n)}
	m := p.mapping(n, path, childFields...)
	if p.err != nil {
		return c
	}
	if m.has("module") == m.has("supervisor") {
		p.fail(n, path, ErrInvalid, "a child has exactly one of module and supervisor")
		return c
	}
	if i := m.enum("restart", "restart type", restartNames); i >= 0 {
		c.Restart = Restart(i)
	}
	if m.has("module") {
		c.Module = p.moduleRef(m)
		return c
	}
	sn, spath := m.get("supervisor")
	c.Supervisor = p.supervisor(sn, spath, depth+1)
	return c
}

// claim records a tree node name, rejecting one already used by a module or
// supervisor of the tree.
func (p *parser) claim(n *yaml.Node, path, name string) {
	if prev, dup := p.names[name]; dup && p.err == nil {
		p.fail(n, path, ErrDuplicate, "%q is already in the tree (at %s)", name, prev)
	}
	p.names[name] = path
}

// moduleRef resolves a child's module reference to its spec; a module may
// appear once in the tree.
func (p *parser) moduleRef(m *mapping) *ModuleSpec {
	v, path, ok := m.scalar("module")
	if !ok {
		return nil
	}
	for i := range p.specs {
		if p.specs[i].Name == v.Value {
			p.claim(v, path, v.Value)
			return &p.specs[i]
		}
	}
	p.fail(v, path, ErrUndefined, "undefined module %q (declare it under modules)", v.Value)
	return nil
}

// checkSupervised requires every module of the modules section in the tree,
// since booting the tree boots exactly its modules.
func (p *parser) checkSupervised(t *Tree) {
	for i, s := range t.Specs {
		if _, ok := p.names[s.Name]; !ok && p.err == nil {
			p.err = &Error{Pos: s.Pos, Field: index("modules", i), Msg: fmt.Sprintf("module %q is not a child of any supervisor", s.Name), Err: ErrInvalid}
		}
	}
}

func (p *parser) isModule(name string) bool {
	for _, s := range p.specs {
		if s.Name == name {
			return true
		}
	}
	return false
}
