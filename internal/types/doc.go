// Package types is the generator behind types.toml ([U3]): it parses the
// repository's single source of task types (Parse, Load), checks it (unique
// ids, names and constants; payload schemas that fit their policies and
// need no padding), and writes the two definitions generated from it —
// the Go package github.com/gmkernel/gmk/types (types/types_gen.go) and
// the C header kernels/include/gmk_types.h (Generate, Outputs). It also
// checks the GPU modules' module.toml handlers against it (CheckModules).
//
// It does not import the generated package, so a broken types_gen.go can
// always be regenerated. `gmk gen types` and `go generate ./types` run it;
// its tests fail when the committed files are stale.
//
// Concurrency: no state; every function is safe to call concurrently
// (Generate writes files, so concurrent calls on one root race on them).
package types
