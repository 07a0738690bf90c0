package config

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/sched"
	"github.com/gmkernel/gmk/kernel/trace"
	"gopkg.in/yaml.v3"
)

// Limits of the schema.
const (
	maxTypeID  = 1<<20 - 1 // kernel.BootConfig.MaxTypes is at most 1M
	maxDepth   = 32        // nesting of supervisors
	maxWorkers = 1024
)

var (
	kernelFields = []string{"id", "role", "workers", "tenants", "arena_size", "max_types", "policy", "trace_level", "poison"}
	policyNames  = []string{sched.PolicyRQ: "rq", sched.PolicyGRQ: "grq"}
	levelNames   = []string{trace.Error: "error", trace.Warn: "warn", trace.Info: "info", trace.All: "all"}
	roleNames    = []string{kernel.RolePeripheral, kernel.RoleCompute}
)

// kernels reads "kernel" (one mapping) or "kernels" (a sequence). Without
// either, the tree has one kernel with every default.
func (p *parser) kernels(m *mapping) []Kernel {
	if m.has("kernel") && m.has("kernels") {
		n, path := m.get("kernels")
		p.fail(n, path, ErrInvalid, "give either kernel or kernels, not both")
		return nil
	}
	if n, path := m.get("kernel"); n != nil {
		return []Kernel{p.kernel(n, path)}
	}
	items, path := m.sequence("kernels")
	if m.has("kernels") && len(items) == 0 {
		n, _ := m.get("kernels")
		p.fail(n, path, ErrMissing, "no kernels")
	}
	if len(items) == 0 {
		return []Kernel{{Pos: Pos{File: p.file, Line: 1}}}
	}
	ks := make([]Kernel, 0, len(items))
	seen := map[string]bool{}
	for i, n := range items {
		k := p.kernel(n, index(path, i))
		if seen[k.ID] && p.err == nil {
			p.fail(n, index(path, i)+".id", ErrDuplicate, "duplicate kernel id %q", k.ID)
		}
		seen[k.ID] = true
		ks = append(ks, k)
	}
	return ks
}

func (p *parser) kernel(n *yaml.Node, path string) Kernel {
	m := p.mapping(n, path, kernelFields...)
	k := Kernel{Pos: p.pos(n), ID: "cpu.0"}
	m.str("id", &k.ID)
	if r := m.enum("role", "role", roleNames); r >= 0 {
		k.Role = roleNames[r]
	}
	m.integer("workers", &k.Workers, 1, maxWorkers)
	m.integer("tenants", &k.Tenants, 1, 256)
	m.integer("max_types", &k.MaxTypes, 1, maxTypeID+1)
	k.ArenaSize = p.size(m, "arena_size")
	if i := m.enum("policy", "policy", policyNames); i >= 0 {
		k.Policy = sched.Policy(i)
	}
	if i := m.enum("trace_level", "trace level", levelNames); i >= 0 {
		k.TraceLevel = trace.Level(i)
	}
	pn, ppath := m.get("poison")
	pm := p.mapping(pn, ppath, "failures", "window")
	pm.integer("failures", &k.Poison.Failures, 1, 1<<30)
	var w int
	pm.integer("window", &w, 1, 1<<30)
	k.Poison.Window = uint64(w)
	return k
}

var sizeRE = regexp.MustCompile(`^([0-9]+)\s*(KiB|MiB|GiB)?$`)

// size reads a byte size: an integer or an integer with KiB, MiB or GiB.
func (p *parser) size(m *mapping, key string) int {
	v, path, ok := m.scalar(key)
	if !ok {
		return 0
	}
	sm := sizeRE.FindStringSubmatch(strings.TrimSpace(v.Value))
	x, err := int64(0), error(nil)
	if sm != nil {
		x, err = strconv.ParseInt(sm[1], 10, 64)
	}
	shift := map[string]uint{"": 0, "KiB": 10, "MiB": 20, "GiB": 30}[safeIdx(sm, 2)]
	if sm == nil || err != nil || x <= 0 || x > 1<<40>>shift {
		p.fail(v, path, ErrInvalid, "bad size %q (want bytes, or a number with KiB, MiB or GiB, at most 1 TiB)", v.Value)
		return 0
	}
	return int(x << shift)
}

func safeIdx(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

var typeFields = []string{"id", "name", "max_yields", "retry_limit", "lossless", "deterministic"}

// types reads the types section: unique ids and names.
func (p *parser) types(m *mapping) []Type {
	items, path := m.sequence("types")
	ts := make([]Type, 0, len(items))
	ids, names := map[int]bool{}, map[string]bool{}
	for i, n := range items {
		ip := index(path, i)
		tm := p.mapping(n, ip, typeFields...)
		t := Type{Pos: p.pos(n)}
		id := -1
		if tm.require("id") {
			tm.integer("id", &id, 0, maxTypeID)
		}
		tm.require("name")
		tm.str("name", &t.Name)
		tm.integer("max_yields", &t.MaxYields, 0, 1<<15)
		tm.integer("retry_limit", &t.RetryLimit, 0, 1<<15)
		tm.boolean("lossless", &t.Lossless)
		tm.boolean("deterministic", &t.Deterministic)
		switch {
		case p.err != nil:
		case ids[id]:
			p.fail(tm.fields["id"][1], ip+".id", ErrDuplicate, "duplicate type id %d", id)
		case names[t.Name]:
			p.fail(tm.fields["name"][1], ip+".name", ErrDuplicate, "duplicate type name %q", t.Name)
		}
		t.ID, ids[id], names[t.Name] = uint32(id), true, true
		ts = append(ts, t)
	}
	return ts
}

// typeRef resolves key's value — a declared type's name or id — to a type id.
func (p *parser) typeRef(m *mapping, key string, types []Type) (uint32, bool) {
	v, path, ok := m.scalar(key)
	if !ok {
		return 0, false
	}
	for _, t := range types {
		if t.Name == v.Value || v.Tag == "!!int" && strconv.FormatUint(uint64(t.ID), 10) == v.Value {
			return t.ID, true
		}
	}
	p.fail(v, path, ErrUndefined, "undefined type %q (declare it under types)", v.Value)
	return 0, false
}

var (
	channelFields  = []string{"name", "type", "mode", "guarantee", "slots", "replay"}
	modeNames      = []string{channel.P2P: "p2p", channel.FanOut: "fanout"}
	guaranteeNames = []string{channel.Lossy: "lossy", channel.Lossless: "lossless"}
)

// channels reads the channels section: unique valid names, declared types,
// and shapes the kernel accepts.
func (p *parser) channels(m *mapping, types []Type) []Channel {
	items, path := m.sequence("channels")
	cs := make([]Channel, 0, len(items))
	seen := map[string]bool{kernel.SysError: true, kernel.SysDropped: true}
	for i, n := range items {
		ip := index(path, i)
		cm := p.mapping(n, ip, channelFields...)
		c := Channel{Pos: p.pos(n)}
		cm.require("name")
		cm.str("name", &c.Name)
		if nn, np := cm.get("name"); nn != nil && p.err == nil {
			if err := channel.ValidName(c.Name); err != nil {
				p.fail(nn, np, ErrInvalid, "%s", strings.TrimPrefix(err.Error(), channel.ErrBadSpec.Error()+": "))
			} else if seen[c.Name] {
				p.fail(nn, np, ErrDuplicate, "duplicate channel %q", c.Name)
			}
		}
		seen[c.Name] = true
		cm.require("type")
		c.Type, _ = p.typeRef(cm, "type", types)
		if i := cm.enum("mode", "mode", modeNames); i >= 0 {
			c.Mode = channel.Mode(i)
		}
		if i := cm.enum("guarantee", "guarantee", guaranteeNames); i >= 0 {
			c.Guarantee = channel.Guarantee(i)
		}
		cm.integer("slots", &c.Slots, 2, 1<<24)
		cm.integer("replay", &c.Replay, 0, 1<<24)
		p.checkChannel(cm, c, types)
		cs = append(cs, c)
	}
	return cs
}

// checkChannel applies the kernel's rules a config can break on its own.
func (p *parser) checkChannel(cm *mapping, c Channel, types []Type) {
	if p.err != nil {
		return
	}
	if n, path := cm.get("replay"); c.Replay > 0 && c.Guarantee != channel.Lossless {
		p.fail(n, path, ErrInvalid, "a replay buffer needs a lossless channel")
		return
	}
	for _, t := range types {
		if t.ID == c.Type && t.Lossless && c.Guarantee == channel.Lossy {
			n, path := cm.get("guarantee")
			if n == nil {
				n, path = cm.n, join(cm.path, "guarantee")
			}
			p.fail(n, path, ErrInvalid, "type %q is lossless, so channel %q must be lossless", t.Name, c.Name)
		}
	}
}
