/*
 * xform — a WARP handler: upper-cases the ASCII letters of the payload in
 * place, lane i taking bytes i, i+32, i+64 … (coalesced), then the last lane
 * forwards the task to the CPU kernel as type 991 with meta1 = meta0 × 2 and
 * the same payload. The device twin of gpu/gpumod.Xform.
 */
#define GMK_XFORM_OUT_TYPE 991u
#define GMK_XFORM_SCALE 2u

GMK_HANDLER(gmk_xform) {
    unsigned char *p = gmk_payload(ctx, t);
    for (uint32_t i = ctx->lane; i < t->payload_len; i += ctx->width) {
        unsigned char b = p[i];
        if (b >= 'a' && b <= 'z')
            p[i] = b - ('a' - 'A');
    }
    __syncwarp();
    if (ctx->lane != ctx->width - 1)
        return GMK_OK;
    gmk_task_t x = *t;
    x.type = GMK_XFORM_OUT_TYPE;
    x.meta1 = x.meta0 * GMK_XFORM_SCALE;
    return gmk_emit_host(ctx, &x) == GMK_OK ? GMK_OK : GMK_RETRY;
}
