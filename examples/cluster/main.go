// Command cluster runs one member of a GMK cluster channel across OS
// processes ([X5]): protoactor's automanaged cluster provider on 127.0.0.1
// (each member serves its health endpoint on its own port and polls the
// others'), remote between the processes, the lossless cluster channel
// orders.in from producer members to the one consumer grain, placed on a
// consumer member and re-placed on a survivor when that member dies.
//
// A consumer member records every task its handler finishes — the task's
// number and whether it came flagged as redelivered — in a file, with one
// write per task, so that what it handled survives its being killed (the
// acknowledgement that stops a re-send follows the write). It runs until
// SIGINT or SIGTERM.
//
// A producer member waits until the cluster has -members members, emits -n
// tasks numbered 0..n-1 (retrying while the channel shows CHAN_CLOSED: its
// consumer's member was lost), waits until every one is acknowledged, and
// prints one JSON line: {"emitted":…,"closed":…,"stats":{…}}.
//
//	go run ./examples/cluster -role consumer -port 7002 -health 6332 -record c1.bin \
//	    -hosts 127.0.0.1:6331,127.0.0.1:6332,127.0.0.1:6333 &
//	go run ./examples/cluster -role consumer -port 7003 -health 6333 -record c2.bin -hosts … &
//	go run ./examples/cluster -role producer -port 7001 -health 6331 -n 100000 -hosts …
//
// Every member of one cluster needs the same -hosts list and a health port
// of its own (a taken health port fails silently in protoactor).
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/gmkernel/gmk/actors/cluster"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

const (
	channelName = "orders.in"
	orderType   = 1
	// RecordSize is the size of one line of a consumer's record file: the
	// task's number (8 bytes, little-endian) and 1 when it came redelivered.
	RecordSize = 9
)

type options struct {
	role, record, hosts string
	port, health        int
	n, members          int
	timeout             time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.role, "role", "producer", "producer or consumer")
	flag.IntVar(&o.port, "port", 0, "remote port on 127.0.0.1 (0: any)")
	flag.IntVar(&o.health, "health", 6331, "automanaged health port of this member")
	flag.StringVar(&o.hosts, "hosts", "127.0.0.1:6331", "comma-separated health endpoints of every member")
	flag.IntVar(&o.n, "n", 100_000, "producer: tasks to emit")
	flag.IntVar(&o.members, "members", 3, "producer: members to wait for before emitting")
	flag.StringVar(&o.record, "record", "", "consumer: file recording every task handled")
	flag.DurationVar(&o.timeout, "timeout", time.Minute, "producer: give up after this long")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

// member is this process's kernel and cluster membership.
type member struct {
	m *cluster.Member
	k *kernel.Kernel
}

func run(ctx context.Context, out io.Writer, o options) error {
	consume := o.role == "consumer"
	if !consume && o.role != "producer" {
		return fmt.Errorf("unknown role %q", o.role)
	}
	m, err := cluster.New(cluster.Config{Channels: []cluster.Channel{{Name: channelName, Type: orderType, Consume: consume}}})
	if err != nil {
		return err
	}
	mods := []kernel.Module{m.Module()}
	if consume {
		rec, err := newRecorder(o.record, out)
		if err != nil {
			return err
		}
		defer rec.f.Close()
		mods = append(mods, m.Consumer(rec.module()))
	}
	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 8 << 20, QueueCap: 8192, EVQCap: 4096, MaxTypes: 8}, mods...)
	if err != nil {
		return err
	}
	sys := actor.NewActorSystemWithConfig(actor.Configure(actor.WithLoggerFactory(
		func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) })))
	provider := automanaged.NewWithConfig(200*time.Millisecond, o.health, strings.Split(o.hosts, ",")...)
	c, err := cluster.Join(sys, m, "gmk-example", provider, remote.Configure("127.0.0.1", o.port))
	if err != nil {
		_ = k.Halt(context.Background())
		return err
	}
	fmt.Fprintln(out, "ready", sys.Address())
	if consume {
		<-ctx.Done()
	} else {
		err = produce(ctx, out, member{m, k}, o)
	}
	lctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if e := m.Leave(lctx); e != nil && err == nil && !consume {
		err = e
	}
	c.Shutdown(false)
	if e := k.Halt(lctx); e != nil && err == nil {
		err = e
	}
	return err
}

// produce waits for the cluster, emits o.n tasks, waits until they are all
// acknowledged and prints the summary line.
func produce(ctx context.Context, out io.Writer, x member, o options) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	for x.m.Cluster().MemberList.Members().Len() < o.members {
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return fmt.Errorf("waiting for %d members: %w", o.members, err)
		}
	}
	id, err := x.m.Chan(channelName)
	if err != nil {
		return err
	}
	closed := 0
	for i := range o.n {
		for {
			err := x.k.ChanEmitWait(ctx, id, task.Task{Type: orderType, Meta0: uint64(i)})
			if err == nil {
				break
			}
			if !errors.Is(err, kernel.ErrChanClosed) {
				return fmt.Errorf("emit %d: %w", i, err)
			}
			closed++ // the consumer's member was lost: wait for the channel to reopen
			if err := sleep(ctx, 100*time.Microsecond); err != nil {
				return err
			}
		}
	}
	for x.m.Stats().Acked < uint64(o.n) {
		if err := sleep(ctx, time.Millisecond); err != nil {
			return fmt.Errorf("waiting for acknowledgements (%d of %d): %w", x.m.Stats().Acked, o.n, err)
		}
	}
	return json.NewEncoder(out).Encode(map[string]any{"emitted": o.n, "closed": closed, "stats": x.m.Stats()})
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// recorder is a consumer member's sink. Its handler runs on the delivery
// subscription's home worker, one task at a time.
type recorder struct {
	f     *os.File
	out   io.Writer
	once  sync.Once
	entry [RecordSize]byte
}

func newRecorder(path string, out io.Writer) (*recorder, error) {
	if path == "" {
		return nil, errors.New("a consumer needs -record")
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return &recorder{f: f, out: out}, nil
}

func (r *recorder) module() kernel.Module {
	return kernel.Module{Name: "orders",
		Handlers: []kernel.Handler{{Type: orderType, Fn: r.handle}},
		Channels: []kernel.ChanDecl{{Name: channelName, Dir: kernel.Consume, Type: orderType, Guarantee: kernel.Lossless}}}
}

// handle records the task with one write (to the page cache: it survives
// the process being killed), before it returns OK and the member may
// acknowledge it.
func (r *recorder) handle(c *kernel.Ctx) kernel.Status {
	t := c.Task()
	r.once.Do(func() { fmt.Fprintln(r.out, "consuming") })
	binary.LittleEndian.PutUint64(r.entry[:8], t.Meta0)
	r.entry[8] = 0
	if t.Flags&task.Redelivered != 0 {
		r.entry[8] = 1
	}
	if _, err := r.f.Write(r.entry[:]); err != nil {
		return kernel.Retry
	}
	return kernel.OK
}
