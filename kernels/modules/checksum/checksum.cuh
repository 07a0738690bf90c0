/*
 * checksum — a BLOCK handler, the shape of a block reduction: each thread
 * sums payload bytes i, i+width, …; warps reduce with shuffles; the first
 * warp adds the warps' partials and thread 0 emits an inline result to the
 * CPU kernel: type 993, meta0 unchanged, meta1 = the sum of the payload's
 * bytes. The device twin of gpu/gpumod.Checksum.
 */
#define GMK_CHECKSUM_OUT_TYPE 993u

GMK_HANDLER(gmk_checksum) {
    __shared__ unsigned long long part[32];
    const unsigned char *p = gmk_payload(ctx, t);
    unsigned long long sum = 0;
    for (uint32_t i = ctx->lane; i < t->payload_len; i += ctx->width)
        sum += p[i];
    for (int o = 16; o > 0; o /= 2)
        sum += __shfl_down_sync(0xffffffffu, sum, o);
    if (ctx->lane % 32 == 0)
        part[ctx->lane / 32] = sum;
    __syncthreads();
    if (ctx->lane != 0)
        return GMK_OK;
    unsigned long long total = 0;
    for (uint32_t w = 0; w < ctx->width / 32; w++)
        total += part[w];
    gmk_task_t x = {};
    x.type = GMK_CHECKSUM_OUT_TYPE;
    x.tenant = t->tenant;
    x.meta0 = t->meta0;
    x.meta1 = total;
    return gmk_emit_host(ctx, &x) == GMK_OK ? GMK_OK : GMK_RETRY;
}
