// Package clusterpb holds the protobuf messages of GMK's cluster transport
// ([X5]): Batch (a producer stream's task records to a cluster channel's
// grain) and Ack (cumulative acknowledgement or a rewind request back).
// gmkcluster.pb.go is generated from gmkcluster.proto by
// scripts/gen-proto.sh and checked in; package cluster is the only user.
package clusterpb

//go:generate bash ../../../scripts/gen-proto.sh
