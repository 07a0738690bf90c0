package admin

import (
	"net/http"
	"slices"

	"github.com/gmkernel/gmk/actors/cluster/clusterview"
)

// The cluster view ([X5]): what the node's cluster member (Config.Cluster)
// reports of its cluster channels, joined with the member kernel's channel
// rows — its local producers, its consumers, its rates.

// clusterInfo builds the Cluster section from the member's placement and
// the snapshot's channel rows (nil when the node is no cluster member).
func (s *Server) clusterInfo(chans []Channel) *ClusterInfo {
	if s.cfg.Cluster == nil {
		return nil
	}
	p := s.cfg.Cluster.Placement()
	ci := &ClusterInfo{Self: p.Self, Kernel: p.Kernel, Members: p.Members, Channels: []ClusterChannel{}}
	if ci.Members == nil {
		ci.Members = []string{}
	}
	row := func(name string) Channel {
		if i := slices.IndexFunc(chans, func(c Channel) bool { return c.Kernel == p.Kernel && c.Name == name }); i >= 0 {
			return chans[i]
		}
		return Channel{}
	}
	for _, c := range p.Channels {
		ci.Channels = append(ci.Channels, s.clusterChannel(p.Self, c, row(c.Name), row(c.Delivery)))
	}
	return ci
}

// clusterChannel is one channel's row: local is its local channel's row,
// delivery its delivery channel's (zero when the member does not consume it).
func (s *Server) clusterChannel(self string, c clusterview.Channel, local, delivery Channel) ClusterChannel {
	cc := ClusterChannel{Name: c.Name, Consumer: c.Consumer, Local: c.Consumer != "" && c.Consumer == self,
		Consumes: c.Consumes, Produces: c.Produces, Producers: local.Producers, Consumers: []string{},
		Delivery: c.Delivery, Emits: local.Emits, EmitRate: local.EmitRate, Depth: local.Depth,
		Relayed: c.Relayed, Acked: c.Acked, Delivered: delivery.Emits, DeliverRate: delivery.EmitRate,
		Remote: []ClusterProducer{}}
	if cc.Producers == nil {
		cc.Producers = []string{}
	}
	for _, sub := range delivery.Subs {
		if !sub.OnError && !slices.Contains(cc.Consumers, sub.Module) {
			cc.Consumers = append(cc.Consumers, sub.Module)
		}
	}
	for _, p := range c.Producers {
		if p.Member != self {
			cc.Remote = append(cc.Remote, ClusterProducer{Member: p.Member, Tasks: p.Accepted,
				Rate: s.samples.rate(keyStream(c.Name, p.Member))})
		}
	}
	return cc
}

// getCluster serves GET /api/v1/cluster.
func (s *Server) getCluster(*http.Request) (any, error) {
	if s.cfg.Cluster == nil {
		return nil, notFound("this node is no cluster member")
	}
	var chans []Channel
	for _, k := range s.cfg.Kernels {
		chans = append(chans, s.channels(k)...)
	}
	return s.clusterInfo(chans), nil
}
