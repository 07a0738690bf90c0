package config

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gmkernel/gmk/kernel"
	"gopkg.in/yaml.v3"
)

// Params are a module's parameters from the config, passed to its factory:
// YAML scalars decode to string, int, float64 or bool, sequences to []any,
// mappings to map[string]any. A module without params gets an empty map.
type Params map[string]any

// Decode decodes the parameters into out (a pointer to a struct with yaml
// tags) strictly: a parameter out has no field for is an error.
func (p Params) Decode(out any) error {
	data, err := yaml.Marshal(map[string]any(p))
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil && len(p) > 0 {
		return err
	}
	return nil
}

// ModuleFactory builds a module from its parameters. It is called by
// Tree.Modules once per module instance of the config.
type ModuleFactory func(params Params) (kernel.Module, error)

// registry maps registered module names to factories. Register writes it
// (normally from init functions); Parse and Tree.Modules read it; mu orders
// them.
var registry struct {
	mu        sync.RWMutex
	factories map[string]ModuleFactory
}

// Register makes a module factory available under name, as database/sql does
// for drivers. Like sql.Register it panics if f is nil or name is already
// registered: both are programming errors found at init.
func Register(name string, f ModuleFactory) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if f == nil {
		panic("config: Register factory is nil")
	}
	if _, dup := registry.factories[name]; dup {
		panic("config: Register called twice for module " + name)
	}
	if registry.factories == nil {
		registry.factories = make(map[string]ModuleFactory)
	}
	registry.factories[name] = f
}

// Registered returns the registered module names, sorted.
func Registered() []string {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	names := make([]string, 0, len(registry.factories))
	for n := range registry.factories {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func lookup(name string) (ModuleFactory, error) {
	registry.mu.RLock()
	f, ok := registry.factories[name]
	registry.mu.RUnlock()
	if !ok {
		names := strings.Join(Registered(), ", ")
		if names == "" {
			names = "none"
		}
		return nil, fmt.Errorf("unknown module %q (registered: %s)", name, names)
	}
	return f, nil
}
