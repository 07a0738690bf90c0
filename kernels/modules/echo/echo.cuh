/*
 * echo — forwards each task to the CPU kernel (host.tx) as type 961
 * (modules/echo's DefaultOutType), payload moved along unchanged: the
 * device twin of modules/echo, and the bridge round-trip benchmark's handler.
 */
#define GMK_ECHO_OUT_TYPE 961u

GMK_HANDLER(gmk_echo) {
    gmk_task_t x = *t;
    x.type = GMK_ECHO_OUT_TYPE;
    return gmk_emit_host(ctx, &x) == GMK_OK ? GMK_OK : GMK_RETRY;
}
