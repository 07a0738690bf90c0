package sdktest_test

import (
	"fmt"
	"testing"

	"github.com/gmkernel/gmk/kernel/sdk/sdktest"
	"github.com/gmkernel/gmk/modules/echo"
)

// A module's test in the sandbox: send on its input, read what it emitted,
// halt and look at the run.
func Example() {
	t := &testing.T{} // in a test: the test's own *testing.T
	s := sdktest.Boot(t, sdktest.Config{}, echo.Module(echo.Config{}))
	s.Send("echo.in", 42, 0, []byte("hello"))
	e := s.WaitEmits("echo.out", 1)[0]
	fmt.Printf("%s: meta0=%d payload=%q\n", e.Chan, e.Task.Meta0, e.Payload)
	r := s.Halt()
	fmt.Println("completed:", r.Stats.Completed, "allocs:", r.Alloc.Block.Allocs, "live:", r.LivePayloads)
	// Output:
	// echo.out: meta0=42 payload="hello"
	// completed: 2 allocs: 1 live: 0
}
