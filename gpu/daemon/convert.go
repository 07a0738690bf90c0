package daemon

import (
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/daemon/daemonpb"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/trace"
)

// Conversions between the control path's messages and the Go values they
// carry. Plain functions of their arguments.

func chanToPB(c link.Chan) *daemonpb.Chan {
	s := c.Spec
	return &daemonpb.Chan{Name: s.Name, Type: s.Type, Mode: uint32(s.Mode), Guarantee: uint32(s.Guarantee),
		Slots: int32(s.Slots), Replay: int32(s.Replay), From: c.From, To: c.To}
}

func chanFromPB(c *daemonpb.Chan) link.Chan {
	return link.Chan{Spec: kernel.ChanSpec{Name: c.GetName(), Type: c.GetType(), Mode: channel.Mode(c.GetMode()),
		Guarantee: channel.Guarantee(c.GetGuarantee()), Slots: int(c.GetSlots()), Replay: int(c.GetReplay())},
		From: c.GetFrom(), To: c.GetTo()}
}

func simToPB(c sim.Config) *daemonpb.Sim {
	k := c.Kernel
	return &daemonpb.Sim{Id: c.ID, Workers: int32(c.Workers), BlockThreads: int32(c.BlockThreads), BatchSize: int32(c.BatchSize),
		ArenaSize: uint64(k.ArenaSize), QueueCap: int32(k.QueueCap), EvqCap: int32(k.EVQCap), MaxChannels: int32(k.MaxChannels),
		TraceLevel: int32(k.TraceLevel)}
}

func simFromPB(c *daemonpb.Sim) sim.Config {
	return sim.Config{ID: c.GetId(), Workers: int(c.GetWorkers()), BlockThreads: int(c.GetBlockThreads()), BatchSize: int(c.GetBatchSize()),
		Kernel: kernel.BootConfig{ArenaSize: int(c.GetArenaSize()), QueueCap: int(c.GetQueueCap()), EVQCap: int(c.GetEvqCap()),
			MaxChannels: int(c.GetMaxChannels()), TraceLevel: trace.Level(c.GetTraceLevel())}}
}

func linkToPB(c link.Config) *daemonpb.Link {
	return &daemonpb.Link{Batch: int32(c.Batch.Size), IntervalNs: int64(c.Batch.Interval), PauseAt: int32(c.PauseAt),
		PauseBytes: int32(c.PauseBytes), MaxPayload: int32(c.MaxPayload), ParkNs: int64(c.Park)}
}

func linkFromPB(c *daemonpb.Link) link.Config {
	return link.Config{Batch: bridge.BatchConfig{Size: int(c.GetBatch()), Interval: time.Duration(c.GetIntervalNs())},
		PauseAt: int(c.GetPauseAt()), PauseBytes: int(c.GetPauseBytes()), MaxPayload: int(c.GetMaxPayload()),
		Park: time.Duration(c.GetParkNs())}
}

func infoToPB(i gpu.Info) *daemonpb.Info {
	return &daemonpb.Info{Id: i.ID, Backend: i.Backend, Device: i.Device, Workers: int32(i.Workers),
		BlockThreads: int32(i.BlockThreads), WarpSize: int32(i.WarpSize), BatchSize: int32(i.BatchSize), Memory: i.Memory}
}

func statsToPB(s kernel.Stats) *daemonpb.Stats {
	return &daemonpb.Stats{Submitted: s.Submitted, Emitted: s.Emitted, Completed: s.Completed, Errored: s.Errored,
		Dropped: s.Dropped, Retried: s.Retried, Yielded: s.Yielded, Panics: s.Panics, SysLost: s.SysLost,
		PayloadMisuse: s.PayloadMisuse, Restarts: s.Restarts}
}

func statsFromPB(s *daemonpb.Stats) kernel.Stats {
	return kernel.Stats{Submitted: s.GetSubmitted(), Emitted: s.GetEmitted(), Completed: s.GetCompleted(), Errored: s.GetErrored(),
		Dropped: s.GetDropped(), Retried: s.GetRetried(), Yielded: s.GetYielded(), Panics: s.GetPanics(), SysLost: s.GetSysLost(),
		PayloadMisuse: s.GetPayloadMisuse(), Restarts: s.GetRestarts()}
}

func linksToPB(ls []link.Stats) []*daemonpb.LinkStats {
	out := make([]*daemonpb.LinkStats, len(ls))
	for i, s := range ls {
		out[i] = &daemonpb.LinkStats{Chan: s.Chan, Dir: uint32(s.Dir), Kernel: s.Kernel, Peer: s.Peer, Transport: s.Transport,
			Down: s.Down, Fault: s.Fault, Reconnects: s.Reconnects, Acks: s.Acks, Taken: s.Taken, Sent: s.Sent,
			Received: s.Received, Delivered: s.Delivered, Dropped: s.Dropped, Abandoned: s.Abandoned, Queued: s.Queued,
			Pending: s.Pending, Redelivered: s.Redelivered, Acked: s.Acked, Unacked: s.Unacked, Lapsed: s.Lapsed,
			Discarded: s.Discarded, Lost: s.Lost, Transfers: s.Transfers, Pauses: s.Pauses, Failed: s.Failed, Staged: s.Staged}
	}
	return out
}

func linksFromPB(ls []*daemonpb.LinkStats) []link.Stats {
	out := make([]link.Stats, len(ls))
	for i, s := range ls {
		out[i] = link.Stats{Chan: s.GetChan(), Dir: link.Dir(s.GetDir()), Kernel: s.GetKernel(), Peer: s.GetPeer(),
			Transport: s.GetTransport(), Down: s.GetDown(), Fault: s.GetFault(), Reconnects: s.GetReconnects(), Acks: s.GetAcks(),
			Taken: s.GetTaken(), Sent: s.GetSent(), Received: s.GetReceived(), Delivered: s.GetDelivered(), Dropped: s.GetDropped(),
			Abandoned: s.GetAbandoned(), Queued: s.GetQueued(), Pending: s.GetPending(), Redelivered: s.GetRedelivered(),
			Acked: s.GetAcked(), Unacked: s.GetUnacked(), Lapsed: s.GetLapsed(), Discarded: s.GetDiscarded(), Lost: s.GetLost(),
			Transfers: s.GetTransfers(), Pauses: s.GetPauses(), Failed: s.GetFailed(), Staged: s.GetStaged()}
	}
	return out
}

func refsToPB(refs []ModuleRef) []*daemonpb.Module {
	out := make([]*daemonpb.Module, len(refs))
	for i, r := range refs {
		out[i] = &daemonpb.Module{Name: r.Name, Args: r.Args}
	}
	return out
}

func refsFromPB(ms []*daemonpb.Module) []ModuleRef {
	out := make([]ModuleRef, len(ms))
	for i, m := range ms {
		out[i] = ModuleRef{Name: m.GetName(), Args: m.GetArgs()}
	}
	return out
}
