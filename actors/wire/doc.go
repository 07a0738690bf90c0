// Package wire holds GMK's protobuf wire messages ([X3], [X5]): what actors
// send to GMK channels (Emit, Subscribe, Unsubscribe, Ack) and what channels
// send back (EmitResult, Subscribed, Unsubscribed, Delivery). Messages
// between ActorSystems must be protobuf messages — protoactor remote drops a
// plain Go struct — so these are generated from wire.proto (wire.pb.go, by
// scripts/gen-proto.sh, checked in and diffed in CI).
//
// A TaskBatch carries tasks as their 48-byte records (the kernel.Task layout
// of [T1], little-endian; record.go) plus their payload bytes. Its first_seq
// numbers the tasks for transports that acknowledge and re-send: the channel
// actors number deliveries per subscription and take cumulative Acks; a
// cluster transport can reuse the same batch and acknowledgement.
//
// The hand-written helpers (Append, Each, NewPID, Status) are plain
// functions of their arguments; messages are not safe for concurrent
// mutation, like every protobuf message.
package wire

//go:generate bash ../../scripts/gen-proto.sh
