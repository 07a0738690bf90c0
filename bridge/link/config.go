package link

import (
	"cmp"
	"fmt"
	"time"

	"github.com/gmkernel/gmk/bridge"
)

// Config tunes an Endpoint. Zero fields take their defaults.
type Config struct {
	// Batch is the batching of every channel's sender ([B2]): a batch is
	// published when full or after Batch.Interval idle. Default 64 / 10 µs.
	Batch bridge.BatchConfig
	// PauseAt is the outbox depth at which a relay pauses its subscription
	// (backpressure: the channel fills and its producers see CHAN_FULL, or
	// drop-slow on a lossy channel); it resumes at half. Default 1024.
	PauseAt int
	// PauseBytes is the payload bytes held in the outbox (references the
	// relay retained: source arena memory the bridge pins) at which the
	// relay pauses its subscription too; it resumes at half. Default 1 MiB.
	PauseBytes int
	// MaxPayload is the largest payload the transports' staging takes (a
	// bridge.Config's MaxPayload()); a bigger one fails its delivery with
	// ALLOC_FAIL to sys.error ([B4]). Zero: not checked by the relay; the
	// sender then drops such a task to sys.dropped.
	MaxPayload int
	// Park is the longest sleep of an idle sender or pump between checks
	// for Stop. Default 1 ms.
	Park time.Duration
	// Name is the relay module's name. Default "bridge".
	Name string
}

// Defaults of Config.
const (
	DefaultPauseAt    = 1024
	DefaultPauseBytes = 1 << 20
	DefaultPark       = time.Millisecond
	DefaultName       = "bridge"
)

// WithDefaults returns c with every zero field set.
func (c Config) WithDefaults() Config {
	c.PauseAt = cmp.Or(c.PauseAt, DefaultPauseAt)
	c.PauseBytes = cmp.Or(c.PauseBytes, DefaultPauseBytes)
	c.Park = cmp.Or(c.Park, DefaultPark)
	c.Name = cmp.Or(c.Name, DefaultName)
	c.Batch.Size = cmp.Or(c.Batch.Size, bridge.DefaultBatch)
	return c
}

// Validate reports a configuration that cannot work (after defaults).
func (c Config) Validate() error {
	if c.PauseAt < 1 || c.PauseBytes < 1 || c.Park < 0 || c.MaxPayload < 0 {
		return fmt.Errorf("link: bad config: pause at %d tasks or %d bytes, park %v, max payload %d",
			c.PauseAt, c.PauseBytes, c.Park, c.MaxPayload)
	}
	return c.Batch.Validate()
}
