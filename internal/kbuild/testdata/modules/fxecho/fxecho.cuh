/* fxecho: test fixture handlers for kbuild. */

/* Send the task back to the host, traced. */
GMK_HANDLER(fx_echo) {
    GMK_TRACE(2u, t->meta0);
    GMK_TRACE(3u, t->meta1);
    return gmk_emit_host(ctx, t);
}

/* WARP: the lanes sum meta0 + lane; lane 0 emits the total. */
GMK_HANDLER(fx_warp) {
    uint64_t v = t->meta0 + ctx->lane;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    if (ctx->lane != 0) return GMK_OK;
    gmk_task_t r = *t;
    r.meta1 = v;
    return gmk_emit(ctx, &r);
}
