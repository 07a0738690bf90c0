// Package sim is the simulated GPU kernel (DESIGN.md decision 6): a
// gpu.Backend that runs GMK/gpu in this process, with no device and no CUDA
// toolkit, and the embedded default whenever no GPU is there.
//
// # What is simulated, and how
//
// The simulated kernel is a GMK kernel (package kernel) with identity gpu.0
// and role compute ([K3]) that runs the GPU scheduling policy: the
// type-bucketed global ready queue with its aging scan ([S3]), a local queue
// and an event queue per worker, and batches of up to 32 tasks which each
// worker sorts by type before dispatching every homogeneous sub-batch
// (BootConfig.SortBatch, [G1]). Its workers are goroutines standing in for
// the resident worker blocks: they live as long as the kernel, and no task
// launches anything ([G1]). Its arena stands for device memory ([G2]).
//
// Handler granularity ([G3]) is emulated as gpu.Lane documents: a SCALAR
// handler runs once per task as lane i of its sub-batch; a WARP handler runs
// 32 times per task, a BLOCK handler BlockThreads times (default 128), lanes
// in order on the worker, sharing the block's shared memory (sized, like a
// device kernel's, to the largest handler's request). Plain kernel modules
// (gpu.FromKernel: the standard modules of modules/) run as SCALAR.
//
// Heartbeats ([F4]): every handler call advances its worker's count (odd
// while inside a handler); a worker found between tasks is credited a beat
// per sample, as an idle device worker spinning its loop would make one. A
// worker stuck in one handler is the one whose count stands still.
//
// The host reaches the kernel only through the bridge: Boot takes the
// kernel's ends of the bridge channels (link.Wire) and boots the link's
// relay module with the GPU modules. The kernel tells its bridge end which
// bridge deliveries it is done with, whether a handler completed them or
// the kernel ended them (kernel.ChanObserve), and the bridge end
// acknowledges them to the host ([B4], [F5]). A wire
// for gpu.TraceChan makes the kernel ship its trace records to the host
// ([O4], trace.go).
//
// # Concurrency
//
// Boot, Halt and Reset are serialised; Heartbeat, Quiescent, Links and Info
// are safe from any goroutine at any time. Reset of a kernel with a worker
// stuck in a handler cannot stop that goroutine (a device reset or killing
// the GPU daemon can): when its context ends it leaves the kernel behind,
// halting on its own goroutine, reports it Lost and Stuck, and the backend
// boots a new kernel at once. Halt reaps the kernels left behind
// (HaltReport.Reaped), waiting for their handlers until its context ends
// (then gpu.ErrStuck): no goroutine outlives it.
package sim
