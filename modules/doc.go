// Package modules is the home of GMK's standard modules ([U2]), one package
// each:
//
//	modules/echo    echo.in → echo.out: every task back, unchanged
//	modules/kv      kv.req → replies: put, get, del on a fixed-size store
//	modules/log     log.write: levelled records rendered to a zap logger
//	modules/timer   timer.set, timer.cancel → firings: once, repeat, cancel on the EVQ
//	modules/gate    gate.arrive → gate.open: barriers of N arrivals
//	modules/reduce  reduce.in → reduce.out: sum, min, max, concat, custom in index order
//	modules/stats   stats.in: counter, gauge and histogram updates by id
//	modules/nic     net.rx, net.tx: TCP and UDP on real sockets
//	modules/nvme    disk.read, disk.write → disk.read.resp (and disk.write.resp): file I/O
//	modules/watchdog  → watchdog.event: workers stuck in a handler warned about and reset ([F4])
//
// Each package exposes Module(cfg Config) kernel.Module (and New, where the
// caller needs a handle on the running module: the kv store, the stats
// registry, the nic's addresses), documents its channel contract — the
// task layout of every input and output, its failure codes, its ordering —
// in its doc.go, and tests that contract on a real kernel. The task layouts
// are those of kernel/sdk, whose clients build the requests; the GPU versions
// of kv, echo, reduce, timer, log, gate and stats implement the same
// contracts, so the same inputs give the same outputs on either kernel.
//
// # Task types
//
// Until types.toml assigns them ([U3]), each module's Config defaults its
// task types to a reserved range at the top of the default MaxTypes (1024):
//
//	echo    960 in, 961 out
//	kv      962 request, 963 reply
//	log     964 record
//	timer   965 set, 966 cancel, 967 internal fire, 968 firing
//	gate    969 arrive, 970 open
//	reduce  971 element, 972 result
//	stats   973 update
//	nic     974 rx, 975 tx
//	nvme    976 read, 977 write, 978 read reply, 979 write reply, 980 internal completion
//	watchdog 981 internal report, 982 event
//
// A kernel booted with a smaller MaxTypes must set the types in the Configs.
package modules
