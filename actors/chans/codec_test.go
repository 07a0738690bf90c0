package chans

import (
	"fmt"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/kernel"
)

// TestX3_CodecRoundTrip: with a codec registered for a task type, a plain
// actor sends its own protobuf message to a channel actor; a subscriber that
// asked for decode receives the same messages, in order, and a plain
// subscriber receives the tasks, whose payloads decode to them.
func TestX3_CodecRoundTrip(t *testing.T) {
	f := start(t, Config{})
	codec := ProtoCodec(&wrapperspb.StringValue{})
	if err := f.cs.RegisterCodec(typeMsg, codec); err != nil {
		t.Fatal(err)
	}
	if err := f.cs.RegisterCodec(typeMsg+1, codec); err == nil {
		t.Fatal("one message type got two codecs")
	}
	if err := f.cs.RegisterCodec(1<<20, ProtoCodec(&wrapperspb.Int64Value{})); !errorsIs(err, kernel.ErrUnknownType) {
		t.Fatalf("codec for a type beyond the kernel: %v", err)
	}
	const n = 100
	decoded, decOut := spawnCollector(f.sys, false, n)
	raw, rawOut := spawnCollector(f.sys, false, n)
	subscribe(t, f, "demo.msg", decoded, &wire.Subscribe{Decode: true})
	subscribe(t, f, "demo.msg", raw, &wire.Subscribe{})
	ch := f.pid(t, "demo.msg")
	producer := f.sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(*actor.Started); ok {
			for i := range n {
				ctx.Send(ch, wrapperspb.String(fmt.Sprint("m", i)))
			}
		}
	}))
	defer f.sys.Root.Stop(producer)
	for i, r := range recv(t, decOut, n) {
		if !proto.Equal(r.msg, wrapperspb.String(fmt.Sprint("m", i))) {
			t.Fatalf("decoded %d: %v", i, r.msg)
		}
	}
	for i, r := range recv(t, rawOut, n) {
		m, err := codec.Decode([]byte(r.payload))
		if err != nil || r.t.Type != typeMsg || !proto.Equal(m, wrapperspb.String(fmt.Sprint("m", i))) {
			t.Fatalf("raw %d: type %d %v %v", i, r.t.Type, m, err)
		}
	}
}
