// Command gmk-gpud is the GPU daemon (DESIGN.md decision 7): it hosts a GPU
// kernel backend in its own process — the simulated one (--backend sim), or
// the CUDA one in a build with -tags cuda — maps the bridge rings from the
// shared memory its host passes it, and exposes the GPU kernel as a
// protoactor remote actor on 127.0.0.1 for control: boot, halt, heartbeats,
// telemetry. A reset is the host killing it (SIGKILL) and starting another.
//
// It is started by its host (gpu/daemon.Backend), not by hand: file
// descriptor 3 is the status page (acknowledgement cells), 4 and up the
// bridge regions (memfds); it prints
//
//	gmk-gpud ready 127.0.0.1:PORT
//
// once its actor (gpu/daemon.ActorName) listens, and exits when the host
// asks it to, or when its standard input ends (the host is gone).
//
//	gmk-gpud [--backend sim|cuda] [--host 127.0.0.1] [--port 0]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/gmkernel/gmk/gpu/daemon"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gmk-gpud:", err)
		os.Exit(1)
	}
}

// run parses args and serves until the host lets go.
func run(args []string, in io.Reader, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("gmk-gpud", flag.ContinueOnError)
	fs.SetOutput(errOut)
	backend := fs.String("backend", "sim", "GPU kernel backend: sim, or cuda (a build with -tags cuda)")
	host := fs.String("host", "127.0.0.1", "control address")
	port := fs.Int("port", 0, "control port (0: any free one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	nb, err := backendFor(*backend)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return daemon.Serve(ctx, daemon.ServeConfig{Backend: *backend, NewBackend: nb, Host: *host, Port: *port, Out: out, In: in})
}
