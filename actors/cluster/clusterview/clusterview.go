// Package clusterview holds what a GMK cluster member ([X5],
// actors/cluster.Member.Placement) reports about its cluster channels: its
// own address, the members it sees, and where each channel's consumer grain
// is. It is a leaf package of plain values, so that a reader — the admin
// endpoint, the command line — can take a member's report without linking
// protoactor's cluster and remote packages.
//
// A Placement is a copy: nothing in it changes after it was returned, and
// it may be kept and shared freely.
package clusterview

// Placement is one member's view of its cluster channels. Before the member
// started, Self and Members are empty and no channel has a Consumer.
type Placement struct {
	Self     string    // this member's address (host:port of its protoactor remote)
	Kernel   string    // the id of the kernel the member's module runs in
	Members  []string  // addresses of the members in the topology it saw last, sorted (Self among them)
	Channels []Channel // in the member's Config order
}

// Channel is one cluster channel on the member.
type Channel struct {
	Name string // the cluster-wide name, also the local channel producers emit on
	// Delivery is the local channel the member's consumer module consumes
	// (cluster.DeliveryName) when Consumes, else "".
	Delivery string
	// Produces: a module of the member's kernel declares Produce on Name,
	// or tasks were emitted on it here.
	Produces bool
	// Consumes: the member can host the consumer grain (it registered the
	// channel's kind); whether it does now is Consumer == Self.
	Consumes bool
	// Consumer is the address of the member of the grain activation this
	// member's producer stream sends to; "" while it is not resolved (at
	// start, after that member was lost, after the member left).
	Consumer string
	Relayed  uint64 // tasks this member's producer stream took from the local channel
	Acked    uint64 // of those, acknowledged by a consumer
	// Producers are the members whose producer streams the consumer here
	// received tasks from (Self too when it produces), while Consumer ==
	// Self; members no longer in the topology are left out.
	Producers []Producer
}

// Producer is one member's producer stream as its consumer saw it.
type Producer struct {
	Member   string // the producing member's address
	Accepted uint64 // tasks accepted from its stream (duplicates not counted)
}
