package nic_test

import (
	"bufio"
	"context"
	"fmt"
	"net"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/nic"
)

// A TCP echo server in a handler: every data event goes back to its
// endpoint as a send (the payload forwarded, zero-copy).
func Example() {
	var tx sdk.Port
	echo := kernel.Module{Name: "echo",
		Handlers: []kernel.Handler{{Type: nic.DefaultRxType, Fn: func(c *kernel.Ctx) kernel.Status {
			if _, _, ev := nic.Split(c.Task().Meta0); ev != nic.Data {
				return kernel.OK // open and close events
			}
			return sdk.Forward(c, tx) // same meta0: this endpoint, op send
		}}},
		Channels: []kernel.ChanDecl{
			{Name: "net.rx", Dir: kernel.Consume, Type: nic.DefaultRxType, Guarantee: kernel.Lossless},
			{Name: "net.tx", Dir: kernel.Produce, Type: nic.DefaultTxType, Guarantee: kernel.Lossless},
		},
		Init: func(c *kernel.Ctx) (err error) { tx, err = sdk.Dial(c.Kernel(), "net.tx"); return err },
	}
	n, _ := nic.New(nic.Config{UDP: "off"})
	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 1 << 20}, n.Module(), echo)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer k.Halt(context.Background())
	conn, err := net.Dial("tcp", n.TCPAddr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	fmt.Fprintln(conn, "hello, kernel")
	line, _ := bufio.NewReader(conn).ReadString('\n')
	fmt.Print(line)
	// Output:
	// hello, kernel
}
