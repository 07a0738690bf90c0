// Package daemonpb holds the protobuf messages of the GPU daemon's control
// path (daemon.proto): Boot/Booted, Sample/Heartbeat, Halt/Halted, Exit —
// what gpu/daemon's host backend sends the GPU kernel's actor in gmk-gpud
// over protoactor remote, and its answers. Messages between ActorSystems
// must be protobuf messages (protoactor remote drops plain Go structs).
//
// daemon.pb.go is generated from daemon.proto by protoc and protoc-gen-go,
// with the same tools and versions as scripts/gen-proto.sh (which installs
// them); regenerate with go generate and commit both files.
package daemonpb

//go:generate protoc -I . --go_out=. --go_opt=paths=source_relative daemon.proto
