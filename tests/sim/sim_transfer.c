/* Simulator: 10 MB transfers at 0 %, 5 % and 20 % loss with reordering, duplication and a
 * bandwidth limit; 1,000 small streams; each response verified by SHA-256. */
#include "core/conn_internal.h"
#include "support/sim.h"
#include "unit/test.h"

static uint64_t transfer(uint64_t seed, double loss, size_t nreq, uint64_t size, size_t parallel,
                         bool *ok) {
    sim s;
    *ok = false;
    if (sim_init(&s, seed, "sim") != 0) return 0;
    for (int d = 0; d < 2; d++) {
        s.link[d].loss = loss;
        s.link[d].reorder = loss > 0 ? 0.05 : 0;
        s.link[d].reorder_delay = 5 * QC_MS;
        s.link[d].dup = loss > 0 ? 0.02 : 0;
        s.link[d].delay = 10 * QC_MS;
        s.link[d].rate_bps = 200000000; /* 200 Mbit/s */
        s.link[d].queue_bytes = 512 * 1024;
    }
    sim_app app;
    sim_app_init(&app, nreq, size, parallel);
    sim_start(&s);
    qc_ts t0 = s.now;
    bool done = sim_run(&s, s.now + 600 * QC_SEC, sim_app_step, &app);
    qc_conn_stats st;
    qc_conn_get_stats(s.server, &st);
    printf("seed %llu loss %.2f: %zu x %llu bytes in %.3f s virtual, datagrams c->s %llu (lost "
           "%llu) s->c %llu (lost %llu), server pkts lost %llu, srtt %.1f ms, cwnd %llu\n",
           (unsigned long long)seed, loss, nreq, (unsigned long long)size,
           (double)(s.now - t0) / 1e9, (unsigned long long)s.dgrams[0],
           (unsigned long long)s.dropped[0], (unsigned long long)s.dgrams[1],
           (unsigned long long)s.dropped[1], (unsigned long long)st.pkts_lost,
           (double)st.srtt / 1e6, (unsigned long long)st.cwnd);
    CHECK(done);
    CHECK_EQ(app.failed, 0);
    CHECK_EQ(app.completed, nreq);
    for (size_t i = 0; i < nreq; i++)
        CHECK_U64(app.reqs[i].got, size);
    *ok = done && app.failed == 0;
    if (!*ok)
        fprintf(stderr, "transfer seed %llu loss %.2f: completed %zu failed %zu\n",
                (unsigned long long)seed, loss, app.completed, app.failed);
    /* The receiver sends mostly ACK-only packets; their records must not pile up. */
    if (s.client) CHECK(s.client->rec.sent[QC_PNS_APP].count < 256);
    uint64_t trace = s.trace;
    sim_app_free(&app);
    sim_free(&s);
    return trace;
}

static void test_10mb_no_loss(void) {
    bool ok;
    transfer(7, 0.0, 1, 10u << 20, 1, &ok);
    CHECK(ok);
}

static void test_10mb_5pct_loss(void) {
    bool ok;
    transfer(8, 0.05, 1, 10u << 20, 1, &ok);
    CHECK(ok);
}

static void test_10mb_20pct_loss(void) {
    bool ok;
    transfer(9, 0.20, 1, 10u << 20, 1, &ok);
    CHECK(ok);
}

static void test_1000_small_streams(void) {
    bool ok;
    transfer(10, 0.02, 1000, 1000, 0, &ok);
    CHECK(ok);
}

/* The receiver's connection window (64 KiB, no auto-tuning) is smaller than its stream windows:
 * the sender stops for the connection's limit again and again and must resume on each MAX_DATA
 * (regression: a stream blocked only by the connection limit was never rescheduled). */
static void test_connection_window_limit(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 13, "sim"), 0);
    s.ccfg.initial_max_data = s.ccfg.max_data_window = 64 * 1024;
    sim_app app;
    sim_app_init(&app, 3, 2u << 20, 3);
    sim_start(&s);
    CHECK(sim_run(&s, s.now + 120 * QC_SEC, sim_app_step, &app));
    CHECK_EQ(app.completed, 3);
    CHECK_EQ(app.failed, 0);
    sim_app_free(&app);
    sim_free(&s);
}

static void test_reproducible(void) {
    bool ok1, ok2;
    uint64_t a = transfer(11, 0.05, 4, 256 * 1024, 4, &ok1);
    uint64_t b = transfer(11, 0.05, 4, 256 * 1024, 4, &ok2);
    CHECK(ok1 && ok2);
    CHECK_U64(a, b);
}

int main(void) {
    TEST_RUN(test_10mb_no_loss);
    TEST_RUN(test_10mb_5pct_loss);
    TEST_RUN(test_10mb_20pct_loss);
    TEST_RUN(test_1000_small_streams);
    TEST_RUN(test_connection_window_limit);
    TEST_RUN(test_reproducible);
    return test_summary();
}
