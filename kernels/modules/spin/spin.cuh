/*
 * spin — a chain of no-op tasks: a task with meta0 = k > 0 emits its
 * successor (meta0 = k - 1) on this kernel; at 0 it reports to the CPU kernel
 * as type 995 with meta1 (the chain's id) unchanged. Seeding each worker's LQ
 * with chains measures the persistent kernel's own rate — gather, dispatch,
 * emit — in tasks per second, with an end-to-end count on the host.
 */
#define GMK_SPIN_DONE_TYPE 995u

GMK_HANDLER(gmk_spin) {
    gmk_task_t x = *t;
    if (x.meta0 == 0) {
        x.type = GMK_SPIN_DONE_TYPE;
        return gmk_emit_host(ctx, &x) == GMK_OK ? GMK_OK : GMK_RETRY;
    }
    x.meta0--;
    return gmk_emit(ctx, &x) == GMK_OK ? GMK_OK : GMK_RETRY;
}

/* sink — consumes a task and does nothing: the bridge throughput benchmark's
 * far end (its payload block is freed by the kernel after dispatch). */
GMK_HANDLER(gmk_sink) { return GMK_OK; }
