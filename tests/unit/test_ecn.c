/* Unit tests for ecn.c: ECN validation (RFC 9000 §13.4.2) through each way it succeeds and
 * each way it fails, the codepoint it asks for in each state, and counts per space. */
#include "core/ecn.h"
#include "unit/test.h"

static const uint64_t *counts(uint64_t ect0, uint64_t ect1, uint64_t ce) {
    static uint64_t c[3];
    c[0] = ect0, c[1] = ect1, c[2] = ce;
    return c;
}

static void test_capable(void) {
    qc_ecn e;
    qc_ecn_init(&e, true);
    CHECK_EQ(e.state, QC_ECN_TESTING);
    CHECK_EQ(qc_ecn_mark(&e), QC_ECN_ECT0);
    for (int i = 0; i < 5; i++)
        qc_ecn_on_sent(&e, true);
    CHECK_U64(e.marked_sent, 5);
    /* An ACK that acknowledges nothing marked decides nothing. */
    qc_ecn_on_ack(&e, QC_PNS_INITIAL, 0, NULL);
    CHECK_EQ(e.state, QC_ECN_TESTING);
    /* Three marked packets acknowledged, counted as two ECT(0) and one CE: capable. */
    qc_ecn_on_ack(&e, QC_PNS_APP, 3, counts(2, 0, 1));
    CHECK_EQ(e.state, QC_ECN_CAPABLE);
    CHECK_EQ(qc_ecn_mark(&e), QC_ECN_ECT0);
    CHECK_U64(e.peer[QC_PNS_APP][2], 1);
    /* Counts that cover more than the ACK newly acknowledges (an earlier ACK was lost). */
    qc_ecn_on_ack(&e, QC_PNS_APP, 1, counts(6, 0, 1));
    CHECK_EQ(e.state, QC_ECN_CAPABLE);
    /* Another space keeps counts of its own. */
    qc_ecn_on_ack(&e, QC_PNS_HANDSHAKE, 2, counts(2, 0, 0));
    CHECK_EQ(e.state, QC_ECN_CAPABLE);
    CHECK_U64(e.peer[QC_PNS_HANDSHAKE][0], 2);
    CHECK_U64(e.peer[QC_PNS_APP][0], 6);
    /* Losses after validation change nothing. */
    for (int i = 0; i < 20; i++)
        qc_ecn_on_lost(&e, true);
    CHECK_EQ(e.state, QC_ECN_CAPABLE);
}

/* Each failure turns marking off for good. */
static void test_failures(void) {
    struct {
        uint64_t newly;
        bool with_counts;
        uint64_t c[3];
        const char *why;
    } cases[] = {
        {2, false, {0, 0, 0}, "ACK without ECN counts"},
        {3, true, {1, 0, 1}, "fewer ECN marks counted than ECT(0) packets acknowledged"},
        {1, true, {1, 1, 0}, "ECT(1) counted, never sent"},
    };
    for (size_t i = 0; i < QC_ARRAY_LEN(cases); i++) {
        qc_ecn e;
        qc_ecn_init(&e, true);
        qc_ecn_on_sent(&e, true);
        qc_ecn_on_ack(&e, QC_PNS_APP, cases[i].newly, cases[i].with_counts ? cases[i].c : NULL);
        CHECK_EQ(e.state, QC_ECN_FAILED);
        CHECK(e.why && strcmp(e.why, cases[i].why) == 0);
        CHECK_EQ(qc_ecn_mark(&e), QC_ECN_NOT_ECT);
        /* Failed stays failed, whatever comes. */
        qc_ecn_on_ack(&e, QC_PNS_APP, 1, counts(100, 0, 0));
        CHECK_EQ(e.state, QC_ECN_FAILED);
    }
    /* Counts that go down, after a capable start. */
    qc_ecn e;
    qc_ecn_init(&e, true);
    qc_ecn_on_ack(&e, QC_PNS_APP, 2, counts(2, 0, 0));
    CHECK_EQ(e.state, QC_ECN_CAPABLE);
    qc_ecn_on_ack(&e, QC_PNS_APP, 0, counts(1, 0, 0));
    CHECK_EQ(e.state, QC_ECN_FAILED);
    CHECK(strcmp(e.why, "ECN counts went down") == 0);
    /* Every marked packet lost while testing. */
    qc_ecn_init(&e, true);
    for (int i = 0; i < QC_ECN_TEST_LOSSES - 1; i++)
        qc_ecn_on_lost(&e, true);
    qc_ecn_on_lost(&e, false); /* unmarked losses do not count */
    CHECK_EQ(e.state, QC_ECN_TESTING);
    qc_ecn_on_lost(&e, true);
    CHECK_EQ(e.state, QC_ECN_FAILED);
    CHECK(strcmp(e.why, "every ECT(0) packet lost") == 0);
    /* ... but not once one got through. */
    qc_ecn_init(&e, true);
    qc_ecn_on_ack(&e, QC_PNS_INITIAL, 0, counts(0, 0, 0));
    e.marked_acked = 1;
    for (int i = 0; i < 3 * QC_ECN_TEST_LOSSES; i++)
        qc_ecn_on_lost(&e, true);
    CHECK_EQ(e.state, QC_ECN_TESTING);
    /* Unmarked packets acknowledged by an ACK without counts: nothing to judge. */
    qc_ecn_init(&e, true);
    qc_ecn_on_ack(&e, QC_PNS_APP, 0, NULL);
    CHECK_EQ(e.state, QC_ECN_TESTING);
}

static void test_disabled(void) {
    qc_ecn e;
    qc_ecn_init(&e, false);
    CHECK_EQ(e.state, QC_ECN_DISABLED);
    CHECK_EQ(qc_ecn_mark(&e), QC_ECN_NOT_ECT);
    qc_ecn_on_ack(&e, QC_PNS_APP, 0, counts(5, 0, 0));
    qc_ecn_on_lost(&e, false);
    CHECK_EQ(e.state, QC_ECN_DISABLED);
}

int main(void) {
    TEST_RUN(test_capable);
    TEST_RUN(test_failures);
    TEST_RUN(test_disabled);
    return test_summary();
}
