/*
 * Allocation failure: a handshake and a transfer (4 requests of 30 kB each, verified by
 * SHA-256) are run once with every allocation counted, then again once for every N up
 * to that count with the Nth allocation failing (through the engine's allocator hook,
 * which every allocation of libquicc passes through; GnuTLS's own are not counted). Every
 * run must end in one of three ways: setup fails cleanly, the transfer completes with
 * every byte right (the failure was recovered from), or a connection closes with an
 * error (INTERNAL_ERROR, or TLS's internal_error alert) that its peer sees or times out
 * on. Never: a crash, wrong data, a hang past the virtual deadline, or a leak (every
 * allocation is freed again once the simulator is gone; ASan checks the rest).
 */
#include "core/conn_internal.h"
#include "support/sim.h"
#include "unit/test.h"

#include <stdlib.h>

static long counted, fail_at, live, failures_injected;
static const char *fail_file;
static int fail_line;

static void *t_malloc(size_t n, const char *file, int line) {
    if (++counted == fail_at) {
        failures_injected++;
        fail_file = file;
        fail_line = line;
        return NULL;
    }
    void *p = malloc(n ? n : 1);
    if (p) live++;
    return p;
}

static void *t_realloc(void *p, size_t n, const char *file, int line) {
    if (++counted == fail_at) {
        failures_injected++;
        fail_file = file;
        fail_line = line;
        return NULL;
    }
    return realloc(p, n ? n : 1);
}

static void t_free(void *p, const char *file, int line) {
    (void)file, (void)line;
    live--;
    free(p);
}

static bool cond_done_or_closed(sim *s, void *user) {
    sim_app *a = user;
    if (sim_app_step(s, a)) return true;
    return (s->client && qc_conn_state(s->client) == QC_CONN_CLOSED) ||
           (s->server && qc_conn_state(s->server) == QC_CONN_CLOSED);
}

enum outcome { SETUP_FAILED, COMPLETED, CLOSED, OUTCOMES };
static const char *outcome_name[] = {"setup failed", "completed", "closed with an error"};

static bool error_close(const qc_conn *c) {
    const qc_close_info *ci = qc_conn_close_info(c);
    return ci->set && !ci->app &&
           (ci->idle || ci->error_code == 0x1 || ci->error_code == 0x100 + 80);
}

static enum outcome run(long n) {
    counted = 0;
    fail_at = n;
    live = 0;
    qc_allocator a = {t_malloc, t_realloc, t_free};
    CHECK_EQ(qc_set_allocator(&a), 0);
    sim s;
    sim_app app;
    sim_app_init(&app, 4, 30000, 4);
    enum outcome out = SETUP_FAILED;
    if (sim_init(&s, 42, "sim") == 0 && sim_start(&s) == 0) {
        bool ended = sim_run(&s, s.now + 120 * QC_SEC, cond_done_or_closed, &app);
        CHECK(ended);
        for (size_t i = 0; i < app.n; i++)
            CHECK(!app.reqs[i].corrupt);
        if (app.completed == app.n && app.failed == 0) {
            out = COMPLETED;
        } else {
            /* Let the close reach the other side (or its idle timer run out). */
            sim_run(&s, s.now + 120 * QC_SEC, sim_cond_both_closed, NULL);
            CHECK(!s.client || qc_conn_state(s.client) == QC_CONN_CLOSED);
            CHECK(!s.server || qc_conn_state(s.server) == QC_CONN_CLOSED);
            bool client_err = s.client && error_close(s.client);
            bool server_err = s.server && error_close(s.server);
            CHECK(client_err || server_err || !s.server);
            if (!(client_err || server_err || !s.server))
                fprintf(stderr, "allocation %ld (%s:%d): closed without an error\n", n, fail_file,
                        fail_line);
            out = CLOSED;
        }
    }
    sim_free(&s);
    sim_app_free(&app);
    qc_set_allocator(NULL);
    if (live != 0)
        fprintf(stderr, "allocation %ld (%s:%d): %ld blocks leaked\n", n, fail_file, fail_line,
                live);
    CHECK_EQ(live, 0);
    return out;
}

static void test_every_allocation_fails_once(void) {
    enum outcome base = run(0);
    CHECK_EQ(base, COMPLETED);
    long total = counted;
    printf("a handshake and 4 x 30 kB: %ld allocations through the hook\n", total);
    CHECK(total > 50);
    long tally[OUTCOMES] = {0};
    for (long n = 1; n <= total; n++) {
        enum outcome o = run(n);
        CHECK_EQ(failures_injected, n);
        tally[o]++;
    }
    for (int o = 0; o < OUTCOMES; o++)
        printf("  %-22s %ld\n", outcome_name[o], tally[o]);
}

int main(void) {
    TEST_RUN(test_every_allocation_fails_once);
    return test_summary();
}
