package kbuild

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// ErrModule is wrapped by every error about a module.toml or the set of
// modules: a syntax error, a missing or unknown key, a duplicate type id.
var ErrModule = errors.New("invalid module")

// MaxShared is the most dynamic shared memory a handler may declare: an
// H100 block's 227 KiB rounded down, the same bound as gpu.MaxShared.
const MaxShared = 224 << 10

// Granularity is how many threads run one task of a handler ([G3]).
type Granularity uint8

// The granularities, in the order of gmk_gpu.h's GMK_SCALAR/WARP/BLOCK.
const (
	Scalar Granularity = iota // one task per thread
	Warp                      // one task per warp
	Block                     // one task per block
)

var granNames = [...]string{Scalar: "scalar", Warp: "warp", Block: "block"}

// String returns the module.toml spelling: "scalar", "warp" or "block".
func (g Granularity) String() string {
	if int(g) < len(granNames) {
		return granNames[g]
	}
	return fmt.Sprintf("granularity(%d)", uint8(g))
}

// Macro returns the C constant of gmk_gpu.h: GMK_SCALAR, GMK_WARP or GMK_BLOCK.
func (g Granularity) Macro() string { return "GMK_" + strings.ToUpper(g.String()) }

// Handler is one handler registration of a GPU module ([M1]).
type Handler struct {
	Fn          string      // C function, declared with GMK_HANDLER(Fn)
	Type        uint32      // task type id it handles
	Name        string      // display name (defaults to Fn)
	Granularity Granularity // SCALAR unless the module says otherwise
	Shared      uint32      // dynamic shared memory bytes it needs
	// Deterministic marks a handler allowed to run deterministic types
	// ([M1] flag DETERMINISTIC); the kernel build only carries it.
	Deterministic bool
	Module        string // the registering module's name
}

// Module is a parsed module.toml ([U4]).
type Module struct {
	Name    string
	Version string
	Target  string // "gpu" or "cpu"
	// Source is the CUDA source of the module, relative to Dir.
	Source string
	// Dir is the module's directory relative to the kernels directory,
	// slash-separated ("modules/echo"); set by LoadModules, "" otherwise.
	Dir      string
	File     string // the module.toml path, for messages
	Handlers []Handler
}

// SourcePath is the module source relative to the kernels directory, as the
// generated dispatch header includes it.
func (m *Module) SourcePath() string { return path.Join(m.Dir, m.Source) }

// rawModule is the TOML shape. Pointer fields tell a missing key from a zero.
type rawModule struct {
	Name        *string          `toml:"name"`
	Version     string           `toml:"version"`
	Description string           `toml:"description"`
	Target      *string          `toml:"target"`
	Source      *string          `toml:"source"`
	Handlers    []rawHandler     `toml:"handlers"`
	Channels    []map[string]any `toml:"channels"` // declared for boot; the kernel build ignores them
}

type rawHandler struct {
	Fn            *string `toml:"fn"`
	Type          *int64  `toml:"type"`
	Name          string  `toml:"name"`
	Granularity   *string `toml:"granularity"`
	Shared        int64   `toml:"shared"`
	Deterministic bool    `toml:"deterministic"`
}

var (
	cIdent     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	moduleName = regexp.MustCompile(`^[a-z][a-z0-9_.-]*$`)
)

// ParseModule parses one module.toml. file names it in errors. Keys it does
// not know are errors (a misspelt "granularity" must not silently become
// SCALAR); every error wraps ErrModule and names the file and, where it can,
// the line.
//
// Module keys: name, version, description, target ("gpu" or "cpu"), source
// (required for gpu), [[handlers]], [[channels]] (left to boot). Handler
// keys: fn and type (required), name (default fn), granularity ("scalar",
// "warp" or "block"; default scalar), shared (bytes, default 0),
// deterministic.
func ParseModule(data []byte, file string) (*Module, error) {
	var raw rawModule
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %w: %s", file, pe.Position.Line, ErrModule, pe.Message)
		}
		return nil, fmt.Errorf("%s: %w: %s", file, ErrModule, strings.TrimPrefix(err.Error(), "toml: "))
	}
	for _, k := range md.Undecoded() {
		if len(k) > 0 && k[0] == "channels" {
			continue
		}
		return nil, fmt.Errorf("%s: %w: unknown key %q", file, ErrModule, k.String())
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: %s", file, ErrModule, fmt.Sprintf(format, args...))
	}
	m := &Module{Version: raw.Version, File: file}
	switch {
	case raw.Name == nil:
		return nil, bad("missing name")
	case !moduleName.MatchString(*raw.Name):
		return nil, bad("name %q: use lower-case letters, digits, '_', '.', '-'", *raw.Name)
	case raw.Target == nil:
		return nil, bad("module %s: missing target (gpu or cpu)", *raw.Name)
	case *raw.Target != "gpu" && *raw.Target != "cpu":
		return nil, bad("module %s: target %q: want gpu or cpu", *raw.Name, *raw.Target)
	}
	m.Name, m.Target = *raw.Name, *raw.Target
	if raw.Source != nil {
		m.Source = *raw.Source
	}
	if m.Target == "gpu" {
		if err := checkSource(m.Source); err != nil {
			return nil, bad("module %s: source: %v", m.Name, err)
		}
	}
	lines := tableLines(data, "[[handlers]]")
	for i, rh := range raw.Handlers {
		where := fmt.Sprintf("handlers[%d]", i)
		if i < len(lines) {
			where = fmt.Sprintf("line %d: %s", lines[i], where)
		}
		h, err := rh.handler(m.Name)
		if err != nil {
			return nil, bad("module %s: %s: %v", m.Name, where, err)
		}
		m.Handlers = append(m.Handlers, h)
	}
	if err := checkUnique([]*Module{m}); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return m, nil
}

func (rh rawHandler) handler(module string) (Handler, error) {
	h := Handler{Name: rh.Name, Module: module, Deterministic: rh.Deterministic}
	switch {
	case rh.Fn == nil:
		return h, errors.New("missing fn (the C function declared with GMK_HANDLER)")
	case !cIdent.MatchString(*rh.Fn):
		return h, fmt.Errorf("fn %q is not a C identifier", *rh.Fn)
	case rh.Type == nil:
		return h, fmt.Errorf("fn %s: missing type (the task type id)", *rh.Fn)
	case *rh.Type < 1 || *rh.Type > math.MaxUint32:
		return h, fmt.Errorf("fn %s: type %d out of range 1..%d", *rh.Fn, *rh.Type, uint32(math.MaxUint32))
	case rh.Shared < 0 || rh.Shared > MaxShared:
		return h, fmt.Errorf("fn %s: shared %d out of range 0..%d", *rh.Fn, rh.Shared, MaxShared)
	}
	h.Fn, h.Type, h.Shared = *rh.Fn, uint32(*rh.Type), uint32(rh.Shared)
	if h.Name == "" {
		h.Name = h.Fn
	}
	if rh.Granularity != nil {
		g, ok := parseGranularity(*rh.Granularity)
		if !ok {
			return h, fmt.Errorf("fn %s: unknown granularity %q (want scalar, warp or block)", h.Fn, *rh.Granularity)
		}
		h.Granularity = g
	}
	return h, nil
}

func parseGranularity(s string) (Granularity, bool) {
	for g, n := range granNames {
		if s == n {
			return Granularity(g), true
		}
	}
	return 0, false
}

// checkSource accepts a relative, slash-separated path inside the module
// directory to a CUDA source or header.
func checkSource(src string) error {
	switch {
	case src == "":
		return errors.New("missing (the module's .cuh file)")
	case path.IsAbs(src) || strings.Contains(src, `\`) || path.Clean(src) != src || strings.HasPrefix(src, "../"):
		return fmt.Errorf("%q: want a plain relative path inside the module directory", src)
	case !strings.HasSuffix(src, ".cuh") && !strings.HasSuffix(src, ".cu") && !strings.HasSuffix(src, ".h"):
		return fmt.Errorf("%q: want a .cuh, .cu or .h file", src)
	}
	return nil
}

// tableLines returns the 1-based lines on which header opens an array table.
func tableLines(data []byte, header string) []int {
	var lines []int
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		if strings.HasPrefix(strings.TrimSpace(sc.Text()), header) {
			lines = append(lines, n)
		}
	}
	return lines
}

// checkUnique rejects two modules of one name, and two handlers of one type
// id or one C function, naming both registrations.
func checkUnique(mods []*Module) error {
	names := map[string]*Module{}
	types := map[uint32]Handler{}
	fns := map[string]Handler{}
	for _, m := range mods {
		if o, ok := names[m.Name]; ok && o != m {
			return fmt.Errorf("%w: module name %s used by %s and %s", ErrModule, m.Name, o.File, m.File)
		}
		names[m.Name] = m
		for _, h := range m.Handlers {
			if o, ok := types[h.Type]; ok {
				return fmt.Errorf("%w: duplicate type %d: %s.%s and %s.%s", ErrModule, h.Type, o.Module, o.Name, h.Module, h.Name)
			}
			if o, ok := fns[h.Fn]; ok {
				return fmt.Errorf("%w: duplicate fn %s: types %d (%s) and %d (%s)", ErrModule, h.Fn, o.Type, o.Module, h.Type, h.Module)
			}
			types[h.Type], fns[h.Fn] = h, h
		}
	}
	return nil
}

// LoadModules reads every kernels/modules/NAME/module.toml under the kernels
// directory, in name order, and checks them as one set: each is a gpu
// module, its source exists, every GMK_HANDLER its directory declares is
// registered and every registered fn is declared, and no type id or
// function is registered twice. Errors wrap ErrModule.
func LoadModules(kernels string) ([]*Module, error) {
	files, err := filepath.Glob(filepath.Join(kernels, "modules", "*", "module.toml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var mods []*Module
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		m, err := ParseModule(data, f)
		if err != nil {
			return nil, err
		}
		if m.Target != "gpu" {
			return nil, fmt.Errorf("%s: %w: module %s: target %s, but kernels/modules holds GPU modules", f, ErrModule, m.Name, m.Target)
		}
		m.Dir = path.Join("modules", filepath.Base(filepath.Dir(f)))
		if err := checkDeclared(m, filepath.Dir(f)); err != nil {
			return nil, err
		}
		mods = append(mods, m)
	}
	if err := checkUnique(mods); err != nil {
		return nil, err
	}
	return mods, nil
}

var handlerDecl = regexp.MustCompile(`(?m)^\s*GMK_HANDLER\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)`)

// checkDeclared matches the module's registrations against the
// GMK_HANDLER declarations in the CUDA files of its directory. A declared but
// unregistered handler would fail to compile with an obscure "GMK_ATTR_fn is
// undefined"; say it plainly instead.
func checkDeclared(m *Module, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(m.Source))); err != nil {
		return fmt.Errorf("%s: %w: module %s: source: %v", m.File, ErrModule, m.Name, err)
	}
	declared := map[string]bool{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || !isCUDAFile(e.Name()) {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		for _, sm := range handlerDecl.FindAllSubmatch(src, -1) {
			declared[string(sm[1])] = true
		}
	}
	registered := map[string]bool{}
	for _, h := range m.Handlers {
		registered[h.Fn] = true
		if !declared[h.Fn] {
			return fmt.Errorf("%s: %w: module %s: fn %s is registered but no GMK_HANDLER(%s) is declared in %s", m.File, ErrModule, m.Name, h.Fn, h.Fn, dir)
		}
	}
	var extra []string
	for fn := range declared {
		if !registered[fn] {
			extra = append(extra, fn)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("%s: %w: module %s: GMK_HANDLER(%s) declared in %s but not registered in module.toml", m.File, ErrModule, m.Name, strings.Join(extra, ", "), dir)
	}
	return nil
}

func isCUDAFile(name string) bool {
	for _, ext := range []string{".cuh", ".cu", ".h"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// Handlers returns every module's handlers sorted by type id.
func Handlers(mods []*Module) []Handler {
	var hs []Handler
	for _, m := range mods {
		hs = append(hs, m.Handlers...)
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].Type < hs[j].Type })
	return hs
}
