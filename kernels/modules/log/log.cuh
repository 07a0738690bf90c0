/*
 * log — log records on GMK/gpu, with the wire format of kernel/sdk/log.go
 * (type 964 log.write):
 *
 *   meta0   = level (bits 0..7) | args n (bits 8..15) | format length (16..47)
 *   meta1   = the emitter's logical tick
 *   payload = n little-endian uint64 args, then the format bytes
 *
 * modules/log renders a record with strconv (shortest floats among them)
 * and writes it to a zap logger or an io.Writer: none of that exists on the
 * device. So the GPU module does what can be done here and forwards the
 * rest: it checks the record as modules/log does (CodeBadRequest when n > 8,
 * 8n + format length differs from payload_len, or the level is above ERROR),
 * drops records below cfg.level (modules/log's Config.Level; default DEBUG,
 * all) without crossing the bridge, and forwards the others unchanged —
 * same type, meta and payload, the block moving with the emit — to the CPU
 * kernel (host.tx), whose log module renders them: the lines are the CPU
 * module's, byte for byte.
 *
 * The channel is lossy by contract: a record that does not fit the out
 * buffer is dropped and the handler fails with CHAN_FULL (counted by the
 * worker's statistics), never retried — logging must not hold back the
 * handlers that log. Granularity SCALAR; no state but the configured level.
 */
#include "gmk_types.h"

#define GMK_LOG_MAX_ARGS 8u /* sdk.MaxLogArgs */
#define GMK_LOG_ERROR 3u    /* sdk.LevelError, the highest level */

typedef struct gmk_log_cfg {
    uint32_t level; /* lowest level forwarded (0 DEBUG … 3 ERROR) */
} gmk_log_cfg_t;

GMK_MODULE_STATE gmk_log_cfg_t gmk_log;

GMK_HANDLER(gmk_log_write) {
    const uint32_t level = (uint32_t)(uint8_t)t->meta0, n = (uint32_t)(uint8_t)(t->meta0 >> 8);
    const uint64_t fl = (uint32_t)(t->meta0 >> 16);
    if (n > GMK_LOG_MAX_ARGS || 8u * n + fl != t->payload_len || level > GMK_LOG_ERROR)
        return GMK_CODE_BAD_REQUEST;
    if (level < gmk_log.level)
        return GMK_OK;
    gmk_task_t x = *t; /* the same record; its payload block moves with the emit */
    x.type = GMK_TYPE_LOG_WRITE;
    return gmk_emit_host(ctx, &x) == GMK_OK ? GMK_OK : GMK_CHAN_FULL;
}
