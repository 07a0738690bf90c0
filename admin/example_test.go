package admin_test

import (
	"context"
	"fmt"

	"github.com/gmkernel/gmk/admin"
	"github.com/gmkernel/gmk/kernel"
)

// A node serves its kernel on a free port of 127.0.0.1; a client reads it.
func Example() {
	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 1 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer k.Halt(context.Background())
	srv, err := admin.Start(admin.Config{Kernels: []admin.Kernel{{K: k}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close(context.Background())

	c := admin.NewClient(srv.Addr())
	ni, err := c.Node(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ki := range ni.Kernels {
		fmt.Println(ki.ID, ki.Role, ki.Workers, "workers")
	}
	chans, _ := c.Channels(context.Background())
	for _, ch := range chans {
		fmt.Println(ch.Name, ch.Mode, ch.Guarantee)
	}
	// Output:
	// cpu.0 peripheral 2 workers
	// sys.error fanout lossy
	// sys.dropped fanout lossy
	// sys.tick fanout lossless
}
