package config

import (
	"fmt"
	"time"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/sched"
	"github.com/gmkernel/gmk/kernel/trace"
)

// Pos is where a node of the tree was declared: file name and 1-based line
// and column. Errors and the runtime's reports use it to point back at the
// config.
type Pos struct {
	File      string
	Line, Col int
}

// String returns "file:line".
func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Tree is a parsed and validated configuration. Its fields are plain values the
// caller may read; they are not modified after Parse returns, and a Tree is
// safe for concurrent reads.
type Tree struct {
	File     string
	Kernels  []Kernel     // at least one; the first is the CPU kernel BootConfig returns
	Types    []Type       // in file order
	Channels []Channel    // in file order
	Specs    []ModuleSpec // the modules section, in file order
	Root     *Supervisor  // the supervision tree
}

// Kernel is a kernel's section: the subset of kernel.BootConfig the config
// sets. Zero fields mean the kernel's defaults.
type Kernel struct {
	Pos
	ID         string
	Role       string // kernel.RolePeripheral or kernel.RoleCompute
	Workers    int
	Tenants    int
	ArenaSize  int // bytes
	MaxTypes   int
	Policy     sched.Policy
	TraceLevel trace.Level // 0 = kernel default (WARN); OFF cannot be set
	Poison     kernel.PoisonPolicy
}

// Type declares a task type's policies (kernel.TypeInfo).
type Type struct {
	Pos
	ID            uint32
	Name          string
	MaxYields     int
	RetryLimit    int
	Lossless      bool
	Deterministic bool
}

// Channel declares a channel: the shape every module's declaration of it gets.
type Channel struct {
	Pos
	Name      string
	Type      uint32
	Mode      channel.Mode
	Guarantee channel.Guarantee
	Slots     int // 0 = kernel default
	Replay    int
}

// ModuleSpec is an entry of the modules section: an instance of a registered
// module (Driver) under a unique Name, with its constructor's parameters and
// the channels the config attaches to it.
type ModuleSpec struct {
	Pos
	Name     string
	Driver   string // the registered name; defaults to Name
	Params   Params
	Channels []ChanRef
}

// ChanRef attaches a declared channel (or sys.error / sys.dropped) to a module.
// It becomes a kernel.ChanDecl of the module, with the channel's shape.
type ChanRef struct {
	Pos
	Channel string
	Dir     kernel.Dir
	Type    uint32 // the channel's type, or the handler type for an untyped channel
	Pin     bool   // worker was given
	Worker  int    // home worker of a consume reference
	OnError bool
}

// Strategy is a supervisor's restart strategy (Erlang/OTP).
type Strategy uint8

// Strategies: restart the failed child only; all children; the failed child
// and the children started after it.
const (
	OneForOne Strategy = iota
	OneForAll
	RestForOne
)

var strategyNames = []string{OneForOne: "one_for_one", OneForAll: "one_for_all", RestForOne: "rest_for_one"}

func (s Strategy) String() string { return enumString(strategyNames, int(s)) }

// Restart is a child's restart type (Erlang/OTP).
type Restart uint8

// Restart types: always restarted; restarted only after an abnormal exit;
// never restarted.
const (
	Permanent Restart = iota
	Transient
	Temporary
)

var restartNames = []string{Permanent: "permanent", Transient: "transient", Temporary: "temporary"}

func (r Restart) String() string { return enumString(restartNames, int(r)) }

func enumString(names []string, i int) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("%%!(%d)", i)
}

// Backoff is a supervisor's restart delay (Akka's backoff supervisor): the
// n-th restart in a row waits min(Max, Min·2ⁿ), varied by ±RandomFactor and
// kept within [Min, Max]; the count resets after ResetAfter without failure.
// ResetAfter defaults to Min. The zero value means restart at once.
type Backoff struct {
	Min, Max     time.Duration
	RandomFactor float64
	ResetAfter   time.Duration
}

// Supervisor is a node of the supervision tree. More than MaxRestarts restarts
// within Within terminate its children and escalate to its parent.
type Supervisor struct {
	Pos
	Name        string
	Strategy    Strategy
	MaxRestarts int
	Within      time.Duration
	Backoff     Backoff
	Children    []Child // in start order
}

// Child is a supervisor's child: exactly one of Module and Supervisor is set.
type Child struct {
	Pos
	Restart    Restart
	Module     *ModuleSpec
	Supervisor *Supervisor
}

// Name returns the child's module or supervisor name.
func (c Child) Name() string {
	if c.Module != nil {
		return c.Module.Name
	}
	return c.Supervisor.Name
}

// Defaults of the supervision fields (Erlang/OTP's intensity default is 1 in
// 5 s; GMK allows a little more, since a restart is cheap).
const (
	DefaultMaxRestarts = 3
	DefaultWithin      = 5 * time.Second
)
