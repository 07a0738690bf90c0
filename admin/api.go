package admin

import (
	"encoding/json"
	"time"
)

// The JSON API, version 1. Every path is under /api/v1/; responses are JSON
// (application/json), streams are NDJSON (one JSON object per line), errors
// are an Error with a 4xx or 5xx status. Counters are totals since the
// kernel booted; Rate fields are per second, computed by the server from its
// two most recent samples (Config.Sample apart), 0 until it has two.
//
//	GET  /api/v1/node              NodeInfo
//	GET  /api/v1/snapshot          Snapshot: everything below in one call
//	GET  /api/v1/stats             []KernelStats
//	GET  /api/v1/workers           []WorkerStats
//	GET  /api/v1/types             []TypeStats
//	GET  /api/v1/channels          []Channel
//	GET  /api/v1/modules           []Module
//	GET  /api/v1/cluster           ClusterInfo (404 when the node is no cluster member)
//	GET  /api/v1/failures          []Failure (?after=SEQ&kind=error|dropped|tap)
//	POST /api/v1/emit              EmitRequest → EmitResult
//	POST /api/v1/reset             ResetRequest → ResetResult
//	GET  /api/v1/kv                []KVStore; ?store=S: []KVEntry (keys only); &key=K: KVEntry
//	PUT  /api/v1/kv                KVEntry → KVEntry
//	PUT  /api/v1/trace/level       TraceLevel → TraceLevel
//	GET  /api/v1/trace             NDJSON TraceEvent (?follow=1&kernel=&level=&module=&type=&sample=&n=)
//	GET  /api/v1/trace/export      Chrome/Perfetto JSON trace of every kernel
//	GET  /api/v1/logs              NDJSON LogEntry (?follow=1&level=&n=)
//	POST /api/v1/halt              Halt: asks the node's owner to halt
//	GET  /metrics                  Prometheus text format
//	GET  /ui/                      the web view (web.go); / redirects to it
//	GET  /ui/graph.json            the module/channel graph, laid out, for the web view
//
// Rows that can come from several kernels carry a Kernel field (the
// kernel's id, [K3]); a query parameter kernel=ID keeps one kernel's rows.

// Version is the API version, the path prefix's number.
const Version = 1

// NodeInfo describes the node and its kernels.
type NodeInfo struct {
	Version string       `json:"version"` // the serving program's version
	PID     int          `json:"pid"`
	Started time.Time    `json:"started"`
	Kernels []KernelInfo `json:"kernels"`
	Member  string       `json:"member,omitempty"` // its address in its protoactor cluster ([X5]; Config.Cluster)
}

// KernelInfo identifies a kernel ([K3]) and its shape.
type KernelInfo struct {
	ID       string  `json:"id"`
	Role     string  `json:"role"`
	Workers  int     `json:"workers"`
	Tenants  int     `json:"tenants"`
	Policy   string  `json:"policy"`
	Uptime   float64 `json:"uptime_s"`
	Tick     uint64  `json:"tick"`
	TickNS   int64   `json:"tick_ns"`
	Modules  int     `json:"modules"`
	Channels int     `json:"channels"`
	Halted   bool    `json:"halted"`
	Actors   bool    `json:"actors"` // booted from a supervision tree (module actors, [X1])
}

// Tasks are a kernel's task accounting ([C9], [O1]): Created = Submitted +
// Emitted = Completed + Errored + Dropped + InFlight.
type Tasks struct {
	Submitted uint64 `json:"submitted"`
	Emitted   uint64 `json:"emitted"`
	Created   uint64 `json:"created"`
	Completed uint64 `json:"completed"`
	Errored   uint64 `json:"errored"`
	Dropped   uint64 `json:"dropped"`
	Retried   uint64 `json:"retried"`
	Yielded   uint64 `json:"yielded"`
	Panics    uint64 `json:"panics"`
	InFlight  uint64 `json:"in_flight"`
}

// TaskRates are per-second rates of the Tasks counters.
type TaskRates struct {
	Created   float64 `json:"created"`
	Completed float64 `json:"completed"`
	Errored   float64 `json:"errored"`
	Dropped   float64 `json:"dropped"`
	Retried   float64 `json:"retried"`
}

// Alloc are one allocator's statistics ([A3]): bytes and counts.
type Alloc struct {
	Total     uint64 `json:"total"`
	Free      uint64 `json:"free"`
	InUse     uint64 `json:"in_use"`
	HighWater uint64 `json:"high_water"`
	Allocs    uint64 `json:"allocs"`
	Frees     uint64 `json:"frees"`
	Fails     uint64 `json:"fails"`
	Misuse    uint64 `json:"misuse"`
}

// Memory is one tenant's arena: its slab, block and bump allocators.
type Memory struct {
	Tenant int   `json:"tenant"`
	Slab   Alloc `json:"slab"`
	Block  Alloc `json:"block"`
	Bump   Alloc `json:"bump"`
}

// KernelStats are a kernel's counters, queues and memory ([O1]).
type KernelStats struct {
	Kernel       string    `json:"kernel"`
	Tick         uint64    `json:"tick"`
	Tasks        Tasks     `json:"tasks"`
	Rates        TaskRates `json:"rates"`
	SharedQueue  int       `json:"shared_queue"`  // tasks in the shared ready queues
	LocalQueues  int64     `json:"local_queues"`  // sum of the workers' LQ depths (at their last park)
	Events       int64     `json:"events"`        // sum of the workers' EVQ depths (retries, timers)
	Pending      int       `json:"pending"`       // deliveries queued on subscriptions
	Workers      int       `json:"workers"`       //
	Parked       int       `json:"parked"`        // workers parked now
	Stalled      int       `json:"stalled"`       // workers with work and no progress across two samples
	LivePayloads int       `json:"live_payloads"` // payload blocks referenced
	TraceLost    uint64    `json:"trace_lost"`    // trace records lost to full rings
	Memory       []Memory  `json:"memory"`
}

// Worker states.
const (
	WorkerActive  = "active"  // has queued work
	WorkerIdle    = "idle"    // nothing queued for it
	WorkerStalled = "stalled" // work queued and no progress across two samples
)

// WorkerStats describe one worker ([S6]). State is derived from what is
// queued for the worker and from its progress between the server's samples.
type WorkerStats struct {
	Kernel  string `json:"kernel"`
	ID      int    `json:"id"`
	State   string `json:"state"`
	Subs    int    `json:"subs"`    // subscriptions homed on it
	Pending int    `json:"pending"` // deliveries queued on them
	LQ      int64  `json:"lq"`      // local queue depth at its last park
	LQHigh  int64  `json:"lq_high"` // high watermark of the local queue
	EVQ     int64  `json:"evq"`     // retry/timer events queued at its last park
	Wakes   uint64 `json:"wakes"`
}

// TypeStats are one task type's handler results ([O1], [F3]).
type TypeStats struct {
	Kernel   string  `json:"kernel"`
	ID       uint32  `json:"id"`
	Name     string  `json:"name,omitempty"`
	Module   string  `json:"module,omitempty"`
	OK       uint64  `json:"ok"`
	Fail     uint64  `json:"fail"`
	Retry    uint64  `json:"retry"`
	Poisoned bool    `json:"poisoned"`
	Rate     float64 `json:"rate"`      // OK per second
	FailRate float64 `json:"fail_rate"` // Fail per second
}

// Sub is one subscription of a channel.
type Sub struct {
	Index    int    `json:"index"`
	Module   string `json:"module"`
	Home     int    `json:"home"` // the worker that drains it
	Depth    int    `json:"depth"`
	Paused   bool   `json:"paused"`
	Degraded bool   `json:"degraded"`
	OnError  bool   `json:"on_error"` // the channel's error handler
}

// Channel describes a channel ([C1], [O1]).
type Channel struct {
	Kernel      string   `json:"kernel"`
	Name        string   `json:"name"`
	ID          uint32   `json:"id"`
	Type        uint32   `json:"type"` // 4294967295 for untyped system channels
	TypeName    string   `json:"type_name,omitempty"`
	Mode        string   `json:"mode"`
	Guarantee   string   `json:"guarantee"`
	Slots       int      `json:"slots"`
	Replay      int      `json:"replay"`
	Subscribers int      `json:"subscribers"`
	Depth       int      `json:"depth"`
	Emits       uint64   `json:"emits"`
	Full        uint64   `json:"full"`
	Drops       uint64   `json:"drops"`
	ReplayOvfs  uint64   `json:"replay_overflows"`
	EmitRate    float64  `json:"emit_rate"`
	FullRate    float64  `json:"full_rate"`
	DropRate    float64  `json:"drop_rate"`
	Closed      bool     `json:"closed"`
	Suspended   bool     `json:"suspended"`
	Producers   []string `json:"producers"` // modules that declare it Produce
	Subs        []Sub    `json:"subs"`
}

// Module states.
const (
	ModuleRunning  = "running"
	ModulePoisoned = "poisoned" // at least one of its types is poisoned ([F3])
	ModuleHeld     = "held"     // its handlers are held (a restart in progress)
	ModuleStopped  = "stopped"  // its actor is stopped ([X2]; supervised nodes)
)

// TypeRef names a task type.
type TypeRef struct {
	ID   uint32 `json:"id"`
	Name string `json:"name,omitempty"`
}

// ModuleChan is a module's channel declaration.
type ModuleChan struct {
	Name string `json:"name"`
	Dir  string `json:"dir"` // produce or consume
}

// Module describes a module ([M1], [F3]).
type Module struct {
	Kernel   string       `json:"kernel"`
	Name     string       `json:"name"`
	Version  string       `json:"version,omitempty"`
	State    string       `json:"state"`
	Types    []TypeRef    `json:"types"`
	CatchAll bool         `json:"catch_all"`
	Poisoned []TypeRef    `json:"poisoned"`
	OK       uint64       `json:"ok"`
	Fail     uint64       `json:"fail"`
	Retry    uint64       `json:"retry"`
	Rate     float64      `json:"rate"`      // OK per second over its types
	FailRate float64      `json:"fail_rate"` // Fail per second over its types
	Actor    bool         `json:"actor"`     // supervised by a module actor
	Channels []ModuleChan `json:"channels"`
}

// Snapshot is the whole node in one response (gmk top, the web view).
type Snapshot struct {
	Time     time.Time     `json:"time"`
	Node     NodeInfo      `json:"node"`
	Kernels  []KernelStats `json:"kernels"`
	Workers  []WorkerStats `json:"workers"`
	Channels []Channel     `json:"channels"`
	Modules  []Module      `json:"modules"`
	Types    []TypeStats   `json:"types"`
	Cluster  *ClusterInfo  `json:"cluster,omitempty"` // when the node is a cluster member (Config.Cluster)
}

// ClusterInfo is the node's membership of a protoactor cluster ([X5]), as
// its member knows it: its address, the members in the topology, and each
// cluster channel — produced on any member, consumed by one grain placed on
// one member — with its local producers and consumers and the consumer's
// member.
type ClusterInfo struct {
	Self     string           `json:"self"`    // this member's address; "" before it joined
	Kernel   string           `json:"kernel"`  // the kernel the member's module runs in
	Members  []string         `json:"members"` // addresses of the members it sees, sorted (self among them)
	Channels []ClusterChannel `json:"channels"`
}

// ClusterChannel is one cluster channel on this member. Emits and EmitRate
// are its local channel's (the tasks produced here, whichever member
// consumes them); Delivered and DeliverRate its delivery channel's (the
// tasks handed to the consumer here, from every member's producers).
type ClusterChannel struct {
	Name        string            `json:"name"`
	Consumer    string            `json:"consumer"`  // the consumer grain's member; "" while not resolved
	Local       bool              `json:"local"`     // the consumer grain is on this member
	Consumes    bool              `json:"consumes"`  // this member can host the consumer grain
	Produces    bool              `json:"produces"`  // tasks are produced here (a module declares it, or emits came)
	Producers   []string          `json:"producers"` // local modules that declare Produce on it
	Consumers   []string          `json:"consumers"` // local modules that consume it (on its delivery channel)
	Delivery    string            `json:"delivery,omitempty"`
	Emits       uint64            `json:"emits"`
	EmitRate    float64           `json:"emit_rate"`
	Depth       int               `json:"depth"`   // tasks queued on the local channel
	Relayed     uint64            `json:"relayed"` // tasks this member's stream took from the local channel
	Acked       uint64            `json:"acked"`   // of those, acknowledged by the consumer
	Delivered   uint64            `json:"delivered"`
	DeliverRate float64           `json:"deliver_rate"`
	Remote      []ClusterProducer `json:"remote"` // when Local: the other members whose producers it receives
}

// ClusterProducer is another member's producer stream, as the consumer
// here received it.
type ClusterProducer struct {
	Member string  `json:"member"`
	Tasks  uint64  `json:"tasks"` // accepted from its stream
	Rate   float64 `json:"rate"`
}

// Failure is a task the cli module recorded: one that ended in sys.error
// or sys.dropped, or one on a tapped channel (Kind "tap").
type Failure struct {
	Kernel     string `json:"kernel"`
	Seq        uint64 `json:"seq"`
	Kind       string `json:"kind"` // error, dropped, tap
	Channel    string `json:"channel"`
	Type       uint32 `json:"type"`
	TypeName   string `json:"type_name,omitempty"`
	Code       int32  `json:"code"`
	CodeName   string `json:"code_name"`
	Tenant     uint16 `json:"tenant"`
	Meta0      uint64 `json:"meta0"`
	Meta1      uint64 `json:"meta1"`
	PayloadLen uint32 `json:"payload_len"`
	Preview    []byte `json:"preview,omitempty"` // the payload's first bytes
	Tick       uint64 `json:"tick"`
	TimeNS     int64  `json:"time_ns"` // kernel clock (ns since boot)
}

// EmitRequest asks for one task ([U5] gmk emit). Type is a type name (from
// the type registry, types.toml, or the kernel's BootConfig.Types) or a
// decimal id. Payload is shaped by the type's schema: an object of the
// struct's fields for a struct payload; a string (its UTF-8 bytes) or
// {"base64": "..."} for a bytes payload; absent or null for an inline
// type. With Chan the task is emitted on that channel, else submitted.
type EmitRequest struct {
	Kernel   string          `json:"kernel,omitempty"` // default: the first kernel
	Type     string          `json:"type"`
	Payload  json.RawMessage `json:"payload,omitempty"`
	Chan     string          `json:"chan,omitempty"`
	Meta0    uint64          `json:"meta0"`
	Meta1    uint64          `json:"meta1"`
	Tenant   int             `json:"tenant"`
	Priority int             `json:"priority"`
	Trace    bool            `json:"trace"` // set EMIT_TRACE: the task is traced whatever the level ([O3])
}

// EmitResult says what was emitted.
type EmitResult struct {
	Kernel     string `json:"kernel"`
	Type       uint32 `json:"type"`
	TypeName   string `json:"type_name,omitempty"`
	Chan       string `json:"chan,omitempty"`
	PayloadLen int    `json:"payload_len"`
}

// ResetRequest clears poison ([F3], gmk mod reset): Name is a module (all
// its types; a stopped module actor is restarted) or a task type (name or
// id).
type ResetRequest struct {
	Kernel string `json:"kernel,omitempty"`
	Name   string `json:"name"`
}

// ResetResult lists what was poisoned before the reset.
type ResetResult struct {
	Kernel  string    `json:"kernel"`
	Name    string    `json:"name"`
	Cleared []TypeRef `json:"cleared"`
}

// KVStore is a running kv module's store.
type KVStore struct {
	Kernel string `json:"kernel"`
	Store  string `json:"store"`
	Keys   int    `json:"keys"`
}

// KVEntry is one key of a kv store; Value is omitted when listing keys.
type KVEntry struct {
	Store string  `json:"store,omitempty"` // default: the only store, or "kv"
	Key   string  `json:"key"`
	Value *string `json:"value,omitempty"`
}

// TraceLevel sets a module's trace level at run time ([O3]).
type TraceLevel struct {
	Kernel string `json:"kernel,omitempty"`
	Module string `json:"module"` // "" or "kernel": the kernel's own events
	Level  string `json:"level"`  // off, error, warn, info, all
}

// TraceEvent is one trace record ([O2]) with its kernel and names.
type TraceEvent struct {
	Seq      uint64 `json:"seq"`
	Kernel   string `json:"kernel"`
	Worker   int    `json:"worker"`
	TS       int64  `json:"ts"` // ns since the kernel booted (a tick with flag logical)
	Event    string `json:"event"`
	Level    string `json:"level"`
	Type     uint32 `json:"type"`
	TypeName string `json:"type_name,omitempty"`
	Module   string `json:"module,omitempty"`
	Tenant   uint16 `json:"tenant"`
	Arg0     uint64 `json:"arg0"`
	Arg1     uint64 `json:"arg1"`
	Flags    string `json:"flags,omitempty"`
}

// LogEntry is one entry of the node's log.
type LogEntry struct {
	Seq     uint64         `json:"seq"`
	Time    time.Time      `json:"time"`
	Level   string         `json:"level"`
	Logger  string         `json:"logger,omitempty"`
	Message string         `json:"msg"`
	Fields  map[string]any `json:"fields,omitempty"`
}

// Halt is the halt endpoint's answer.
type Halt struct {
	Halting bool `json:"halting"`
}

// Error is the body of an error response.
type Error struct {
	Error string `json:"error"`
}
