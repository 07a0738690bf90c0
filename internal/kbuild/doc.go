// Package kbuild is the GMK/gpu kernel build ([G4], [U4]): it reads the GPU
// modules' module.toml files, generates the dispatch switch over task types,
// compiles the persistent kernel to PTX with nvcc, and reports what ptxas
// makes of it — registers, spills, local memory and shared memory, per
// handler and per kernel function.
//
// The steps of Build:
//
//  1. LoadModules reads kernels/modules/NAME/module.toml (ParseModule) and
//     checks the set: type ids and functions unique, every registered fn
//     declared with GMK_HANDLER and every declared one registered.
//  2. The register probe: one __global__ entry per handler with the handler
//     inlined, compiled in the kernel's own environment (its source up to
//     the dispatch #include) for the first architecture. ptxas -v gives each
//     handler's registers, spills and stack frame; cuobjdump its SASS
//     instruction count.
//  3. Place marks handlers above the register limit __noinline__ and
//     GenerateDispatch writes kernels/gen/gmk_dispatch.cuh.
//  4. nvcc compiles kernels/src/gmk_kernel.cu to PTX per architecture
//     (NormalizePTX removes the one path-dependent detail, so the same
//     sources give the same bytes anywhere), ptxas -v analyses that PTX.
//  5. Any spill or stack frame fails the build (ErrLocalMemory) unless
//     AllowSpills; then the outputs are written, or with Check compared
//     with the files on disk (ErrStale).
//
// Everything is compiled in a temporary copy of the kernels directory, so a
// failed build or a check leaves the tree as it was. The generated header
// and the PTX are committed; gpu/cuda/ptx embeds the PTX, so no binary
// needs the toolkit, and only this package's builders do (Build returns
// ErrNoToolkit without it; the parsers and the generator need nothing).
//
// Concurrency: Build runs its tools one after another and shares nothing;
// concurrent Builds are safe when they write different outputs. Library
// code never prints: progress goes to Options.Progress and the report to
// the writer given to Result.WriteReport.
package kbuild
