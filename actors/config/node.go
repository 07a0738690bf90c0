package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// parser walks the yaml.Node tree of one file. It keeps the first error
// (sticky): after a failure every helper returns zero values, so the section
// walkers read straight through and Parse reports the first problem.
type parser struct {
	file string
	err  error

	specs []ModuleSpec      // the modules section, read before the tree
	names map[string]string // tree node names (modules and supervisors) → path
}

// pos is n's position; a nil n (an absent node, after an earlier error) is
// line 0.
func (p *parser) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: p.file}
	}
	return Pos{File: p.file, Line: n.Line, Col: n.Column}
}

// fail records an error at node n for the field at path, unless one is recorded.
func (p *parser) fail(n *yaml.Node, path string, sentinel error, format string, args ...any) {
	if p.err == nil {
		p.err = &Error{Pos: p.pos(n), Field: path, Msg: fmt.Sprintf(format, args...), Err: sentinel}
	}
}

// kindName names a node's kind for "want X, got Y" messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "null"
	}
	return strconv.Quote(n.Value)
}

// mapping is a checked YAML mapping: known keys only, each at most once.
type mapping struct {
	p      *parser
	n      *yaml.Node
	path   string
	fields map[string][2]*yaml.Node // key → {key node, value node}
}

// mapping checks that n is a mapping whose keys are all in known and appear
// once. A nil n (an absent section) gives an empty mapping.
func (p *parser) mapping(n *yaml.Node, path string, known ...string) *mapping {
	m := &mapping{p: p, n: n, path: path, fields: map[string][2]*yaml.Node{}}
	if n == nil || p.err != nil {
		return m
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n, path, ErrInvalid, "want a mapping, got %s", kindName(n))
		return m
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.fail(k, path, ErrInvalid, "want a string key, got %s", kindName(k))
			return m
		}
		if !containsStr(known, k.Value) {
			p.fail(k, join(path, k.Value), ErrUnknownField, "unknown field (want one of %s)", strings.Join(known, ", "))
			return m
		}
		if _, dup := m.fields[k.Value]; dup {
			p.fail(k, join(path, k.Value), ErrDuplicate, "field given twice")
			return m
		}
		if v.Kind == yaml.AliasNode {
			p.fail(v, join(path, k.Value), ErrInvalid, "YAML aliases are not supported here")
			return m
		}
		m.fields[k.Value] = [2]*yaml.Node{k, v}
	}
	return m
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// join appends a field name to a path.
func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// index appends a sequence index to a path.
func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// get returns the value node of key (nil if absent) and its path.
func (m *mapping) get(key string) (*yaml.Node, string) {
	return m.fields[key][1], join(m.path, key)
}

// has reports whether key was given.
func (m *mapping) has(key string) bool { _, ok := m.fields[key]; return ok }

// require records ErrMissing unless key was given.
func (m *mapping) require(key string) bool {
	if m.has(key) || m.p.err != nil {
		return m.has(key)
	}
	n := m.n
	if n == nil {
		n = &yaml.Node{}
	}
	m.p.fail(n, join(m.path, key), ErrMissing, "required field missing")
	return false
}

// scalar returns the value of key if it is a non-null scalar.
func (m *mapping) scalar(key string) (*yaml.Node, string, bool) {
	v, path := m.get(key)
	if v == nil || m.p.err != nil {
		return nil, path, false
	}
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		m.p.fail(v, path, ErrInvalid, "want a scalar, got %s", kindName(v))
		return nil, path, false
	}
	return v, path, true
}

// str sets *dst to key's value, if given.
func (m *mapping) str(key string, dst *string) {
	if v, _, ok := m.scalar(key); ok {
		*dst = v.Value
	}
}

// integer sets *dst to key's value, if given, checking it is in [lo, hi].
func (m *mapping) integer(key string, dst *int, lo, hi int) {
	v, path, ok := m.scalar(key)
	if !ok {
		return
	}
	var x int64
	if v.Tag != "!!int" || v.Decode(&x) != nil {
		m.p.fail(v, path, ErrInvalid, "want an integer, got %s", kindName(v))
		return
	}
	if x < int64(lo) || x > int64(hi) {
		m.p.fail(v, path, ErrInvalid, "%d out of range [%d, %d]", x, lo, hi)
		return
	}
	*dst = int(x)
}

// boolean sets *dst to key's value, if given.
func (m *mapping) boolean(key string, dst *bool) {
	v, path, ok := m.scalar(key)
	if !ok {
		return
	}
	if v.Tag != "!!bool" || v.Decode(dst) != nil {
		m.p.fail(v, path, ErrInvalid, "want true or false, got %s", kindName(v))
	}
}

// fraction sets *dst to key's value, if given, checking it is in [0, 1].
func (m *mapping) fraction(key string, dst *float64) {
	v, path, ok := m.scalar(key)
	if !ok {
		return
	}
	var x float64
	if (v.Tag != "!!float" && v.Tag != "!!int") || v.Decode(&x) != nil || math.IsNaN(x) {
		m.p.fail(v, path, ErrInvalid, "want a number, got %s", kindName(v))
		return
	}
	if x < 0 || x > 1 {
		m.p.fail(v, path, ErrInvalid, "%v outside [0, 1]", x)
		return
	}
	*dst = x
}

// duration sets *dst to key's value, if given: a non-negative Go duration
// such as "250ms" or "5s".
func (m *mapping) duration(key string, dst *time.Duration) {
	v, path, ok := m.scalar(key)
	if !ok {
		return
	}
	d, err := time.ParseDuration(v.Value)
	if err != nil {
		m.p.fail(v, path, ErrInvalid, "bad duration %q (want e.g. 250ms, 5s, 1m)", v.Value)
		return
	}
	if d < 0 {
		m.p.fail(v, path, ErrInvalid, "negative duration %q", v.Value)
		return
	}
	*dst = d
}

// enum returns the index of key's value in names, or -1 if absent or bad;
// what names the kind of value for the error ("strategy").
func (m *mapping) enum(key, what string, names []string) int {
	v, path, ok := m.scalar(key)
	if !ok {
		return -1
	}
	for i, n := range names {
		if n != "" && v.Value == n {
			return i
		}
	}
	var want []string
	for _, n := range names {
		if n != "" {
			want = append(want, n)
		}
	}
	m.p.fail(v, path, ErrInvalid, "unknown %s %q (want %s)", what, v.Value, strings.Join(want, ", "))
	return -1
}

// sequence returns the items of key's value, which must be a sequence.
func (m *mapping) sequence(key string) ([]*yaml.Node, string) {
	v, path := m.get(key)
	if v == nil || m.p.err != nil {
		return nil, path
	}
	if v.Kind != yaml.SequenceNode {
		m.p.fail(v, path, ErrInvalid, "want a sequence, got %s", kindName(v))
		return nil, path
	}
	for i, it := range v.Content {
		if it.Kind == yaml.AliasNode {
			m.p.fail(it, index(path, i), ErrInvalid, "YAML aliases are not supported here")
			return nil, path
		}
	}
	return v.Content, path
}
