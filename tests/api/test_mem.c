/*
 * quicc_set_mem_functions: set before anything else, every allocation of the library goes
 * through the application's functions (and every block comes back to its free), with the
 * file and line of the allocating call; refused once the library has allocated, and with
 * a NULL function.
 */
#include "quicc.h"
#include "unit/test.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static long mallocs, reallocs, frees, live;
static bool saw_file;

static void *m(size_t n, const char *file, int line) {
    mallocs++;
    saw_file = saw_file || (file && strstr(file, "src/") && line > 0);
    void *p = malloc(n ? n : 1);
    if (p) live++;
    return p;
}
static void *r(void *p, size_t n, const char *file, int line) {
    (void)file, (void)line;
    reallocs++;
    return realloc(p, n ? n : 1);
}
static void f(void *p, const char *file, int line) {
    (void)file, (void)line;
    frees++;
    live--;
    free(p);
}

static void test_hook(void) {
    CHECK_EQ(quicc_set_mem_functions(NULL, r, f), 0);
    CHECK_EQ(quicc_set_mem_functions(m, r, f), 1);
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    CHECK(ctx != NULL);
    quicc *c = quicc_new(ctx);
    CHECK(c != NULL);
    CHECK(quicc_set_tlsext_host_name(c, "localhost"));
    CHECK(quicc_set1_host(c, "localhost"));
    long during = mallocs;
    quicc_free(c);
    quicc_ctx_free(ctx);
    CHECK(during > 2);
    CHECK(saw_file);
    CHECK_EQ(live, 0);
    CHECK_EQ(frees, mallocs);
    /* Too late now: the library has allocated. */
    CHECK_EQ(quicc_set_mem_functions(m, r, f), 0);
}

int main(void) {
    TEST_RUN(test_hook);
    return test_summary();
}
