package cluster

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/channel"
)

// Channel declares one cluster channel on a member.
type Channel struct {
	// Name is the cluster-wide name ("namespace.verb"). On every member it is
	// also the local channel producers emit on.
	Name string
	// Type is the task type the channel carries; every member must agree.
	Type uint32
	// Slots sizes the local channels (the producers' and, on a consumer
	// member, the delivery channel); 0 means the kernel's default.
	Slots int
	// Consume makes this member consumer-capable for the channel: it
	// registers the channel's kind, so that the consumer grain can be placed
	// here, and a module wrapped by Member.Consumer that declares Consume on
	// Name handles the tasks.
	Consume bool
}

// Config configures a Member. The zero value of a field means its default.
type Config struct {
	Channels []Channel
	// Window is the most tasks a producer stream keeps unacknowledged; at
	// Window its relay pauses the local channel's subscription, and the
	// kernel's lossless backpressure holds the producers. Default 32768.
	Window int
	// BatchTasks and BatchBytes bound one wire batch. Defaults 4096 tasks,
	// 256 KiB.
	BatchTasks int
	BatchBytes int
	// InflightBytes bounds the bytes sent and not acknowledged per stream
	// (below gRPC's 4 MiB message limit: protoactor may pack every queued
	// batch of an endpoint into one gRPC message). Default 2 MiB.
	InflightBytes int
	// MinBatch is the smallest batch sent while an earlier one is still
	// unacknowledged (Nagle's rule: small batches wait for the ack). Default 256.
	MinBatch int
	// AckEvery is how many handled tasks of a stream a consumer acknowledges
	// at once while it is busy (it acknowledges at once when it catches up).
	// Default Window/8.
	AckEvery int
	// Tick is the period of the retransmission and re-resolution timer.
	// Default 100 ms.
	Tick time.Duration
	// Logger receives the member's logs; default: none.
	Logger *zap.Logger
}

// Defaults of Config.
const (
	DefaultWindow        = 32768
	DefaultBatchTasks    = 4096
	DefaultBatchBytes    = 256 << 10
	DefaultInflightBytes = 2 << 20
	DefaultMinBatch      = 256
	DefaultTick          = 100 * time.Millisecond
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("gmk/cluster: bad config")

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.Window, DefaultWindow)
	def(&c.BatchTasks, DefaultBatchTasks)
	def(&c.BatchBytes, DefaultBatchBytes)
	def(&c.InflightBytes, DefaultInflightBytes)
	def(&c.MinBatch, DefaultMinBatch)
	def(&c.AckEvery, max(c.Window/8, 1))
	if c.Tick == 0 {
		c.Tick = DefaultTick
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c
}

// Validate reports the first problem of a configuration (after defaults).
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch {
	case len(c.Channels) == 0:
		return bad("no channels")
	case c.Window < 2 || c.Window > 1<<24:
		return bad("window %d out of range [2, 16M]", c.Window)
	case c.BatchTasks < 1 || c.BatchBytes < 1<<10 || c.InflightBytes < c.BatchBytes:
		return bad("batch %d tasks / %d bytes, in flight %d bytes", c.BatchTasks, c.BatchBytes, c.InflightBytes)
	case c.MinBatch < 1 || c.AckEvery < 1 || c.Tick <= 0:
		return bad("min batch %d, ack every %d, tick %d", c.MinBatch, c.AckEvery, c.Tick)
	}
	seen := map[string]bool{}
	for _, ch := range c.Channels {
		if err := channel.ValidName(ch.Name); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		if err := channel.ValidName(DeliveryName(ch.Name)); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		if seen[ch.Name] {
			return bad("channel %s declared twice", ch.Name)
		}
		seen[ch.Name] = true
		if ch.Type == kernel.AnyType {
			return bad("channel %s: a cluster channel carries one type", ch.Name)
		}
	}
	return nil
}

// KindPrefix prefixes the cluster kind of every cluster channel's grain.
const KindPrefix = "gmk.chan:"

// Kind returns the protoactor cluster kind of channel name's consumer grain
// (the grain's identity is name). Only members that consume the channel
// register it, so disthash places the grain on one of them.
func Kind(name string) string { return KindPrefix + name }

// DeliveryPrefix prefixes the local channel that a consumer member emits
// received tasks on.
const DeliveryPrefix = "gmk-cluster."

// DeliveryName returns the local channel on which a consumer member delivers
// channel name's tasks to its consumer module (Member.Consumer renames the
// module's Consume declaration to it).
func DeliveryName(name string) string { return DeliveryPrefix + name }
