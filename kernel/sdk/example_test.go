package sdk_test

import (
	"context"
	"fmt"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// A service answers requests that carry a typed payload; the requester
// gets each answer on its reply channel, matched by correlation id.
func Example() {
	type vec struct{ X, Y int64 }
	const tReq, tReply = 1, 2
	dot := kernel.Module{Name: "dot", Handlers: []kernel.Handler{{Type: tReq, Fn: func(c *kernel.Ctx) kernel.Status {
		v, err := sdk.View[vec](c) // zero-copy, checked against payload_len
		if err != nil {
			return sdk.CodeBadRequest
		}
		return sdk.Reply(c, tReply, uint64(v.X*v.X+v.Y*v.Y))
	}}}, Channels: []kernel.ChanDecl{{Name: "dot.req", Dir: kernel.Consume, Type: tReq, Guarantee: kernel.Lossless}}}

	got := map[uint32]uint64{} // written by the reply subscription's home worker, read after Halt
	client := kernel.Module{Name: "client", Handlers: []kernel.Handler{{Type: tReply, Fn: func(c *kernel.Ctx) kernel.Status {
		got[sdk.ReplyOf(c.Task()).Corr()] = c.Task().Meta1
		return kernel.OK
	}}}, Channels: []kernel.ChanDecl{{Name: "client.reply", Dir: kernel.Consume, Type: tReply, Guarantee: kernel.Lossless}}}

	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 1 << 20}, dot, client)
	if err != nil {
		fmt.Println(err)
		return
	}
	req, _ := sdk.Dial(k, "dot.req")
	replies, _ := sdk.Dial(k, "client.reply")
	for i, v := range []vec{{3, 4}, {1, 1}, {-2, 5}} {
		r := sdk.NewReplyTo(replies.Chan, uint32(i+1))
		if err := sdk.EmitValue(context.Background(), k, req, 0, uint64(r), 0, &v); err != nil {
			fmt.Println(err)
		}
	}
	_ = k.Halt(context.Background())
	fmt.Println(got[1], got[2], got[3])
	fmt.Println("live payloads:", k.LivePayloads())
	// Output:
	// 25 2 29
	// live payloads: 0
}
