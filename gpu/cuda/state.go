package cuda

import "unsafe"

// gpuState mirrors gmk_gpu_state_t (kernels/src/gmk_state.h): the host fills
// it and copies it to device memory; the kernel reads it. Pointers are
// device addresses (mapped host memory included).
type gpuState struct {
	nworkers, nbuckets, batch, rxBatch             uint32
	traceMask, traceSample, payloadBlock, npayload uint32
	ctl, heartbeat, rx, rxHost, tx                 uint64
	lq, grq, egress, stats, trace, tracePos        uint64
	arena, pool, evq, ack                          uint64
	bulkOff, bulkFree                              uint64
	bulkBlock, nbulk                               uint32
	idleSleepMax, reserved                         uint32
}

// WorkerStats mirrors gmk_wstat_t: one worker's counters.
type WorkerStats struct {
	Done        uint64 // tasks dispatched
	Batches     uint64 // batches gathered
	Idle        uint64 // rounds that found nothing
	Unknown     uint64 // tasks of an unknown type
	Failed      uint64 // handlers that failed, payloads rejected
	Emitted     uint64 // emits flushed
	EmitFull    uint64 // emits refused (out buffer or queues full)
	BridgeIn    uint64 // tasks taken from host.rx
	BridgeOut   uint64 // tasks staged on host.tx
	BridgeGap   uint64 // host.rx slots with an unexpected seq
	PayloadFail uint64 // payloads with no device block
	Rounds      uint64 // loop rounds (written at exit)
	NsGather    uint64 // device ns gathering (host.rx, LQ, GRQ)
	NsDispatch  uint64 // device ns sorting, dispatching, freeing payloads
	NsFlush     uint64 // device ns flushing emits
	NsEgress    uint64 // worker 0: device ns draining egress onto host.tx
	NsRxPoll    uint64 // worker 0, host.rx by phase: loading tail (LL rings: polling and checking the slots)
	NsRxSlots   uint64 // reading and checking slots
	NsRxBlocks  uint64 // taking payload blocks
	NsRxCopy    uint64 // copying payloads
	NsRxRelease uint64 // releasing the slots
	EvqFired    uint64 // tasks taken from the EVQ when due
	NsTxPublish uint64 // worker 0, host.tx: the ring's stores, tail last (release)
	NsTxBell    uint64 // looking for a sleeping consumer
	NsTxStage   uint64 // slots and payloads, before the publication
	_           [7]uint64
}

// Sizes of the C structures the host lays out (kernels/src/gmk_state.h,
// kernels/include/gmk_mpmc.h); state_test.go pins them.
const (
	stateSize     = int(unsafe.Sizeof(gpuState{}))    // 184
	wstatSize     = int(unsafe.Sizeof(WorkerStats{})) // 256
	mpmcSize      = 384                               // gmk_mpmc_t: three 128-byte lines
	cellSize      = 64                                // gmk_mpmc_cell_t
	ctlSize       = 128                               // gmk_ctl_t
	heartbeatSize = 128                               // gmk_heartbeat_t
	traceRecSize  = 32                                // gmk_trace_rec_t
	evqSize       = 384                               // gmk_evq_t
	evqCellSize   = 64                                // gmk_evq_cell_t, gmk_evq_ent_t
)
