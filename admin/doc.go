// Package admin is a GMK node's admin endpoint ([U5], [O1]–[O4]): an HTTP
// server on 127.0.0.1 that serves a JSON API over one or more running
// kernels — node info, statistics, workers, channels, modules, a snapshot of
// all of it, emit, module reset, kv, halt, streams of logs and trace
// records, a Chrome/Perfetto trace export — Prometheus /metrics, and a web
// view at /ui/ (web.go: the module/channel graph with live rates, bridge
// channels and kernel crossings marked, the members of the node's
// protoactor cluster and the channels that cross them ([X5],
// Config.Cluster), and a trace timeline); and the
// Client the gmk command line talks to it with. api.go lists the endpoints
// and holds their JSON types.
//
// An application embeds it in its own node:
//
//	ring := admin.NewLogRing(4096, zapcore.DebugLevel)
//	log = ring.Tee(log)                 // the node's log, for gmk log
//	k, _ := kernel.Boot(cfg, mods...)   // with cli.Module for gmk log --errors
//	srv, err := admin.Start(admin.Config{Addr: "127.0.0.1:7878",
//		Kernels: []admin.Kernel{{K: k, CLI: rec, Store: stores}}, Logs: ring})
//	...
//	<-srv.HaltRequested()               // gmk halt
//	_ = k.Halt(ctx)
//	_ = srv.Close(ctx)
//
// # What it reads, and what it never does
//
// Every view is built from the kernels' published state (kernel/inspect.go:
// atomics, copy-on-write lists) — building a snapshot never stalls a
// worker. Rates are computed by the server from its two latest samples of
// the counters, taken every Config.Sample; a worker is reported stalled when
// it had work queued at both samples and neither it nor its kernel made
// progress between them. Trace records are drained every Config.Drain (by
// one goroutine at a time, as DrainTrace requires) into a bounded ring that
// the trace streams and the export read; a stream that falls behind the
// ring loses the oldest records. The server does not halt anything itself:
// the halt endpoint closes HaltRequested, and the node's owner halts.
//
// # Concurrency
//
// A Server's methods are safe for concurrent use. Its goroutines — the HTTP
// server, its handlers, and one loop that drains traces and takes samples —
// all end in Close, which first ends the streams. A Client is safe for
// concurrent use.
package admin
