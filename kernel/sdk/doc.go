// Package sdk is GMK's tier-2 SDK ([U1]): guard rails over the tier-1 kernel
// API for people who write handlers, and the wire formats of the standard
// modules (modules/…), which the GPU versions of those modules share.
//
// # What it gives
//
//   - Typed payloads: View, ViewSlice, Read, New, Put over plain fixed-size
//     types (no pointers), checked against payload_len; views are zero-copy
//     over arena bytes.
//   - Sending: Send, SendInline, SendBytes, SendValue, Forward, with one rule
//     for backpressure (CHAN_FULL becomes kernel.Retry, which the kernel holds
//     until the channel has room) and one rule for payloads (a send consumes
//     the reference). Dial resolves a channel name into a Port once.
//     EmitInline, EmitBytes and EmitValue are the same for producers outside
//     the kernel.
//   - Request/reply: ReplyTo (reply channel and correlation id in meta0),
//     Request, Reply, ReplyBytes.
//   - Clients of the standard services: key-value (KVRequest), log (Logger,
//     with levels and limited formatting), timers (After, SetTimer,
//     CancelTimer), gates (Gate, Arrive), reduce (Reducer, Contribute),
//     stats (Stats, Counter, Stat).
//   - Code: the status of a kernel error; the Code… failure codes of the
//     standard modules.
//
// # Wire formats
//
// Each service's task layout is documented next to its client (kv.go,
// log.go, timer.go, gate.go, reduce.go, stats.go): which meta0/meta1 bits
// mean what, the payload format, the replies and the failure codes. These
// layouts are the contract between a module and its users, and between the
// CPU and GPU versions of a module: the same inputs give the same outputs.
//
// # Concurrency and costs
//
// Functions taking a *kernel.Ctx run in a handler, on its worker, and obey
// the Ctx's rules (valid only during the call). Gate and Stats are safe for
// concurrent use. On the task path nothing here allocates from the Go heap:
// payloads come from the kernel's arena, Send's failure path maps sentinel
// errors without formatting, and a counter update is a worker-local add
// (tests prove this with testing.AllocsPerRun).
package sdk
