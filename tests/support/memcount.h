/*
 * memcount.h: an allocator for tests that knows how much libquicc holds. Installed
 * through the engine's hook (qc_set_allocator), it tracks the bytes currently allocated
 * and the peak, so a test can state a memory cap for what an attack makes a connection
 * hold, and check that it is freed again.
 */
#ifndef QC_MEMCOUNT_H
#define QC_MEMCOUNT_H

#include <stddef.h>
#include <stdint.h>

typedef struct memcount {
    int64_t live_bytes, peak_bytes;
    int64_t live_blocks;
} memcount;

/* Installs the counting allocator for the rest of the process, counting into mc. Call it
 * before the library allocates anything (first thing in main): blocks carry a header, so
 * a block from libc's malloc must never reach it. */
void memcount_start(memcount *mc);
/* Restarts the peak at the current level (to measure one phase). */
void memcount_reset_peak(memcount *mc);

#endif
