/* fxblock: a BLOCK handler using 1 KiB of dynamic shared memory. */
extern __shared__ uint32_t fx_block_shm[];

GMK_HANDLER(fx_block) {
    fx_block_shm[ctx->lane & 255u] = (uint32_t)t->meta0 + ctx->lane;
    __syncthreads();
    if (ctx->lane != 0) return GMK_OK;
    uint32_t s = 0;
    for (uint32_t i = 0; i < 256u && i < ctx->width; i++) s += fx_block_shm[i];
    gmk_task_t r = *t;
    r.meta1 = s;
    return gmk_emit(ctx, &r);
}
