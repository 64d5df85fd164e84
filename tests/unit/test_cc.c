/* test_cc.c: NewReno window arithmetic (RFC 9002 §7, Appendix B). */
#include "core/cc.h"
#include "unit/test.h"

static void test_initial_window(void) {
    qc_cc cc;
    qc_cc_init(&cc, &qc_cc_newreno, 1200);
    CHECK_U64(cc.cwnd, 12000);
    CHECK_U64(cc.ssthresh, UINT64_MAX);
    CHECK_U64(cc.bytes_in_flight, 0);
    CHECK_U64(cc.recovery_start, QC_TS_NONE);
    CHECK_U64(qc_cc_avail(&cc), 12000);
    qc_cc_init(&cc, &qc_cc_newreno, 1500);
    CHECK_U64(cc.cwnd, 14720);
    qc_cc_init(&cc, &qc_cc_newreno, 9000);
    CHECK_U64(cc.cwnd, 18000);
    CHECK(strcmp(qc_cc_newreno.name, "newreno") == 0);
}

static void test_avail(void) {
    qc_cc cc;
    qc_cc_init(&cc, &qc_cc_newreno, 1200);
    cc.bytes_in_flight = 11000;
    CHECK_U64(qc_cc_avail(&cc), 1000);
    cc.bytes_in_flight = 13000;
    CHECK_U64(qc_cc_avail(&cc), 0);
}

static void test_slow_start(void) {
    qc_cc cc;
    qc_cc_init(&cc, &qc_cc_newreno, 1200);
    cc.ops->on_sent(&cc, 1200, 0);
    CHECK_U64(cc.cwnd, 12000);
    CHECK_U64(cc.bytes_in_flight, 0); /* the caller owns bytes_in_flight */
    cc.ops->on_acked(&cc, 1200, 1, 10);
    CHECK_U64(cc.cwnd, 13200);
    cc.ops->on_acked(&cc, 500, 2, 10);
    CHECK_U64(cc.cwnd, 13700);
    cc.app_limited = true;
    cc.ops->on_acked(&cc, 1200, 3, 10);
    CHECK_U64(cc.cwnd, 13700);
}

static void test_congestion_once_per_period(void) {
    qc_cc cc;
    qc_cc_init(&cc, &qc_cc_newreno, 1200);
    cc.ops->on_congestion(&cc, 5, 10);
    CHECK_U64(cc.ssthresh, 6000);
    CHECK_U64(cc.cwnd, 6000);
    CHECK_U64(cc.recovery_start, 10);
    /* Packets sent before or at the start of recovery: no new reduction, no growth. */
    cc.ops->on_congestion(&cc, 9, 12);
    cc.ops->on_congestion(&cc, 10, 12);
    CHECK_U64(cc.cwnd, 6000);
    CHECK_U64(cc.recovery_start, 10);
    cc.ops->on_acked(&cc, 1200, 10, 12);
    CHECK_U64(cc.cwnd, 6000);
    /* A packet sent after the recovery start starts a new period. */
    cc.ops->on_congestion(&cc, 11, 20);
    CHECK_U64(cc.cwnd, 3000);
    CHECK_U64(cc.ssthresh, 3000);
    CHECK_U64(cc.recovery_start, 20);
    cc.ops->on_congestion(&cc, 21, 30);
    CHECK_U64(cc.ssthresh, 1500);
    CHECK_U64(cc.cwnd, 2400); /* minimum window */
    cc.ops->on_congestion(&cc, 31, 40);
    CHECK_U64(cc.cwnd, 2400);
    CHECK_U64(cc.ssthresh, 1200);
}

static void test_congestion_avoidance(void) {
    qc_cc cc;
    qc_cc_init(&cc, &qc_cc_newreno, 1200);
    cc.ops->on_congestion(&cc, 0, 100); /* cwnd = ssthresh = 6000 */
    for (int i = 0; i < 4; i++)
        cc.ops->on_acked(&cc, 1200, 200, 300);
    CHECK_U64(cc.cwnd, 6000);
    CHECK_U64(cc.acked_in_ca, 4800);
    cc.ops->on_acked(&cc, 1200, 200, 300); /* 6000 acked: one datagram more */
    CHECK_U64(cc.cwnd, 7200);
    CHECK_U64(cc.acked_in_ca, 0);
    for (int i = 0; i < 6; i++)
        cc.ops->on_acked(&cc, 1200, 200, 300);
    CHECK_U64(cc.cwnd, 8400);
    CHECK_U64(cc.acked_in_ca, 0);
    cc.ops->on_acked(&cc, 1000, 200, 300);
    CHECK_U64(cc.cwnd, 8400);
    CHECK_U64(cc.acked_in_ca, 1000);
    /* A congestion event forgets partial progress. */
    cc.ops->on_congestion(&cc, 400, 500);
    CHECK_U64(cc.cwnd, 4200);
    CHECK_U64(cc.acked_in_ca, 0);
}

static void test_persistent_congestion(void) {
    qc_cc cc;
    qc_cc_init(&cc, &qc_cc_newreno, 1200);
    cc.ops->on_acked(&cc, 12000, 0, 1); /* 24000 */
    cc.ops->on_congestion(&cc, 5, 10);
    CHECK_U64(cc.cwnd, 12000);
    cc.ops->on_persistent_congestion(&cc);
    CHECK_U64(cc.cwnd, 2400);
    CHECK_U64(cc.ssthresh, 12000);
    CHECK_U64(cc.recovery_start, QC_TS_NONE);
    /* Out of recovery: slow start resumes even for packets sent earlier. */
    cc.ops->on_acked(&cc, 1200, 5, 20);
    CHECK_U64(cc.cwnd, 3600);
    cc.ops->on_discarded(&cc, 1200);
    CHECK_U64(cc.cwnd, 3600);
}

int main(void) {
    TEST_RUN(test_initial_window);
    TEST_RUN(test_avail);
    TEST_RUN(test_slow_start);
    TEST_RUN(test_congestion_once_per_period);
    TEST_RUN(test_congestion_avoidance);
    TEST_RUN(test_persistent_congestion);
    return test_summary();
}
