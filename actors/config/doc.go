// Package config reads GMK's supervision-tree configuration ([X4]): one YAML
// file that describes the kernels, the task types, the channels, the module
// instances and the supervision tree that boots them. It parses and
// validates; booting the tree is the actors package's job.
//
// # Schema
//
// Every section is optional except supervisor. Unknown fields are errors.
// Commented examples: examples/configs/pipeline.yaml and fanout.yaml.
//
//	kernel:                  # or kernels: [ ... ] — several; the first is the CPU kernel
//	  id: cpu.0              # default cpu.0
//	  role: peripheral       # peripheral | compute
//	  workers: 2             # 1..1024
//	  tenants: 1             # 1..256
//	  arena_size: 16MiB      # bytes, or N KiB | MiB | GiB
//	  max_types: 1024
//	  policy: rq             # rq | grq
//	  trace_level: warn      # error | warn | info | all
//	  poison: {failures: 32, window: 1000}
//	types:
//	  - {id: 1, name: raw, max_yields: 8, retry_limit: 4, lossless: true, deterministic: false}
//	channels:
//	  - {name: ingest.raw, type: raw, mode: p2p, guarantee: lossless, slots: 1024, replay: 0}
//	modules:
//	  - name: transform      # instance name, unique among modules and supervisors
//	    module: transform    # registered name (default: name)
//	    params: {upper: true}  # free mapping, handed to the factory
//	    channels:            # merged into the module's declarations
//	      - {channel: ingest.raw, dir: consume, worker: 0, on_error: false}
//	      - {channel: sys.error, dir: consume, type: report}   # untyped: name the handler type
//	supervisor:
//	  name: root
//	  strategy: one_for_one  # one_for_one | one_for_all | rest_for_one
//	  max_restarts: 3        # ≥ 0, default 3
//	  within: 5s             # > 0, default 5s
//	  backoff: {min: 10ms, max: 1s, random_factor: 0.2, reset_after: 30s}
//	  children:
//	    - module: transform
//	      restart: permanent # permanent | transient | temporary
//	    - supervisor: { name: sinks, strategy: rest_for_one, children: [ ... ] }
//	      restart: permanent
//
// Types are referenced by name or id; channels, modules and children by name.
// Validation rejects duplicate names, references to undefined types, channels
// and modules, a module used twice in the tree or not at all, bad durations,
// negative max_restarts, backoff min above max, random_factor outside [0, 1],
// unknown enum values, and channel shapes the kernel would refuse (a replay
// buffer on a lossy channel, a lossless type on a lossy channel).
//
// # Errors
//
// Parse returns the first problem as an *Error naming file:line and the
// field's path, wrapping a sentinel (ErrSyntax, ErrUnknownField, ErrMissing,
// ErrInvalid, ErrDuplicate, ErrUndefined, ErrUnknownModule), e.g.
//
//	pipeline.yaml:14: supervisor.children[2].strategy: unknown strategy "one-for-some" (want one_for_one, one_for_all, rest_for_one)
//
// No input makes Parse panic (FuzzParse).
//
// # Modules
//
// Module factories are registered by name with Register, as database/sql
// drivers are, normally from an init function; Parse checks module names
// against the registry. Tree.Modules calls the factories in start order —
// depth first over the tree — names each module after its config entry, and
// merges the config's channel references into its declarations.
//
// # Concurrency
//
// Register, Registered, Parse and Load are safe for concurrent use; the
// registry is guarded by a mutex. A Tree is not modified after Parse returns
// and may be read concurrently. The package starts no goroutines.
package config
