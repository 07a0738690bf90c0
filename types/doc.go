// Package types is GMK's task type registry ([U3]), generated from
// types.toml at the repository root — the single source of every type id,
// name, payload schema and policy. types_gen.go holds a constant per type
// (types.EchoIn = 960), a Go struct per struct payload (TimerSpec, whose C
// twin is gmk_timer_spec_t in kernels/include/gmk_types.h) and the table
// behind Default.
//
// Boot-time policy checks: Check (or Registry.Check) takes the modules
// about to boot and reports every handler or channel of an unknown type, a
// deterministic type handled by a handler not registered DETERMINISTIC, and
// a lossless type declared on a lossy channel. The booting layer calls it
// before kernel.Boot and passes Registry.TypeInfos to BootConfig.Types, so
// the kernel enforces the same policies on its own:
//
//	if err := types.Check(mods...); err != nil {
//		return err // every violation, one per line
//	}
//	cfg.Types = append(cfg.Types, types.Default.TypeInfos(cfg.MaxTypes)...)
//	k, err := kernel.Boot(cfg, mods...)
//
// Tasks made outside handlers (gmk emit, the bridge) check their payload
// size with CheckPayload.
//
// The package lives at the repository root, not under kernel/: the kernel
// knows no type by name (it takes TypeInfo values at boot), while modules,
// the GPU side, the command line and applications all name types — and
// this package imports kernel for its TypeInfo and Module, which kernel/
// must never import back.
//
// Concurrency: a Registry is immutable once built; any number of
// goroutines may use it.
//
// Edit types.toml, then regenerate with `gmk gen types` or `go generate
// ./types`.
package types

//go:generate go run github.com/gmkernel/gmk/cmd/gmk gen types --root ..
