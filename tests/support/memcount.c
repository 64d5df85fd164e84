/* memcount.c: the counting allocator for tests (see memcount.h). */
#include "support/memcount.h"

#include "core/common.h"

#include <stdlib.h>

/* Every block starts with a header holding its size (16 bytes keep malloc's alignment). */
typedef struct hdr {
    size_t size;
    size_t magic;
} hdr;
#define MAGIC 0x6d656d636f756e74ull

static memcount *cur;

static void *mc_malloc(size_t n, const char *file, int line) {
    (void)file, (void)line;
    hdr *h = malloc(sizeof(hdr) + n);
    if (!h) return NULL;
    h->size = n;
    h->magic = MAGIC;
    if (cur) {
        cur->live_bytes += (int64_t)n;
        cur->live_blocks++;
        if (cur->live_bytes > cur->peak_bytes) cur->peak_bytes = cur->live_bytes;
    }
    return h + 1;
}

static void mc_free(void *p, const char *file, int line) {
    (void)file, (void)line;
    hdr *h = (hdr *)p - 1;
    if (h->magic != MAGIC) abort(); /* not ours: a mixed-up allocator */
    if (cur) {
        cur->live_bytes -= (int64_t)h->size;
        cur->live_blocks--;
    }
    h->magic = 0;
    free(h);
}

static void *mc_realloc(void *p, size_t n, const char *file, int line) {
    hdr *h = (hdr *)p - 1;
    if (h->magic != MAGIC) abort();
    size_t old = h->size;
    hdr *nh = realloc(h, sizeof(hdr) + n);
    if (!nh) return NULL;
    nh->size = n;
    if (cur) {
        cur->live_bytes += (int64_t)n - (int64_t)old;
        if (cur->live_bytes > cur->peak_bytes) cur->peak_bytes = cur->live_bytes;
    }
    (void)file, (void)line;
    return nh + 1;
}

void memcount_start(memcount *mc) {
    mc->live_bytes = mc->peak_bytes = mc->live_blocks = 0;
    cur = mc;
    qc_allocator a = {mc_malloc, mc_realloc, mc_free};
    qc_set_allocator(&a);
}

void memcount_reset_peak(memcount *mc) {
    mc->peak_bytes = mc->live_bytes;
}
