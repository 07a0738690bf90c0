package daemon_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gmkernel/gmk/gpu/daemon"
	"github.com/gmkernel/gmk/kernel"
)

// The catalogue builds its modules from string arguments, the same on the
// host (declarations, for routing) and in the daemon (the kernel's
// modules); unknown names and bad arguments are errors naming them.
func TestCatalogue(t *testing.T) {
	if got := daemon.Names(); !slices.Equal(got, []string{"checksum", "echo", "hang", "xform"}) {
		t.Fatalf("catalogue %v", got)
	}
	m, err := daemon.Build(daemon.ModuleRef{Name: "echo", Args: map[string]string{"in": "a.in", "out": "a.out", "in_type": "7", "out_type": "0x8"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Channels) != 2 || m.Channels[0].Name != "a.in" || m.Channels[0].Type != 7 || m.Channels[1].Type != 8 {
		t.Fatalf("echo channels %+v", m.Channels)
	}
	for _, c := range []struct {
		ref  daemon.ModuleRef
		want string
	}{
		{daemon.ModuleRef{Name: "nope"}, `no GPU module "nope"`},
		{daemon.ModuleRef{Name: "xform", Args: map[string]string{"scale": "two"}}, `module xform: argument scale="two"`},
		{daemon.ModuleRef{Name: "hang", Args: map[string]string{"in_type": "4294967296"}}, "in_type=4294967296 out of range"},
	} {
		if _, err := daemon.Build(c.ref); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("Build(%+v): %v, want %q", c.ref, err, c.want)
		}
	}
	if err := daemon.Hang("h.in", "h.out", 1, 2, 9).Validate(); err != nil {
		t.Fatal(err)
	}
}

// The host names the daemon's GPU modules and builds the same ones for
// their channel declarations.
func ExampleModules() {
	mods, err := daemon.Modules([]daemon.ModuleRef{
		{Name: "xform", Args: map[string]string{"scale": "3"}},
		{Name: "echo", Args: map[string]string{"in": "echo.in", "out": "echo.out"}},
	})
	if err != nil {
		panic(err)
	}
	for _, m := range mods {
		for _, c := range m.Channels {
			dir := "produce"
			if c.Dir == kernel.Consume {
				dir = "consume"
			}
			fmt.Printf("%s %s %s type %d\n", m.Name, dir, c.Name, c.Type)
		}
	}
	// Output:
	// xform consume host.rx type 990
	// xform produce host.tx type 991
	// echo consume echo.in type 960
	// echo produce echo.out type 961
}
