package main

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"go/format"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/gmkernel/gmk/internal/types"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var tmpl = template.Must(template.ParseFS(templateFS, "templates/*.tmpl"))

// newFlags are gmk new's flags.
type newFlags struct {
	target     string
	dir        string
	root       string
	typ        uint32
	importPath string
	noRegister bool
}

// newNew is `gmk new NAME`: scaffold a module that builds and whose test
// passes ([U4]), and register its input type in types.toml.
func newNew() *cobra.Command {
	var f newFlags
	cmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Scaffold a module: a CPU module package or a GPU module under kernels/modules",
		Long: `New writes a module named NAME with one handler for a new task type NAME.in:

  --target cpu  DIR/NAME/{module.go,module_test.go,module.toml}: a Go package whose
                test boots a kernel with the module and checks the handler ran
  --target gpu  DIR/modules/NAME/{module.toml,NAME.cuh}, DIR the kernels directory:
                a module the kernel build (gmk build --kernel) accepts

The type takes the lowest free id from 1000 (or --type) and is appended to
ROOT/types.toml, whose generated files are refreshed when ROOT is the gmk
repository (--no-register skips both).`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error { return f.run(cmd, args[0]) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "cpu", "the module's kernel: cpu or gpu")
	fl.StringVar(&f.dir, "dir", "", `where to write: cpu, the package's parent (default "."); gpu, the kernels directory (default "kernels")`)
	fl.StringVar(&f.root, "root", ".", "the directory of types.toml")
	fl.Uint32Var(&f.typ, "type", 0, "the input type id (0: the lowest free id from 1000)")
	fl.StringVar(&f.importPath, "import", "", "cpu: the package's import path (default: found from the enclosing go.mod)")
	fl.BoolVar(&f.noRegister, "no-register", false, "do not add the type to types.toml")
	return cmd
}

var reModName = regexp.MustCompile(`^[a-z][a-z0-9]{0,31}$`)

// scaffold is what the templates see.
type scaffold struct {
	Name, Go, Upper string // counter, Counter, COUNTER
	Chan, TypeName  string // counter.in
	Type            uint32
	ImportPath      string
}

func (f *newFlags) run(cmd *cobra.Command, name string) error {
	if !reModName.MatchString(name) || token.IsKeyword(name) {
		return fmt.Errorf("%w: new: name %q: want a lower-case letter, then letters or digits (a Go package and C name), not a Go keyword", errUsage, name)
	}
	if f.target != "cpu" && f.target != "gpu" {
		return fmt.Errorf("%w: new: --target %q: want cpu or gpu", errUsage, f.target)
	}
	s := scaffold{Name: name, Go: strings.ToUpper(name[:1]) + name[1:], Upper: strings.ToUpper(name),
		Chan: name + ".in", TypeName: name + ".in", Type: f.typ}
	spec, err := f.loadSpec()
	if err != nil {
		return err
	}
	if err := s.pickType(spec); err != nil {
		return err
	}
	files, err := f.files(&s)
	if err != nil {
		return err
	}
	for _, fl := range files {
		if _, err := os.Stat(fl.path); err == nil {
			return fmt.Errorf("new: %s exists; not overwriting", fl.path)
		}
	}
	out := cmd.OutOrStdout()
	for _, fl := range files {
		if err := os.MkdirAll(filepath.Dir(fl.path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(fl.path, fl.data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(out, "wrote %s\n", fl.path)
	}
	if spec != nil {
		return f.register(cmd, &s)
	}
	fmt.Fprintf(out, "declare type %d (%s) in your types.toml\n", s.Type, s.TypeName)
	return nil
}

// loadSpec reads ROOT/types.toml; nil when there is none or registering is
// off.
func (f *newFlags) loadSpec() (*types.File, error) {
	if f.noRegister {
		return nil, nil
	}
	spec, err := types.Load(filepath.Join(f.root, types.SpecFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return spec, err
}

// pickType chooses the input type id and checks that its name and id are
// free in spec.
func (s *scaffold) pickType(spec *types.File) error {
	if spec == nil {
		if s.Type == 0 {
			s.Type = 1000
		}
		return nil
	}
	for _, t := range spec.Types {
		if t.Name == s.TypeName || t.Const == s.Go+"In" || t.Module == s.Name {
			return fmt.Errorf("new: %s already declares module %s or type %s (id %d)", spec.Path, s.Name, s.TypeName, t.ID)
		}
	}
	if s.Type == 0 {
		id, ok := types.FreeID(spec, 1000, 1024)
		if !ok {
			return fmt.Errorf("new: no free type id in 1000..1023 in %s: give one with --type", spec.Path)
		}
		s.Type = id
	} else if t, ok := spec.Lookup(s.Type); ok {
		return fmt.Errorf("%w: new: --type %d is %s in %s", errUsage, s.Type, t.Name, spec.Path)
	}
	return nil
}

type outFile struct {
	path string
	data []byte
}

func (f *newFlags) files(s *scaffold) ([]outFile, error) {
	var dir string
	var names [][2]string // template, file
	if f.target == "cpu" {
		dir = filepath.Join(cmpOr(f.dir, "."), s.Name)
		ip, err := importPath(dir, f.importPath)
		if err != nil {
			return nil, err
		}
		s.ImportPath = ip
		names = [][2]string{{"cpu_module.go.tmpl", "module.go"}, {"cpu_module_test.go.tmpl", "module_test.go"}, {"cpu_module.toml.tmpl", "module.toml"}}
	} else {
		dir = filepath.Join(cmpOr(f.dir, "kernels"), "modules", s.Name)
		names = [][2]string{{"gpu_module.toml.tmpl", "module.toml"}, {"gpu_module.cuh.tmpl", s.Name + ".cuh"}}
	}
	var out []outFile
	for _, n := range names {
		var b bytes.Buffer
		if err := tmpl.ExecuteTemplate(&b, n[0], s); err != nil {
			return nil, err
		}
		data := b.Bytes()
		if strings.HasSuffix(n[1], ".go") {
			src, err := format.Source(data)
			if err != nil {
				return nil, fmt.Errorf("new: %s: the template makes bad Go: %w", n[1], err)
			}
			data = src
		}
		out = append(out, outFile{filepath.Join(dir, n[1]), data})
	}
	return out, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
