package actors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	"github.com/gmkernel/gmk/actors/chans"
	"github.com/gmkernel/gmk/actors/config"
	"github.com/gmkernel/gmk/actors/supervise"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// Node is a GMK kernel booted from a supervision tree: one actor per module
// and per supervisor, inside a protoactor ActorSystem ([X1], [X2], [X4]).
type Node struct {
	sys       *actor.ActorSystem
	ownSys    bool
	k         *kernel.Kernel
	cfg       kernel.BootConfig // with defaults
	backoff   *kernel.Backoff
	log       *zap.Logger
	tree      *config.Tree
	top       *entry            // the node's own root, above the config's root supervisor
	entries   map[string]*entry // modules and supervisors by name
	modules   map[string]*entry // modules by name (read-only after Boot)
	extra     []kernel.Module   // booted without an actor (WithModules)
	chans     *chans.Channels   // channel actors (WithChannelActors), or nil
	startWait time.Duration
}

// Option configures Boot.
type Option func(*options)

type options struct {
	strategies map[string]actor.SupervisorStrategy
	log        *zap.Logger
	extra      []kernel.Module
	kernel     func(*kernel.BootConfig)
	chans      *chans.Config
}

// WithChannelActors gives every channel of the kernel a PID ([X3], package
// chans): actors emit onto channels by Send and subscribe to them. The
// relay module is booted with the node; Channels returns the actors.
func WithChannelActors(c chans.Config) Option { return func(o *options) { o.chans = &c } }

// WithStrategy makes the named supervisor use s — any protoactor
// SupervisorStrategy, such as actor.NewOneForOneStrategy or
// actor.NewExponentialBackoffStrategy — instead of the GMK strategy its
// config describes.
func WithStrategy(supervisor string, s actor.SupervisorStrategy) Option {
	return func(o *options) { o.strategies[supervisor] = s }
}

// WithLogger logs the node, the kernel and (when Boot creates the actor
// system) protoactor through l. The default logs nothing.
func WithLogger(l *zap.Logger) Option { return func(o *options) { o.log = l } }

// WithModules boots extra modules that have no actor (a relay, say); the
// node runs their Init after Boot and their Fini at Halt.
func WithModules(ms ...kernel.Module) Option {
	return func(o *options) { o.extra = append(o.extra, ms...) }
}

// WithKernel adjusts the kernel's BootConfig after the config file set it.
func WithKernel(f func(*kernel.BootConfig)) Option { return func(o *options) { o.kernel = f } }

// BootFile loads the YAML supervision tree at path and boots it (see Boot).
func BootFile(sys *actor.ActorSystem, path string, opts ...Option) (*Node, error) {
	t, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	return Boot(sys, t, opts...)
}

// Boot boots the first kernel of t with its modules and spawns t's
// supervision tree in sys (nil: a new ActorSystem whose logs go to the
// node's logger). It returns when every module actor has run its Init; a
// module whose Init fails fails Boot, and nothing is left running.
func Boot(sys *actor.ActorSystem, t *config.Tree, opts ...Option) (*Node, error) {
	o := options{strategies: map[string]actor.SupervisorStrategy{}, log: zap.NewNop()}
	for _, opt := range opts {
		opt(&o)
	}
	mods, err := t.Modules()
	if err != nil {
		return nil, err
	}
	n := &Node{sys: sys, log: o.log, tree: t, entries: map[string]*entry{}, modules: map[string]*entry{},
		extra: o.extra, startWait: defaultStartWait}
	n.top = &entry{name: "gmk-" + t.Kernels[0].ID, strategy: stopAtTop}
	if err := n.build(n.top, t.Root, supervise.Permanent, o.strategies); err != nil {
		return nil, err
	}
	for name := range o.strategies {
		if e := n.entries[name]; e == nil || e.module {
			return nil, fmt.Errorf("%w: WithStrategy: no supervisor %q", kernel.ErrConfig, name)
		}
	}
	if o.chans != nil {
		o.extra = append(o.extra, chans.Module())
	}
	cfg := t.BootConfig()
	if o.kernel != nil {
		o.kernel(&cfg)
	}
	cfg.ExternalLifecycle, cfg.Supervisor, cfg.Logger = true, n, o.log
	n.cfg = cfg.WithDefaults()
	n.backoff = &kernel.Backoff{Policy: n.cfg.Retry, Limits: func(typ uint32) int { return n.k.RetryLimit(typ) }}
	if n.k, err = kernel.Boot(cfg, append(mods, o.extra...)...); err != nil {
		return nil, err
	}
	for _, m := range o.extra {
		if err := n.k.InitModule(m.Name); err != nil {
			return nil, n.abort(err)
		}
	}
	if n.sys == nil {
		n.sys, n.ownSys = newSystem(o.log), true
	}
	if err := n.start(); err != nil {
		return nil, n.abort(err)
	}
	if o.chans != nil {
		if n.chans, err = chans.Start(n.sys, n.k, *o.chans); err != nil {
			return nil, n.abort(err)
		}
	}
	return n, nil
}

// build creates the entries of supervisor s (and its subtree) under parent.
func (n *Node) build(parent *entry, s *config.Supervisor, r supervise.Restart,
	strategies map[string]actor.SupervisorStrategy) error {
	e := &entry{name: s.Name, parent: parent, restart: r}
	if st, ok := strategies[s.Name]; ok {
		e.strategy = st
	} else {
		g, err := supervise.NewStrategy(strategyConfig(s))
		if err != nil {
			return fmt.Errorf("%w: %s: supervisor %s: %w", kernel.ErrConfig, s.Pos, s.Name, err)
		}
		e.strategy, e.gmk = g, g
	}
	n.add(parent, e)
	for _, c := range s.Children {
		cr := supervise.Restart(c.Restart) // same order: permanent, transient, temporary
		if c.Module != nil {
			m := &entry{name: c.Module.Name, module: true, parent: e, restart: cr}
			n.add(e, m)
			n.modules[m.name] = m
			continue
		}
		if err := n.build(e, c.Supervisor, cr, strategies); err != nil {
			return err
		}
	}
	return nil
}

func (n *Node) add(parent, e *entry) {
	parent.children = append(parent.children, e)
	n.entries[e.name] = e
}

func strategyConfig(s *config.Supervisor) supervise.Config {
	c := supervise.Config{Flags: supervise.Flags{Strategy: supervise.Kind(s.Strategy),
		Intensity: s.MaxRestarts, Period: s.Within}, Decider: DefaultDecider}
	if b := s.Backoff; b.Max > 0 {
		c.Backoff = &supervise.Backoff{Min: b.Min, Max: b.Max, Factor: b.RandomFactor, Reset: b.ResetAfter}
	}
	return c
}

// DefaultDecider is the directive of the config's GMK strategies: a panic or
// a handler over its yield limit is a crash, and the module restarts; a FAIL
// code is the task's own failure, and the task is retried (Resume) until its
// retry limit, then reported to sys.error with its code. Other reasons
// restart, as protoactor's default decider does.
func DefaultDecider(reason any) actor.Directive {
	if f, ok := reason.(*Failure); ok && f.Status != task.Panicked && f.Status != task.YieldLimit {
		return actor.ResumeDirective
	}
	return actor.RestartDirective
}

// WriteTree writes the live supervision tree: each supervisor and module
// with its actor's PID, or "stopped".
func (n *Node) WriteTree(w io.Writer) {
	var walk func(e *entry, depth int)
	walk = func(e *entry, depth int) {
		kind, state := "supervisor", "stopped"
		if e.module {
			kind = "module"
		}
		if p := e.PID(); p != nil && e.isAlive() {
			state = p.Id
		}
		fmt.Fprintf(w, "%*s%s %s: %s\n", 2*depth, "", kind, e.name, state)
		for _, c := range e.children {
			walk(c, depth+1)
		}
	}
	for _, c := range n.top.children {
		walk(c, 0)
	}
}

// start spawns the tree and waits for every module's first start.
func (n *Node) start() error {
	ups := make(map[*entry]<-chan struct{}, len(n.modules))
	for _, e := range n.modules {
		ups[e] = e.nextStart()
	}
	if _, err := n.sys.Root.SpawnNamed(n.props(n.top), n.top.name); err != nil {
		return err
	}
	deadline := time.After(n.startWait)
	for e, up := range ups {
		select {
		case <-up:
		case <-deadline:
			return fmt.Errorf("gmk: module %s did not start within %v", e.name, n.startWait)
		}
		e.mu.Lock()
		err := e.bootErr
		e.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// abort undoes a failed Boot.
func (n *Node) abort(err error) error {
	n.stopTree()
	_ = n.k.Halt(context.Background())
	if n.ownSys {
		n.sys.Shutdown()
	}
	return err
}

// Kernel returns the node's kernel.
func (n *Node) Kernel() *kernel.Kernel { return n.k }

// Channels returns the channel actors (nil without WithChannelActors).
func (n *Node) Channels() *chans.Channels { return n.chans }

// System returns the ActorSystem the tree lives in.
func (n *Node) System() *actor.ActorSystem { return n.sys }

// Tree returns the configuration the node was booted from.
func (n *Node) Tree() *config.Tree { return n.tree }

// PID returns the actor of the named module or supervisor, nil when it is
// not running.
func (n *Node) PID(name string) *actor.PID {
	if e := n.entries[name]; e != nil && e.isAlive() {
		return e.PID()
	}
	return nil
}

// entryOf finds the entry whose current actor is p.
func (n *Node) entryOf(p *actor.PID) *entry {
	for _, e := range n.entries {
		if q := e.PID(); q != nil && q.Equal(p) {
			return e
		}
	}
	return nil
}

// Running reports whether the named module or supervisor actor runs.
func (n *Node) Running(name string) bool {
	e := n.entries[name]
	return e != nil && e.isAlive()
}

// ErrUnknown reports a name that is neither a module nor a supervisor.
var ErrUnknown = errors.New("gmk: no such module or supervisor")

// Reset brings a stopped module or supervisor back (`gmk mod reset`): its
// highest stopped ancestor is spawned again by its running parent — which
// restarts that whole subtree — and Reset returns when the named actor has
// started and its types are no longer poisoned. A running module only has
// its poison cleared.
func (n *Node) Reset(ctx context.Context, name string) error {
	e := n.entries[name]
	if e == nil {
		return fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	if e.isAlive() {
		if e.module {
			return n.k.ResetModule(name)
		}
		return nil
	}
	up := e.nextStart()
	dead := e
	for dead.parent != nil && dead.parent != n.top && !dead.parent.isAlive() {
		dead = dead.parent
	}
	p := dead.parent.PID()
	if p == nil || !dead.parent.isAlive() {
		return fmt.Errorf("gmk: reset %s: the node's tree is stopped", name)
	}
	n.sys.Root.Send(p, &respawn{child: dead})
	select {
	case <-up:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("gmk: reset %s: %w", name, ctx.Err())
	}
}

// Halt stops the channel actors, halts the kernel (see kernel.Halt: it drains, and failures waiting
// for a directive are still decided while the actors run), then stops the
// tree — each supervisor stops its children in reverse start order, each
// module actor runs Fini — and the actor system when Boot created it.
func (n *Node) Halt(ctx context.Context) error {
	if n.chans != nil {
		n.chans.Stop()
	}
	err := n.k.Halt(ctx)
	n.stopTree()
	for i := len(n.extra) - 1; i >= 0; i-- {
		if e := n.k.FiniModule(n.extra[i].Name); e != nil {
			n.log.Warn("module fini failed", zap.String("module", n.extra[i].Name), zap.Error(e))
		}
	}
	if n.ownSys {
		n.sys.Shutdown()
	}
	return err
}

func (n *Node) stopTree() {
	if p := n.top.PID(); p != nil && n.top.isAlive() {
		_ = n.sys.Root.StopFuture(p).Wait()
	}
}

// newSystem returns an ActorSystem whose slog output goes to l.
func newSystem(l *zap.Logger) *actor.ActorSystem {
	h := zapslog.NewHandler(l.Core(), zapslog.WithName("protoactor"))
	return actor.NewActorSystemWithConfig(actor.Configure(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(h) })))
}
