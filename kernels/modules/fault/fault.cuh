/*
 * fault — gmk_fault_hang never returns: it spins on a word no one writes, as
 * a handler stuck in a bad loop would. Its worker stops beating, the host's
 * watchdog sees it ([F4]), and only a reset (of the context, or of the daemon
 * process) gets the device back. For tests only.
 */
GMK_HANDLER(gmk_fault_hang) {
    volatile uint64_t *never = &t->meta1;
    while (*never != ~0ull - 1)
        __nanosleep(1000);
    return GMK_OK;
}
