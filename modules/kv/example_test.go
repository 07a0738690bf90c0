package kv_test

import (
	"context"
	"fmt"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/kv"
)

// A client puts a key and reads it back; each request names the reply
// channel and a correlation id, and the replies come back in request order.
func Example() {
	var lines []string // written by the client's reply subscription, read after Halt
	client := kernel.Module{Name: "client",
		Handlers: []kernel.Handler{{Type: kv.DefaultRespType, Fn: func(c *kernel.Ctx) kernel.Status {
			t := c.Task()
			lines = append(lines, fmt.Sprintf("#%d result=%d value=%q",
				sdk.ReplyOf(t).Corr(), sdk.Signed(t.Meta1), c.Payload()))
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: "client.kv", Dir: kernel.Consume, Type: kv.DefaultRespType, Guarantee: kernel.Lossless}},
	}
	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 1 << 20}, kv.Module(kv.Config{Entries: 64}), client)
	if err != nil {
		fmt.Println(err)
		return
	}
	req, _ := sdk.Dial(k, "kv.req")
	replies, _ := sdk.Dial(k, "client.kv")
	ctx := context.Background()
	for i, r := range []struct {
		op       sdk.KVOp
		key, val string
	}{{sdk.KVPut, "lang", "go"}, {sdk.KVGet, "lang", ""}, {sdk.KVDel, "lang", ""}, {sdk.KVGet, "lang", ""}} {
		to := sdk.NewReplyTo(replies.Chan, uint32(i+1))
		if err := sdk.EmitKV(ctx, k, req, 0, to, r.op, []byte(r.key), []byte(r.val)); err != nil {
			fmt.Println(err)
		}
	}
	_ = k.Halt(ctx)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// #1 result=0 value=""
	// #2 result=2 value="go"
	// #3 result=0 value=""
	// #4 result=-1001 value=""
}
