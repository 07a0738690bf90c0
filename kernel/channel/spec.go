package channel

import (
	"errors"
	"fmt"
	"strings"
)

// Mode is a channel's delivery mode ([C1]).
type Mode uint8

// Delivery modes.
const (
	P2P    Mode = iota // one consumer, FIFO
	FanOut             // up to MaxSubscribers consumers, each gets a copy of the header
)

func (m Mode) String() string {
	if m == FanOut {
		return "fanout"
	}
	return "p2p"
}

// Guarantee says what happens when a subscriber's queue is full ([C6], [C7]).
type Guarantee uint8

// Guarantees.
const (
	Lossy    Guarantee = iota // drop-slow: the full subscriber's copy goes to sys.dropped
	Lossless                  // never drops: the emit fails with CHAN_FULL
)

func (g Guarantee) String() string {
	if g == Lossless {
		return "lossless"
	}
	return "lossy"
}

// AnyType is the type of an untyped channel (sys.error and sys.dropped carry
// tasks of every type).
const AnyType = ^uint32(0)

// Limits and defaults ([C1], Defaults table).
const (
	MaxSubscribers = 32
	DefaultSlots   = 1024
	DefaultMax     = 256
)

// Spec describes a channel at open time.
type Spec struct {
	Name      string // "namespace.verb", dot-separated
	Type      uint32 // the one task type it carries, or AnyType
	Mode      Mode
	Guarantee Guarantee
	Slots     int // capacity of each subscriber queue in tasks; rounded up to a power of two
	Replay    int // replay buffer slots for lossless channels (0 = none)
}

// ErrBadSpec reports an invalid channel specification.
var ErrBadSpec = errors.New("gmk: bad channel spec")

// WithDefaults fills zero fields.
func (s Spec) WithDefaults() Spec {
	if s.Slots == 0 {
		s.Slots = DefaultSlots
	}
	return s
}

// Validate checks the name syntax and the sizes.
func (s Spec) Validate() error {
	if err := ValidName(s.Name); err != nil {
		return err
	}
	if s.Slots < 2 || s.Slots > 1<<24 {
		return fmt.Errorf("%w: channel %q: slots %d out of range [2, 16M]", ErrBadSpec, s.Name, s.Slots)
	}
	if s.Replay < 0 || s.Replay > 1<<24 {
		return fmt.Errorf("%w: channel %q: replay %d out of range", ErrBadSpec, s.Name, s.Replay)
	}
	if s.Replay > 0 && s.Guarantee != Lossless {
		return fmt.Errorf("%w: channel %q: a replay buffer needs a lossless channel", ErrBadSpec, s.Name)
	}
	return nil
}

// ValidName checks the "namespace.verb" form: two or more dot-separated parts of
// lower-case letters, digits, '_' and '-'.
func ValidName(name string) error {
	parts := strings.Split(name, ".")
	if len(parts) < 2 {
		return fmt.Errorf("%w: channel name %q is not \"namespace.verb\"", ErrBadSpec, name)
	}
	for _, p := range parts {
		if p == "" {
			return fmt.Errorf("%w: channel name %q has an empty part", ErrBadSpec, name)
		}
		for _, r := range p {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
				return fmt.Errorf("%w: channel name %q: character %q not allowed", ErrBadSpec, name, r)
			}
		}
	}
	return nil
}
