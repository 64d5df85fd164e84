/* mem_api.c: quicc_set_mem_functions, the public face of the engine's allocator hook. */
#include "api/api_internal.h"

int quicc_set_mem_functions(void *(*m)(size_t size, const char *file, int line),
                            void *(*r)(void *p, size_t size, const char *file, int line),
                            void (*f)(void *p, const char *file, int line)) {
    if (!m || !r || !f || qc_allocated_yet()) return 0;
    qc_allocator a = {.malloc_fn = m, .realloc_fn = r, .free_fn = f};
    return qc_set_allocator(&a) == 0;
}
