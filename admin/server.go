package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gmkernel/gmk/actors"
	"github.com/gmkernel/gmk/actors/cluster/clusterview"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/modules/cli"
	"github.com/gmkernel/gmk/modules/kv"
	"github.com/gmkernel/gmk/types"
)

// Kernel is one kernel the server serves, with what the node knows around it.
type Kernel struct {
	K     *kernel.Kernel
	Node  *actors.Node         // the supervision tree it was booted from, or nil
	CLI   *cli.CLI             // its cli module (gmk log --errors), or nil
	Store map[string]*kv.Store // its running kv modules' stores by module name
}

// Config configures a Server. Zero fields take their defaults.
type Config struct {
	Addr    string          // listen address; default "127.0.0.1:0" (a free port)
	Kernels []Kernel        // at least one
	Types   *types.Registry // type names and payload schemas; default types.Default
	Logs    *LogRing        // the node's log (nil: the logs stream is empty)
	Version string          // reported by NodeInfo
	Cluster ClusterMember   // the node's cluster member ([X5]), or nil

	Sample      time.Duration // rate and stall sampling interval; default 500 ms
	Drain       time.Duration // trace drain interval; default 100 ms
	TraceBuffer int           // trace records kept for streams and export; default 65536
}

// ClusterMember is a node's membership of a protoactor cluster ([X5]);
// *actors/cluster.Member satisfies it. Placement must be safe for
// concurrent use and cheap enough to call per request and per sample.
type ClusterMember interface {
	Placement() clusterview.Placement
}

// ErrConfig reports an unusable Config.
var ErrConfig = errors.New("admin: bad config")

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.Types == nil {
		c.Types = types.Default
	}
	if c.Sample <= 0 {
		c.Sample = 500 * time.Millisecond
	}
	if c.Drain <= 0 {
		c.Drain = 100 * time.Millisecond
	}
	if c.TraceBuffer <= 0 {
		c.TraceBuffer = 1 << 16
	}
	return c
}

func (c Config) validate() error {
	if len(c.Kernels) == 0 {
		return fmt.Errorf("%w: no kernel", ErrConfig)
	}
	seen := map[string]bool{}
	for _, k := range c.Kernels {
		if k.K == nil {
			return fmt.Errorf("%w: a Kernel without K", ErrConfig)
		}
		if seen[k.K.ID()] {
			return fmt.Errorf("%w: kernel %s given twice", ErrConfig, k.K.ID())
		}
		seen[k.K.ID()] = true
	}
	return nil
}

// Server is a running admin endpoint. Its goroutines — the HTTP server and
// one loop that drains the kernels' trace rings and samples their counters
// — end in Close.
type Server struct {
	cfg     Config
	started time.Time
	ln      net.Listener
	http    *http.Server
	prom    *prometheus.Registry
	traces  *feed[traceItem]
	samples sampler

	drainMu  sync.Mutex // one DrainTrace at a time ([O2]): the loop and export
	done     chan struct{}
	loopDone chan struct{}
	serveErr chan error
	haltOnce sync.Once
	halt     chan struct{}
	closing  sync.Once
}

// Start listens on cfg.Addr and serves the API until Close.
func Start(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("admin: listen %s: %w", cfg.Addr, err)
	}
	s := &Server{cfg: cfg, started: time.Now(), ln: ln, traces: newFeed[traceItem](cfg.TraceBuffer),
		done: make(chan struct{}), loopDone: make(chan struct{}), serveErr: make(chan error, 1), halt: make(chan struct{})}
	s.prom = prometheus.NewRegistry()
	s.prom.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		kernelCollectors(cfg.Kernels))
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	s.samples.take(cfg.Kernels, cfg.Cluster, time.Now())
	go s.loop()
	go func() { s.serveErr <- s.http.Serve(ln) }()
	return s, nil
}

// Addr returns the address the server listens on (host:port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// HaltRequested is closed when a client asked the node to halt (POST
// /api/v1/halt). Halting is the owner's job: it halts the kernels, then
// calls Close.
func (s *Server) HaltRequested() <-chan struct{} { return s.halt }

// RequestHalt closes HaltRequested (what the halt endpoint does).
func (s *Server) RequestHalt() { s.haltOnce.Do(func() { close(s.halt) }) }

// Close ends the streams, stops the loop and shuts the HTTP server down,
// waiting for its handlers (until ctx ends). It returns when every
// goroutine of the server has ended; calling it again does nothing.
func (s *Server) Close(ctx context.Context) error {
	var err error
	s.closing.Do(func() {
		close(s.done) // streams return; the loop stops
		<-s.loopDone
		err = s.http.Shutdown(ctx)
		if e := <-s.serveErr; !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
	})
	return err
}

// loop drains the trace rings every Drain and samples the counters every
// Sample, until Close.
func (s *Server) loop() {
	defer close(s.loopDone)
	drain := time.NewTicker(s.cfg.Drain)
	defer drain.Stop()
	sample := time.NewTicker(s.cfg.Sample)
	defer sample.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-drain.C:
			s.drainTraces()
		case now := <-sample.C:
			s.samples.take(s.cfg.Kernels, s.cfg.Cluster, now)
		}
	}
}

// kernelByID returns the kernel with id ("" = the first).
func (s *Server) kernelByID(id string) (*Kernel, error) {
	if id == "" {
		return &s.cfg.Kernels[0], nil
	}
	for i := range s.cfg.Kernels {
		if s.cfg.Kernels[i].K.ID() == id {
			return &s.cfg.Kernels[i], nil
		}
	}
	return nil, &apiError{http.StatusNotFound, fmt.Sprintf("no kernel %q", id)}
}

// kernelsFor returns the kernels a request's kernel parameter selects.
func (s *Server) kernelsFor(r *http.Request) ([]Kernel, error) {
	id := r.URL.Query().Get("kernel")
	if id == "" {
		return s.cfg.Kernels, nil
	}
	k, err := s.kernelByID(id)
	if err != nil {
		return nil, err
	}
	return []Kernel{*k}, nil
}

// nodeInfo describes the node.
func (s *Server) nodeInfo() NodeInfo {
	ni := NodeInfo{Version: s.cfg.Version, PID: os.Getpid(), Started: s.started.UTC().Truncate(time.Millisecond)}
	for _, k := range s.cfg.Kernels {
		ni.Kernels = append(ni.Kernels, kernelInfo(k, s.started))
	}
	if s.cfg.Cluster != nil {
		ni.Member = s.cfg.Cluster.Placement().Self
	}
	return ni
}

func kernelInfo(k Kernel, started time.Time) KernelInfo {
	cfg := k.K.Config()
	_, halted := k.K.Halted()
	return KernelInfo{ID: k.K.ID(), Role: k.K.Role(), Workers: cfg.Workers, Tenants: cfg.Tenants,
		Policy: cfg.Policy.String(), Uptime: time.Since(started).Seconds(), Tick: k.K.Tick(), TickNS: int64(cfg.Tick),
		Modules: len(k.K.Modules()), Channels: len(k.K.Channels()), Halted: halted, Actors: k.Node != nil}
}

// multiCollector collects every kernel's metrics as one unchecked
// collector: the kernels' collectors describe the same metric families
// (told apart by the kernel label), which a registry refuses to register
// twice.
type multiCollector []prometheus.Collector

func kernelCollectors(ks []Kernel) prometheus.Collector {
	m := make(multiCollector, len(ks))
	for i, k := range ks {
		m[i] = k.K.Collector()
	}
	return m
}

func (m multiCollector) Describe(chan<- *prometheus.Desc) {} // unchecked

func (m multiCollector) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m {
		c.Collect(ch)
	}
}
