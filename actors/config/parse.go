package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Load reads and parses the config file at path; errors name the file by its
// base name. See Parse.
func Load(path string) (*Tree, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(filepath.Base(path), data)
}

// Parse parses and validates a config; name is the file name errors report.
// Every error is an *Error naming file:line and the field path, wrapping one
// of the sentinels (ErrSyntax, ErrUnknownField, ErrMissing, ErrInvalid,
// ErrDuplicate, ErrUndefined, ErrUnknownModule). Module names are checked
// against the registry, so modules must be registered before Parse.
func Parse(name string, data []byte) (*Tree, error) {
	root, err := decode(name, data)
	if err != nil {
		return nil, err
	}
	p := &parser{file: name, names: map[string]string{}}
	t := p.tree(root)
	if p.err != nil {
		return nil, p.err
	}
	return t, nil
}

// topFields are the sections of a config file.
var topFields = []string{"kernel", "kernels", "types", "channels", "modules", "supervisor"}

// tree walks the document's top-level mapping, section by section.
func (p *parser) tree(root *yaml.Node) *Tree {
	m := p.mapping(root, "", topFields...)
	t := &Tree{File: p.file}
	t.Kernels = p.kernels(m)
	t.Types = p.types(m)
	t.Channels = p.channels(m, t.Types)
	t.Specs = p.modules(m, t)
	p.specs = t.Specs
	if m.require("supervisor") {
		n, path := m.get("supervisor")
		t.Root = p.supervisor(n, path, 0)
	}
	p.checkSupervised(t)
	return t
}

// syntaxLine finds the line yaml.v3 names in its error messages.
var syntaxLine = regexp.MustCompile(`line (\d+): `)

// decode parses data into the single document's root node. yaml.v3 returns
// errors for malformed input; the recover guards against a panic inside the
// library on hostile input, which must surface as an error, not a crash.
func decode(name string, data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &Error{Pos: Pos{File: name, Line: 1}, Msg: fmt.Sprintf("YAML parser failed: %v", r), Err: ErrSyntax}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Pos: Pos{File: name, Line: 1}, Msg: "empty config", Err: ErrSyntax}
		}
		return nil, syntaxError(name, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, &Error{Pos: Pos{File: name, Line: next.Line}, Msg: "more than one YAML document", Err: ErrSyntax}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(name, err)
	}
	if len(doc.Content) != 1 {
		return nil, &Error{Pos: Pos{File: name, Line: doc.Line}, Msg: "empty config", Err: ErrSyntax}
	}
	return doc.Content[0], nil
}

// syntaxError turns a yaml.v3 error ("yaml: line 3: ...") into an *Error.
func syntaxError(name string, err error) error {
	line := 1
	msg := err.Error()
	if m := syntaxLine.FindStringSubmatchIndex(msg); m != nil {
		line, _ = strconv.Atoi(msg[m[2]:m[3]])
		msg = msg[m[1]:]
	}
	return &Error{Pos: Pos{File: name, Line: line}, Msg: msg, Err: ErrSyntax}
}
