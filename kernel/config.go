package kernel

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"go.uber.org/zap"

	"github.com/gmkernel/gmk/kernel/alloc"
	"github.com/gmkernel/gmk/kernel/sched"
	"github.com/gmkernel/gmk/kernel/trace"
)

// BootConfig configures a kernel. The zero value of every field means its
// default (the Defaults table of GMK.md).
type BootConfig struct {
	ID      string // kernel identity ([K3]); default "cpu.0" ("cpu.0@member" in a cluster)
	Role    string // [K3]: "peripheral" (the CPU kernel, default) or "compute" (GPU kernels)
	Workers int    // worker goroutines; default GOMAXPROCS
	Tenants int    // partitions of the arena and the metrics; default 1

	ArenaSize int          // bytes; default 64 MiB
	Arena     alloc.Config // carve percentages; Size and Tenants come from the fields above

	Policy      sched.Policy // shared ready queue: RQ (default) or the type-bucketed GRQ
	BatchSize   int          // worker batch; default 32
	SortBatch   bool         // dispatch each batch sorted by handler, the GPU worker's way ([G1], [G3]; sortbatch.go)
	LQCap       int          // local queue per worker; default 1024
	QueueCap    int          // RQ per priority / GRQ per bucket; default 65536
	OverflowCap int          // shared yield-overflow queue; default 4096
	EVQCap      int          // per-worker event queue; default 65536
	EVQDrain    int          // events fired per check; default 256
	MaxTypes    int          // task types are 0..MaxTypes-1; default 1024
	MaxChannels int          // default 256

	ParkWait time.Duration // bounded park; default 1 ms
	Spin     int           // empty polls before parking; default 64
	Tick     time.Duration // wall-clock tick; default 1 ms

	Retry     RetryPolicy
	Poison    PoisonPolicy
	MaxYields int           // default 16 ([Y3])
	Budget    time.Duration // handler time budget; default 1 ms ([Y4])

	Types []TypeInfo // per-type policies

	// CheckModules, when set, vets the module set before anything boots: a
	// type registry's policies ([U3]: types.Registry.Check, from types.toml).
	// Its error fails Boot, wrapped in ErrConfig.
	CheckModules func(mods []Module) error

	TraceLevel  trace.Level // default level of every module; default WARN
	TraceSample uint32      // at level ALL record 1 of N tasks; default 1 (all)
	Seed        uint64      // PRNG seed for sampling and jitter; default fixed

	Supervisor Supervisor // failure decisions; default the built-in policy

	// ExternalLifecycle leaves module Init and Fini to the modules' owner —
	// the actor layer's module actors ([X1]) — which calls InitModule and
	// FiniModule; Boot and Halt then call neither.
	ExternalLifecycle bool

	// Journal receives the key of every snapshotted task that ends ([F5],
	// Kernel.Snapshot); nil keeps no journal. Writes are serialised.
	Journal io.Writer
	Logger  *zap.Logger  // default: no logging
	Clock   func() int64 // monotonic ns; default time since boot (tests inject)
}

// Kernel roles ([K3]).
const (
	RolePeripheral = "peripheral" // the CPU kernel
	RoleCompute    = "compute"    // GPU kernels (and the simulated one)
)

// RetryPolicy is the built-in retry rule ([F2]).
type RetryPolicy struct {
	Max    int           // retries per task; default 8
	Min    time.Duration // first backoff; default 1 ms
	Cap    time.Duration // backoff ceiling; default 1 s
	Jitter float64       // ± fraction; default 0.2
}

// PoisonPolicy is the rate rule of [F3].
type PoisonPolicy struct {
	Failures int    // default 32
	Window   uint64 // ticks; default 1000
}

// ErrConfig reports an invalid boot configuration.
var ErrConfig = errors.New("gmk: bad boot config")

// WithDefaults returns c with every zero field set to its default.
func (c BootConfig) WithDefaults() BootConfig {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	if c.ID == "" {
		c.ID = "cpu.0"
	}
	if c.Role == "" {
		c.Role = RolePeripheral
	}
	def(&c.Workers, runtime.GOMAXPROCS(0))
	def(&c.Tenants, 1)
	def(&c.ArenaSize, 64<<20)
	def(&c.BatchSize, 32)
	def(&c.LQCap, 1024)
	def(&c.QueueCap, 65536)
	def(&c.OverflowCap, 4096)
	def(&c.EVQCap, 65536)
	def(&c.EVQDrain, 256)
	def(&c.MaxTypes, 1024)
	def(&c.MaxChannels, 256)
	def(&c.Spin, 64)
	def(&c.MaxYields, 16)
	def(&c.Retry.Max, 8)
	def(&c.Poison.Failures, 32)
	if c.ParkWait == 0 {
		c.ParkWait = time.Millisecond
	}
	if c.Tick == 0 {
		c.Tick = time.Millisecond
	}
	if c.Budget == 0 {
		c.Budget = time.Millisecond
	}
	if c.Retry.Min == 0 {
		c.Retry.Min = time.Millisecond
	}
	if c.Retry.Cap == 0 {
		c.Retry.Cap = time.Second
	}
	if c.Retry.Jitter == 0 {
		c.Retry.Jitter = 0.2
	}
	if c.Poison.Window == 0 {
		c.Poison.Window = 1000
	}
	if c.TraceLevel == 0 {
		c.TraceLevel = trace.Warn
	}
	if c.TraceSample == 0 {
		c.TraceSample = 1
	}
	if c.Seed == 0 {
		c.Seed = 0x9E3779B97F4A7C15
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	c.Arena.Size, c.Arena.Tenants = c.ArenaSize, c.Tenants
	c.Arena = c.Arena.WithDefaults()
	return c
}

// Validate reports the first problem of a configuration (after defaults).
func (c BootConfig) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch {
	case c.Role != RolePeripheral && c.Role != RoleCompute:
		return bad("role %q is neither %q nor %q", c.Role, RolePeripheral, RoleCompute)
	case c.Workers < 1 || c.Workers > 1024:
		return bad("workers %d out of range [1, 1024]", c.Workers)
	case c.Tenants < 1 || c.Tenants > 256:
		return bad("tenants %d out of range [1, 256]", c.Tenants)
	case c.BatchSize < 1 || c.BatchSize > 4096:
		return bad("batch size %d out of range [1, 4096]", c.BatchSize)
	case c.LQCap < 2*c.BatchSize:
		return bad("local queue capacity %d below twice the batch size %d", c.LQCap, c.BatchSize)
	case c.MaxTypes < 1 || c.MaxTypes > 1<<20:
		return bad("max types %d out of range [1, 1M]", c.MaxTypes)
	case c.MaxChannels < 2 || c.MaxChannels >= 1<<24:
		return bad("max channels %d out of range", c.MaxChannels)
	case c.Retry.Jitter < 0 || c.Retry.Jitter >= 1:
		return bad("retry jitter %v out of range [0, 1)", c.Retry.Jitter)
	case c.Retry.Min > c.Retry.Cap:
		return bad("retry backoff min %v above cap %v", c.Retry.Min, c.Retry.Cap)
	case c.Retry.Max > 1<<15 || c.Retry.Max < 0:
		return bad("retry max %d out of range", c.Retry.Max)
	case c.MaxYields < 1 || c.MaxYields > 1<<15:
		return bad("max yields %d out of range", c.MaxYields)
	}
	for _, t := range c.Types {
		if int(t.ID) >= c.MaxTypes {
			return bad("type %d (%s) is not below max types %d", t.ID, t.Name, c.MaxTypes)
		}
	}
	if err := c.Arena.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}
