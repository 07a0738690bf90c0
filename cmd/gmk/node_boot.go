package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gmkernel/gmk/actors"
	"github.com/gmkernel/gmk/actors/config"
	"github.com/gmkernel/gmk/admin"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/modules/cli"
	"github.com/gmkernel/gmk/modules/echo"
	"github.com/gmkernel/gmk/modules/gate"
	"github.com/gmkernel/gmk/modules/kv"
	modlog "github.com/gmkernel/gmk/modules/log"
	"github.com/gmkernel/gmk/modules/reduce"
	"github.com/gmkernel/gmk/modules/stats"
	"github.com/gmkernel/gmk/modules/timer"
	"github.com/gmkernel/gmk/types"
)

// DefaultNode is the admin address a node serves and the commands use when
// neither a flag nor the environment names one.
const DefaultNode = "127.0.0.1:7878"

func init() { nodeCommands = append(nodeCommands, newBootCmd) }

type bootFlags struct {
	admin    string
	addrFile string
	logLevel string
	workers  int
	haltWait time.Duration
}

func newBootCmd() *cobra.Command {
	f := &bootFlags{}
	cmd := &cobra.Command{
		Use:   "boot [config.yaml]",
		Short: "Boot a node in the foreground and serve its admin endpoint",
		Long: `Boot boots a GMK node: the supervision tree of config.yaml (see
examples/configs), or with no config a default node — one CPU kernel with the
standard modules echo, kv, log, timer, gate, reduce, stats and cli. It serves
the admin endpoint on --admin (env GMK_ADMIN, default ` + DefaultNode + `), writes its
address where the other commands look for it, prints a boot summary, and runs
until gmk halt, SIGINT or SIGTERM; then it halts, accounting for every task.`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd, args)
		},
	}
	cmd.Flags().StringVar(&f.admin, "admin", envOr("GMK_ADMIN", DefaultNode), "admin endpoint address (port 0: a free port)")
	cmd.Flags().StringVar(&f.addrFile, "addr-file", defaultAddrFile(), "file the admin address is written to (\"\": none)")
	cmd.Flags().StringVar(&f.logLevel, "log-level", "info", "lowest level logged to stderr: debug, info, warn, error")
	cmd.Flags().IntVar(&f.workers, "workers", 0, "workers of the default node's kernel (0: GOMAXPROCS)")
	cmd.Flags().DurationVar(&f.haltWait, "halt-timeout", 5*time.Second, "how long halting waits for queued work to drain (what is left is counted as queued)")
	return cmd
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// defaultAddrFile is where a booted node records its admin address:
// $GMK_STATE_DIR/node.addr, else the user's cache directory's gmk/node.addr.
func defaultAddrFile() string {
	dir := os.Getenv("GMK_STATE_DIR")
	if dir == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(c, "gmk")
	}
	return filepath.Join(dir, "node.addr")
}

func (f *bootFlags) run(cmd *cobra.Command, args []string) error {
	var lv zapcore.Level
	if err := lv.Set(f.logLevel); err != nil {
		return fmt.Errorf("%w: --log-level: %w", errUsage, err)
	}
	cfgPath := ""
	if len(args) == 1 {
		cfgPath = args[0]
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := cmd.OutOrStdout()
	n, err := bootNode(nodeOptions{config: cfgPath, admin: f.admin, workers: f.workers,
		log: zapcore.AddSync(cmd.ErrOrStderr()), level: lv})
	if err != nil {
		return err
	}
	n.summary(out)
	if f.addrFile != "" {
		if err := writeAddrFile(f.addrFile, n.srv.Addr()); err != nil {
			n.log.Warn("cannot record the admin address", zap.Error(err))
		} else {
			defer removeAddrFile(f.addrFile, n.srv.Addr())
		}
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "gmk: signal: halting")
	case <-n.srv.HaltRequested():
		fmt.Fprintln(out, "gmk: halt requested: halting")
	}
	return n.halt(out, f.haltWait)
}

func writeAddrFile(path, addr string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(addr+"\n"), 0o644)
}

// removeAddrFile removes the address file if it still names addr (a later
// node may have replaced it).
func removeAddrFile(path, addr string) {
	if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == addr {
		_ = os.Remove(path)
	}
}

// nodeOptions configure bootNode.
type nodeOptions struct {
	config  string // supervision-tree YAML; "" = the default node
	admin   string // admin listen address
	workers int    // default node: workers (0 = GOMAXPROCS)
	log     zapcore.WriteSyncer
	level   zapcore.Level
	extra   []kernel.Module // default node: modules booted besides the standard ones (tests)
	types   *types.Registry // default: types.Default
}

// node is a booted node: its kernel, its supervision tree (config boots),
// its admin endpoint and its logger.
type node struct {
	k       *kernel.Kernel
	tree    *actors.Node
	srv     *admin.Server
	log     *zap.Logger
	started time.Time
	bootDur time.Duration
	from    string
}

// bootNode boots a node and starts its admin endpoint (gmk boot, and the
// tests through it).
func bootNode(o nodeOptions) (*node, error) {
	if o.types == nil {
		o.types = types.Default
	}
	ring := admin.NewLogRing(4096, zapcore.DebugLevel)
	enc := zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
	log := ring.Tee(zap.New(zapcore.NewCore(enc, o.log, o.level)))
	n := &node{log: log, started: time.Now(), from: "default node"}
	target, err := n.bootKernel(o)
	if err != nil {
		return nil, err
	}
	n.bootDur = time.Since(n.started)
	n.srv, err = admin.Start(admin.Config{Addr: o.admin, Kernels: []admin.Kernel{target}, Types: o.types,
		Logs: ring, Version: version()})
	if err != nil {
		_ = n.haltKernel(5 * time.Second)
		return nil, err
	}
	log.Info("admin endpoint up", zap.String("addr", n.srv.Addr()))
	return n, nil
}

// bootKernel boots the config's tree, or the default node.
func (n *node) bootKernel(o nodeOptions) (admin.Kernel, error) {
	if o.config == "" {
		return n.bootDefault(o)
	}
	n.from = o.config
	h := booting.begin(n.log)
	defer booting.end()
	t, err := config.Load(o.config)
	if err != nil {
		return admin.Kernel{}, err
	}
	opts := []actors.Option{actors.WithLogger(n.log), actors.WithKernel(func(c *kernel.BootConfig) {
		c.Types = withRegistryTypes(c.Types, o.types, c.WithDefaults().MaxTypes)
	})}
	if !slices.ContainsFunc(t.Specs, func(s config.ModuleSpec) bool { return s.Driver == "cli" }) {
		rec, err := cli.New(cli.Config{}) // every node records its failures
		if err != nil {
			return admin.Kernel{}, err
		}
		h.setCLI(rec)
		opts = append(opts, actors.WithModules(rec.Module()))
	}
	tree, err := actors.Boot(nil, t, opts...)
	if err != nil {
		return admin.Kernel{}, err
	}
	n.tree, n.k = tree, tree.Kernel()
	stores, rec := h.get()
	return admin.Kernel{K: n.k, Node: tree, CLI: rec, Store: stores}, nil
}

// withRegistryTypes adds the registry's policies and names for the ids the
// config's own types do not use.
func withRegistryTypes(ts []kernel.TypeInfo, r *types.Registry, maxTypes int) []kernel.TypeInfo {
	used := map[uint32]bool{}
	for _, t := range ts {
		used[t.ID] = true
	}
	for _, t := range r.TypeInfos(maxTypes) {
		if !used[t.ID] {
			ts = append(ts, t)
		}
	}
	return ts
}

// bootDefault boots one CPU kernel with the standard modules; the cli
// module taps their outputs (echo.out, timer.fire, gate.open, reduce.out),
// so what they send shows in gmk log --tasks and nothing waits for a
// consumer.
func (n *node) bootDefault(o nodeOptions) (admin.Kernel, error) {
	store, err := kv.New(kv.Config{})
	if err != nil {
		return admin.Kernel{}, err
	}
	rec, err := cli.New(cli.Config{Taps: []cli.Tap{
		{Channel: "echo.out", Type: echo.DefaultOutType, Guarantee: kernel.Lossless},
		{Channel: "timer.fire", Type: timer.DefaultTickType, Guarantee: kernel.Lossless},
		{Channel: "gate.open", Type: gate.DefaultOpenType, Mode: kernel.FanOut, Guarantee: kernel.Lossless},
		{Channel: "reduce.out", Type: reduce.DefaultOutType, Guarantee: kernel.Lossless},
	}})
	if err != nil {
		return admin.Kernel{}, err
	}
	mods := []kernel.Module{echo.Module(echo.Config{}), store.Module(), rec.Module(),
		modlog.Module(modlog.Config{Logger: n.log}), timer.Module(timer.Config{}), gate.Module(gate.Config{}),
		reduce.Module(reduce.Config{}), stats.Module(stats.Config{})}
	mods = append(mods, o.extra...)
	cfg := o.types.Enforce(kernel.BootConfig{ID: "cpu.0", Workers: o.workers, Logger: n.log})
	if n.k, err = kernel.Boot(cfg, mods...); err != nil {
		return admin.Kernel{}, err
	}
	return admin.Kernel{K: n.k, CLI: rec, Store: map[string]*kv.Store{"kv": store.Store()}}, nil
}

// summary prints the boot summary of [K1]: kernels, workers, modules,
// channels, and the admin address.
func (n *node) summary(w io.Writer) {
	cfg := n.k.Config()
	fmt.Fprintf(w, "gmk: node booted from %s in %s\n", n.from, n.bootDur.Round(time.Millisecond))
	tw := table(w)
	fmt.Fprintln(tw, "KERNEL\tROLE\tWORKERS\tPOLICY\tMODULES")
	var mods []string
	for _, m := range n.k.Modules() {
		mods = append(mods, m.Name)
	}
	fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", n.k.ID(), n.k.Role(), cfg.Workers, cfg.Policy, strings.Join(mods, ", "))
	_ = tw.Flush()
	var chans []string
	for _, c := range n.k.Channels() {
		chans = append(chans, c.Spec.Name)
	}
	fmt.Fprintf(w, "channels: %s\n", strings.Join(chans, ", "))
	fmt.Fprintf(w, "bridge channels: none\n")
	fmt.Fprintf(w, "admin: http://%s (export GMK_NODE=%s)\n", n.srv.Addr(), n.srv.Addr())
}

// halt halts the node — the tree or the kernel, then the admin endpoint —
// and prints the accounting of [C9].
//
// Work still queued when wait runs out is counted as queued ([C9]), not an
// error: the node halted with every task accounted for.
func (n *node) halt(w io.Writer, wait time.Duration) error {
	err := n.haltKernel(wait)
	r, halted := n.k.Halted()
	if halted && errors.Is(err, context.DeadlineExceeded) {
		n.log.Warn("halt: tasks left queued", zap.Uint64("queued", r.Queued))
		err = nil
	}
	if cerr := n.srv.Close(context.Background()); err == nil {
		err = cerr
	}
	s := r.Stats
	fmt.Fprintf(w, "gmk: halted: created %d = completed %d + errored %d + dropped %d + queued %d\n",
		s.Created(), s.Completed, s.Errored, s.Dropped, r.Queued)
	_ = n.log.Sync()
	return err
}

func (n *node) haltKernel(wait time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if n.tree != nil {
		return n.tree.Halt(ctx)
	}
	return n.k.Halt(ctx)
}
