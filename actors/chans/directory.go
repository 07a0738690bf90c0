package chans

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/gmkernel/gmk/actors/wire"
)

// directory is the actor Prefix: it forwards wire messages to the actor of
// their channel field (spawning it for a channel opened after Start) and
// answers an unknown channel itself. Stateless: the Channels holds the map.
type directory struct{ cs *Channels }

func (d directory) Receive(ctx actor.Context) {
	var name string
	switch m := ctx.Message().(type) {
	case *wire.Emit:
		name = m.Channel
	case *wire.Subscribe:
		name = m.Channel
	case *wire.Unsubscribe:
		name = m.Channel
	case *wire.Ack:
		name = m.Channel
	default:
		return // lifecycle messages; anything else has no channel to go to
	}
	pid, err := d.cs.PID(name)
	if err == nil {
		ctx.Forward(pid)
		return
	}
	err = fmt.Errorf("gmk: channel %q: %w", name, err)
	code, text := wire.Status(err), err.Error()
	switch m := ctx.Message().(type) {
	case *wire.Emit:
		n := m.GetBatch().Len()
		d.cs.rejected.Add(uint64(n))
		if ctx.Sender() != nil {
			ctx.Respond(&wire.EmitResult{Channel: name, RequestId: m.RequestId, Status: code, Error: text})
		}
	case *wire.Subscribe:
		if ctx.Sender() != nil {
			ctx.Respond(&wire.Subscribed{Channel: name, Status: code, Error: text})
		}
	case *wire.Unsubscribe:
		if ctx.Sender() != nil {
			ctx.Respond(&wire.Unsubscribed{Channel: name, Status: code, Error: text})
		}
	}
}

func zapErr(name string, n, total int, err error) []zap.Field {
	return []zap.Field{zap.String("channel", name), zap.Int("emitted", n), zap.Int("of", total), zap.Error(err)}
}
