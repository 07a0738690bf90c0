package channel

// Suspension: the reversible CHAN_CLOSED a cluster transport needs ([X5]).
//
// A suspended channel refuses emits with CHAN_CLOSED, like a closed one, but
// keeps its subscribers and what is queued for them (nothing goes to
// sys.dropped, deliveries already queued still run), and Resume reopens it.
// A cluster member suspends the local end of a cluster channel while the
// channel's consumer is being re-activated on a surviving member.
//
// The state is one atomic flag next to closed, so the emit path pays one more
// load of a line it already reads. Memory model: Suspend and Resume are atomic
// stores and the emit check is an atomic load, so an Emit that observes the
// flag is ordered after the Suspend (or Resume) that set it; an Emit already
// past its check completes as if it had happened before.

// Suspend makes emits fail with CHAN_CLOSED until Resume. Queued deliveries
// stay queued and are delivered. Producers waiting for room (RoomSignal) are
// woken, so that they retry and see CHAN_CLOSED.
func (c *Channel) Suspend() {
	c.suspended.Store(true)
	c.signalRoom()
}

// Resume undoes Suspend. Producers waiting for room are woken.
func (c *Channel) Resume() {
	c.suspended.Store(false)
	c.signalRoom()
}

// Suspended reports whether the channel is suspended.
func (c *Channel) Suspended() bool { return c.suspended.Load() }

// refusing reports whether emits must fail with CHAN_CLOSED: closed for
// good, or suspended.
func (c *Channel) refusing() bool { return c.closed.Load() || c.suspended.Load() }
