package types_test

import (
	"fmt"

	"github.com/gmkernel/gmk/internal/types"
)

// Parse a types.toml with one struct payload and show what the generated C
// header declares for it.
func ExampleParse() {
	f, err := types.Parse([]byte(`
[[type]]
id = 1000
name = "pos.update"
const = "PosUpdate"
module = "pos"
payload = "struct"
struct = "Pos"
fields = [{ name = "x", type = "f32" }, { name = "y", type = "f32" }]
`), "types.toml")
	if err != nil {
		fmt.Println(err)
		return
	}
	t := f.Types[0]
	fmt.Println(t.CDefine(), t.Payload, t.Size, t.MaxPayload, t.Fields[1])
	// Output: GMK_TYPE_POS_UPDATE struct 8 8 {y f32 4}
}
