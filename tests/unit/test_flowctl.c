/* Unit tests for flowctl.c: limits, window updates, auto-tuning and BLOCKED reporting. */
#include "core/flowctl.h"
#include "unit/test.h"

static void test_recv_limit(void) {
    qc_fc_recv fc;
    qc_fc_recv_init(&fc, 1000, 8000);
    CHECK_U64(fc.max, 1000);
    CHECK_U64(fc.window, 1000);
    CHECK_U64(fc.max_window, 8000);
    CHECK_U64(fc.last_update, QC_TS_NONE);
    CHECK(!fc.update_pending);
    CHECK_EQ(qc_fc_recv_on_data(&fc, 400), 0);
    CHECK_U64(fc.highest, 400);
    CHECK_EQ(qc_fc_recv_on_data(&fc, 300), 0); /* retransmission below: no change */
    CHECK_U64(fc.highest, 400);
    CHECK_EQ(qc_fc_recv_on_data(&fc, 1000), 0); /* exactly at the limit */
    CHECK_U64(fc.highest, 1000);
    CHECK_EQ(qc_fc_recv_on_data(&fc, 1001), QC_ERR_FLOW_CONTROL);
    CHECK_U64(fc.highest, 1000);
    CHECK_EQ(qc_fc_recv_on_data(&fc, UINT64_MAX), QC_ERR_FLOW_CONTROL);
}

/* update_pending once less than half of the window is left unconsumed. */
static void test_recv_update_pending(void) {
    qc_fc_recv fc;
    qc_fc_recv_init(&fc, 1000, 1000);
    CHECK_EQ(qc_fc_recv_on_data(&fc, 1000), 0);
    CHECK(!fc.update_pending); /* received is not consumed */
    qc_fc_recv_consume(&fc, 500);
    CHECK(!fc.update_pending); /* exactly half left */
    qc_fc_recv_consume(&fc, 1);
    CHECK(fc.update_pending);
    CHECK_U64(qc_fc_recv_update(&fc, 10 * QC_MS, 100 * QC_MS), 1501);
    CHECK_U64(fc.max, 1501);
    CHECK_U64(fc.window, 1000); /* first update: no history, no tuning */
    CHECK_U64(fc.last_update, 10 * QC_MS);
    CHECK(!fc.update_pending);
    CHECK_EQ(qc_fc_recv_on_data(&fc, 1501), 0);
    CHECK_EQ(qc_fc_recv_on_data(&fc, 1502), QC_ERR_FLOW_CONTROL);
}

/* Updates needed within 4 * srtt double the window, up to max_window. */
static void test_recv_autotune(void) {
    qc_fc_recv fc;
    qc_fc_recv_init(&fc, 1000, 3000);
    qc_ts srtt = 10 * QC_MS, now = QC_SEC;
    qc_fc_recv_consume(&fc, 600);
    CHECK(fc.update_pending);
    CHECK_U64(qc_fc_recv_update(&fc, now, srtt), 1600);
    /* Next one needed 39 ms later (< 40 ms): double. */
    qc_fc_recv_consume(&fc, 600);
    CHECK(fc.update_pending);
    now += 39 * QC_MS;
    CHECK_U64(qc_fc_recv_update(&fc, now, srtt), 1200 + 2000);
    CHECK_U64(fc.window, 2000);
    /* Again fast: doubling capped at 3000. */
    qc_fc_recv_consume(&fc, 1100);
    CHECK(fc.update_pending);
    now += 1 * QC_MS;
    CHECK_U64(qc_fc_recv_update(&fc, now, srtt), 2300 + 3000);
    CHECK_U64(fc.window, 3000);
    qc_fc_recv_consume(&fc, 2000);
    now += 1 * QC_MS;
    CHECK_U64(qc_fc_recv_update(&fc, now, srtt), 4300 + 3000);
    CHECK_U64(fc.window, 3000);
    /* Exactly 4 * srtt later: not "less than", no growth. */
    qc_fc_recv init2;
    qc_fc_recv_init(&init2, 1000, 100000);
    qc_fc_recv_consume(&init2, 600);
    qc_fc_recv_update(&init2, QC_SEC, srtt);
    qc_fc_recv_consume(&init2, 600);
    CHECK_U64(qc_fc_recv_update(&init2, QC_SEC + 4 * srtt, srtt), 1200 + 1000);
    CHECK_U64(init2.window, 1000);
    qc_fc_recv_consume(&init2, 600);
    CHECK_U64(qc_fc_recv_update(&init2, QC_SEC + 8 * srtt - 1, srtt), 1800 + 2000);
    CHECK_U64(init2.window, 2000);
}

/* The advertised limit never shrinks and never exceeds 2^62 - 1. */
static void test_recv_limits_monotonic(void) {
    qc_fc_recv fc;
    qc_fc_recv_init(&fc, 1000, 500); /* cap below window: window kept */
    CHECK_U64(fc.max_window, 1000);
    CHECK_U64(qc_fc_recv_update(&fc, 0, QC_MS), 1000); /* nothing consumed */
    qc_fc_recv_init(&fc, QC_MAX_VARINT, QC_MAX_VARINT);
    qc_fc_recv_consume(&fc, QC_MAX_VARINT);
    CHECK(!fc.update_pending); /* cannot grow any further */
    CHECK_U64(qc_fc_recv_update(&fc, 0, QC_MS), QC_MAX_VARINT);
}

static void test_send(void) {
    qc_fc_send fc;
    qc_fc_send_init(&fc, 1000);
    CHECK_U64(fc.blocked_at, UINT64_MAX);
    CHECK_U64(qc_fc_send_avail(&fc), 1000);
    CHECK(!qc_fc_send_should_report_blocked(&fc));
    fc.used = 999;
    CHECK_U64(qc_fc_send_avail(&fc), 1);
    CHECK(!qc_fc_send_should_report_blocked(&fc));
    fc.used = 1000;
    CHECK_U64(qc_fc_send_avail(&fc), 0);
    CHECK(qc_fc_send_should_report_blocked(&fc));
    qc_fc_send_blocked_reported(&fc);
    CHECK_U64(fc.blocked_at, 1000);
    CHECK(!qc_fc_send_should_report_blocked(&fc)); /* once per limit */
    qc_fc_send_on_max(&fc, 900);                   /* smaller: ignored */
    CHECK_U64(fc.max, 1000);
    CHECK(!qc_fc_send_should_report_blocked(&fc));
    qc_fc_send_on_max(&fc, 2000);
    CHECK_U64(fc.max, 2000);
    CHECK_U64(qc_fc_send_avail(&fc), 1000);
    CHECK(!qc_fc_send_should_report_blocked(&fc));
    fc.used = 2000;
    CHECK(qc_fc_send_should_report_blocked(&fc)); /* new limit: report again */
    qc_fc_send_blocked_reported(&fc);
    CHECK(!qc_fc_send_should_report_blocked(&fc));
}

int main(void) {
    TEST_RUN(test_recv_limit);
    TEST_RUN(test_recv_update_pending);
    TEST_RUN(test_recv_autotune);
    TEST_RUN(test_recv_limits_monotonic);
    TEST_RUN(test_send);
    return test_summary();
}
