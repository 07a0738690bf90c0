package nvme_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/nvme"
)

// Write a record to a file, then read part of it back; the completions
// arrive as tasks, matched by tag.
func Example() {
	dir, _ := os.MkdirTemp("", "gmk-nvme")
	defer os.RemoveAll(dir)
	done := make(chan string, 2)
	app := kernel.Module{Name: "app",
		Handlers: []kernel.Handler{
			{Type: nvme.DefaultWriteRespType, Fn: func(c *kernel.Ctx) kernel.Status {
				tag, _ := nvme.SplitReq(c.Task().Meta0)
				done <- fmt.Sprintf("write #%d: %d bytes", tag, sdk.Signed(c.Task().Meta1))
				return kernel.OK
			}},
			{Type: nvme.DefaultReadRespType, Fn: func(c *kernel.Ctx) kernel.Status {
				tag, _ := nvme.SplitReq(c.Task().Meta0)
				done <- fmt.Sprintf("read #%d: %q", tag, c.Payload())
				return kernel.OK
			}},
		},
		Channels: []kernel.ChanDecl{
			{Name: "disk.write.resp", Dir: kernel.Consume, Type: nvme.DefaultWriteRespType, Guarantee: kernel.Lossless},
			{Name: "disk.read.resp", Dir: kernel.Consume, Type: nvme.DefaultReadRespType, Guarantee: kernel.Lossless},
		},
	}
	disk := nvme.Module(nvme.Config{Files: []nvme.File{{Path: filepath.Join(dir, "data")}}, WriteResp: "disk.write.resp"})
	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 1 << 20}, disk, app)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	write, _ := sdk.Dial(k, "disk.write")
	read, _ := sdk.Dial(k, "disk.read")
	_ = sdk.EmitBytes(ctx, k, write, 0, nvme.ReqMeta(1, 0), 0, []byte("tasks all the way down"))
	fmt.Println(<-done) // the write completed: now read
	_ = sdk.EmitInline(ctx, k, read, 0, nvme.ReqMeta(2, 0), nvme.ReadMeta(10, 12))
	fmt.Println(<-done)
	_ = k.Halt(ctx)
	// Output:
	// write #1: 22 bytes
	// read #2: "the way down"
}
