/* fxheavy: sixteen 64-bit values live at once, so the handler needs more
 * registers than the default inline limit (and spills under a low
 * -maxrregcount). */
GMK_HANDLER(fx_heavy) {
    uint64_t s[16];
#pragma unroll
    for (int i = 0; i < 16; i++) s[i] = t->meta0 * (uint64_t)(2 * i + 1) + t->meta1;
#pragma unroll
    for (int r = 0; r < 8; r++) {
#pragma unroll
        for (int i = 0; i < 16; i++) s[i] = (s[i] ^ (s[(i + 1) & 15] >> 7)) * 0x9E3779B97F4A7C15ull;
    }
    uint64_t x = 0;
#pragma unroll
    for (int i = 0; i < 16; i++) x += s[i] * s[15 - i];
    gmk_task_t r = *t;
    r.meta0 = x;
    return gmk_emit(ctx, &r);
}
