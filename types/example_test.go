package types_test

import (
	"fmt"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/types"
)

// Check the modules before boot: a handler for a type types.toml does not
// declare is reported with the module and handler named.
func ExampleCheck() {
	echoIn, _ := types.Default.Lookup(types.EchoIn)
	fmt.Println(echoIn.ID, echoIn.Name, echoIn.Payload, echoIn.Lossless)

	m := kernel.Module{Name: "app", Handlers: []kernel.Handler{{Type: 7, Name: "in", Fn: func(*kernel.Ctx) kernel.Status { return kernel.OK }}}}
	fmt.Println(types.Check(m))
	// Output:
	// 960 echo.in bytes true
	// types: unknown type: module app: handler in: type 7
}
