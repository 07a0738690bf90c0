package kbuild_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/gmkernel/gmk/internal/kbuild"
)

// A module.toml, the inline decisions for measured register counts, and
// the dispatch switch generated from them.
func Example() {
	m, err := kbuild.ParseModule([]byte(`
name = "demo"
target = "gpu"
source = "demo.cuh"

[[handlers]]
fn = "demo_echo"
type = 960

[[handlers]]
fn = "demo_scan"
type = 961
granularity = "block"
shared = 4096
`), "modules/demo/module.toml")
	if err != nil {
		fmt.Println(err)
		return
	}
	m.Dir = "modules/demo"                                   // LoadModules sets it
	regs := map[string]int{"demo_echo": 18, "demo_scan": 48} // what the probe measured
	ps := kbuild.Place(m.Handlers, regs, kbuild.DefaultInlineRegLimit)
	for _, p := range ps {
		fmt.Printf("%d %s %s: %d registers, %s\n", p.Type, p.Fn, p.Granularity, p.Registers, p.Attr())
	}
	hdr := kbuild.GenerateDispatch([]*kbuild.Module{m}, ps, kbuild.DefaultInlineRegLimit)
	sc := bufio.NewScanner(bytes.NewReader(hdr))
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "#define GMK_MAX") || strings.Contains(l, "return demo_") {
			fmt.Println(l)
		}
	}
	// Output:
	// 960 demo_echo scalar: 18 registers, __forceinline__
	// 961 demo_scan block: 48 registers, __noinline__
	// #define GMK_MAX_SHARED 4096
	//     case 960u: return demo_echo(ctx, t);
	//     case 961u: return demo_scan(ctx, t);
}

// Build the repository's kernels (from the repository root) and print the
// register/spill report; needs the CUDA toolkit.
func ExampleBuild() {
	res, err := kbuild.Build(context.Background(), kbuild.Options{ReportOnly: true})
	if res != nil {
		res.WriteReport(os.Stdout)
	}
	if err != nil {
		fmt.Println(err)
	}
}
