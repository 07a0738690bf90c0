/*
 * delay — set (type 998, meta0 = delay in ns) re-emits the task as due
 * (type 999) after meta0 ns on the worker's EVQ, stamping the device time in
 * meta1; due reports to the CPU kernel (type 999) with meta1 = the ns that
 * actually passed. A task must never come back before its delay.
 */
#define GMK_DELAY_DUE 999u

GMK_HANDLER(gmk_delay_set) {
    gmk_task_t x = *t;
    x.type = GMK_DELAY_DUE;
    x.meta1 = gmk_now();
    return gmk_emit_after(ctx, &x, t->meta0) == GMK_OK ? GMK_OK : GMK_RETRY;
}

GMK_HANDLER(gmk_delay_due) {
    gmk_task_t x = *t;
    x.meta1 = gmk_now() - t->meta1;
    return gmk_emit_host(ctx, &x) == GMK_OK ? GMK_OK : GMK_RETRY;
}
