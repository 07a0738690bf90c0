/* fxstack: a 64-entry array indexed by task data cannot live in registers. */
GMK_HANDLER(fx_stack) {
    uint32_t a[64];
    for (int i = 0; i < 64; i++) a[i] = (uint32_t)t->meta1 * (uint32_t)i;
    gmk_task_t r = *t;
    r.meta0 = a[t->meta0 & 63u];
    return gmk_emit(ctx, &r);
}
