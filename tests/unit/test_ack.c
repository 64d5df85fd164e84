/* test_ack.c: received-packet tracking, ACK scheduling and ACK frame bytes. */
#include "core/ack.h"
#include "unit/test.h"

#define MAD (25 * QC_MS)

static void test_in_order_delayed(void) {
    qc_ack_tracker t;
    qc_ack_init(&t);
    CHECK_U64(qc_ack_deadline(&t), QC_TS_NONE);
    CHECK(!qc_ack_should_send(&t, 0));
    CHECK_EQ(qc_ack_on_packet(&t, 0, true, false, 1000, MAD), 0);
    CHECK_U64(qc_ack_deadline(&t), 1000 + MAD);
    CHECK(!t.ack_now);
    CHECK(qc_ack_should_send(&t, 1000)); /* piggyback */
    CHECK_U64(t.largest, 0);
    CHECK_U64(t.largest_time, 1000);
    /* The deadline is not pushed back by later packets. */
    qc_ack_tracker u;
    qc_ack_init(&u);
    CHECK_EQ(qc_ack_on_packet(&u, 0, true, false, 1000, MAD), 0);
    CHECK_EQ(qc_ack_on_packet(&u, 1, false, false, 2000, MAD), 0);
    CHECK_U64(qc_ack_deadline(&u), 1000 + MAD);
    CHECK_U64(u.largest_time, 2000);
    qc_ack_free(&u);
    /* Second ack-eliciting packet: immediate. */
    CHECK_EQ(qc_ack_on_packet(&t, 1, true, false, 3000, MAD), 0);
    CHECK(t.ack_now);
    CHECK_U64(qc_ack_deadline(&t), 3000);
    CHECK_EQ(t.unacked_eliciting, 2);
    qc_ack_free(&t);
}

static void test_every_second_eliciting(void) {
    qc_ack_tracker t;
    qc_ack_init(&t);
    uint8_t buf[64];
    uint64_t largest;
    for (uint64_t pn = 0; pn < 6; pn++) {
        CHECK_EQ(qc_ack_on_packet(&t, pn, true, false, pn * 10, MAD), 0);
        if (pn % 2 == 0) {
            CHECK_U64(qc_ack_deadline(&t), pn * 10 + MAD);
            CHECK(!t.ack_now);
        } else {
            CHECK_U64(qc_ack_deadline(&t), pn * 10);
            CHECK(t.ack_now);
            qc_wr w = qc_wr_init(buf, sizeof(buf));
            CHECK_EQ(qc_ack_write(&t, &w, pn * 10, 3, &largest), 0);
            CHECK_U64(largest, pn);
            CHECK_U64(qc_ack_deadline(&t), QC_TS_NONE);
            CHECK(!qc_ack_should_send(&t, pn * 10));
        }
    }
    qc_ack_free(&t);
}

static void test_non_eliciting(void) {
    qc_ack_tracker t;
    qc_ack_init(&t);
    for (uint64_t pn = 0; pn < 5; pn++)
        CHECK_EQ(qc_ack_on_packet(&t, pn, false, false, 100, MAD), 0);
    /* Out of order, but not ack-eliciting: still no ACK of its own. */
    CHECK_EQ(qc_ack_on_packet(&t, 9, false, true, 100, MAD), 0);
    CHECK_U64(qc_ack_deadline(&t), QC_TS_NONE);
    CHECK(!t.ack_now);
    CHECK_EQ(t.unacked_eliciting, 0);
    CHECK(t.ack_needed);
    CHECK(qc_ack_should_send(&t, 100)); /* may piggyback */
    CHECK_U64(t.largest, 9);
    qc_ack_free(&t);
}

static void test_out_of_order_immediate(void) {
    qc_ack_tracker t;
    qc_ack_init(&t);
    uint8_t buf[64];
    qc_wr w;
    CHECK_EQ(qc_ack_on_packet(&t, 0, true, false, 100, MAD), 0);
    w = qc_wr_init(buf, sizeof(buf));
    CHECK_EQ(qc_ack_write(&t, &w, 100, 3, NULL), 0);
    /* Gap above the largest: immediate. */
    CHECK_EQ(qc_ack_on_packet(&t, 2, true, false, 200, MAD), 0);
    CHECK(t.ack_now);
    CHECK_U64(qc_ack_deadline(&t), 200);
    w = qc_wr_init(buf, sizeof(buf));
    CHECK_EQ(qc_ack_write(&t, &w, 200, 3, NULL), 0);
    /* Filling the gap (below the largest): immediate. */
    CHECK_EQ(qc_ack_on_packet(&t, 1, true, false, 300, MAD), 0);
    CHECK(t.ack_now);
    CHECK_U64(qc_ack_deadline(&t), 300);
    CHECK_U64(t.largest, 2);
    CHECK_U64(t.largest_time, 200);
    CHECK_EQ(t.received.n, 1);
    w = qc_wr_init(buf, sizeof(buf));
    CHECK_EQ(qc_ack_write(&t, &w, 300, 3, NULL), 0);
    /* In order again: delayed. */
    CHECK_EQ(qc_ack_on_packet(&t, 3, true, false, 400, MAD), 0);
    CHECK(!t.ack_now);
    CHECK_U64(qc_ack_deadline(&t), 400 + MAD);
    /* immediate flag (Initial/Handshake). */
    qc_ack_tracker u;
    qc_ack_init(&u);
    CHECK_EQ(qc_ack_on_packet(&u, 0, true, true, 50, MAD), 0);
    CHECK(u.ack_now);
    CHECK_U64(qc_ack_deadline(&u), 50);
    qc_ack_free(&u);
    qc_ack_free(&t);
}

static void test_duplicates(void) {
    qc_ack_tracker t;
    qc_ack_init(&t);
    CHECK(!qc_ack_is_duplicate(&t, 0));
    CHECK_EQ(qc_ack_on_packet(&t, 5, true, false, 100, MAD), 0);
    CHECK(qc_ack_is_duplicate(&t, 5));
    CHECK(!qc_ack_is_duplicate(&t, 4));
    CHECK(!qc_ack_is_duplicate(&t, 6));
    /* Recording a duplicate changes nothing. */
    CHECK_EQ(qc_ack_on_packet(&t, 5, true, false, 200, MAD), 0);
    CHECK_EQ(t.unacked_eliciting, 1);
    CHECK_U64(t.largest_time, 100);
    CHECK(!t.ack_now);
    CHECK_EQ(qc_ack_on_packet(&t, QC_MAX_VARINT + 1, true, false, 200, MAD), QC_ERR_INVAL);
    qc_ack_free(&t);
}

static void test_range_cap(void) {
    qc_ack_tracker t;
    qc_ack_init(&t);
    for (uint64_t i = 0; i < QC_ACK_MAX_RANGES; i++)
        CHECK_EQ(qc_ack_on_packet(&t, 2 * i, true, false, 100, MAD), 0);
    CHECK_EQ(t.received.n, QC_ACK_MAX_RANGES);
    CHECK_U64(t.floor, 0);
    CHECK(!qc_ack_is_duplicate(&t, 1));
    /* Filling a gap merges: nothing is dropped. */
    CHECK_EQ(qc_ack_on_packet(&t, 1, true, false, 100, MAD), 0);
    CHECK_EQ(t.received.n, QC_ACK_MAX_RANGES - 1);
    CHECK_EQ(qc_ack_on_packet(&t, 2 * QC_ACK_MAX_RANGES, true, false, 100, MAD), 0);
    CHECK_EQ(t.received.n, QC_ACK_MAX_RANGES);
    CHECK_U64(t.floor, 0);
    /* One more range: the oldest ([0,2]) goes, the floor rises to 4. */
    CHECK_EQ(qc_ack_on_packet(&t, 2 * QC_ACK_MAX_RANGES + 2, true, false, 100, MAD), 0);
    CHECK_EQ(t.received.n, QC_ACK_MAX_RANGES);
    CHECK_U64(t.received.r[0].lo, 4);
    CHECK_U64(t.floor, 4);
    CHECK(qc_ack_is_duplicate(&t, 0));
    CHECK(qc_ack_is_duplicate(&t, 3));
    CHECK(qc_ack_is_duplicate(&t, 4));
    CHECK(!qc_ack_is_duplicate(&t, 5));
    /* Below the floor: ignored as a duplicate. */
    CHECK_EQ(qc_ack_on_packet(&t, 3, true, false, 100, MAD), 0);
    CHECK_U64(t.received.r[0].lo, 4);
    CHECK_EQ(t.received.n, QC_ACK_MAX_RANGES);
    qc_ack_free(&t);
}

/* Received {0-2, 5-7, 10}, largest at t0, written 800 us later with exponent 3. */
static void fill3(qc_ack_tracker *t, qc_ts t0) {
    static const uint64_t pns[] = {0, 1, 2, 5, 6, 7};
    for (size_t i = 0; i < QC_ARRAY_LEN(pns); i++)
        CHECK_EQ(qc_ack_on_packet(t, pns[i], true, false, t0 - 1000, MAD), 0);
    CHECK_EQ(qc_ack_on_packet(t, 10, true, false, t0, MAD), 0);
}

static void test_write_bytes(void) {
    qc_ack_tracker t;
    qc_ack_init(&t);
    qc_ts t0 = 5 * QC_SEC;
    fill3(&t, t0);
    uint8_t buf[64], exp[64];
    qc_wr w = qc_wr_init(buf, sizeof(buf));
    uint64_t largest = 0;
    CHECK_EQ(qc_ack_write(&t, &w, t0 + 800 * QC_US + 999, 3, &largest), 0);
    size_t n = test_unhex("02 0a 4064 02 00 0102 0102", exp, sizeof(exp));
    CHECK_EQ(w.p - buf, n);
    CHECK_MEM(buf, exp, n);
    CHECK_U64(largest, 10);
    CHECK_U64(qc_ack_deadline(&t), QC_TS_NONE);
    CHECK(!qc_ack_should_send(&t, t0 + QC_SEC));
    CHECK_EQ(t.unacked_eliciting, 0);

    /* Exponent 0 and ECN counts: type 0x03 and three trailing counts. */
    t.ecn[0] = 1;
    t.ecn[2] = 70;
    w = qc_wr_init(buf, sizeof(buf));
    CHECK_EQ(qc_ack_write(&t, &w, t0 + 800 * QC_US, 0, &largest), 0);
    n = test_unhex("03 0a 4320 02 00 0102 0102 01 00 4046", exp, sizeof(exp));
    CHECK_EQ(w.p - buf, n);
    CHECK_MEM(buf, exp, n);
    qc_ack_free(&t);

    /* Multi-byte values: {0, 100-1000}, written at the arrival time (delay 0). */
    qc_ack_init(&t);
    CHECK_EQ(qc_ack_on_packet(&t, 0, true, false, 10, MAD), 0);
    for (uint64_t pn = 100; pn <= 1000; pn++)
        CHECK_EQ(qc_ack_on_packet(&t, pn, true, false, 20, MAD), 0);
    w = qc_wr_init(buf, sizeof(buf));
    CHECK_EQ(qc_ack_write(&t, &w, 20, 3, &largest), 0);
    n = test_unhex("02 43e8 00 01 4384 4062 00", exp, sizeof(exp));
    CHECK_EQ(w.p - buf, n);
    CHECK_MEM(buf, exp, n);
    CHECK_U64(largest, 1000);
    qc_ack_free(&t);
}

static void test_write_short_buffer(void) {
    qc_ack_tracker t;
    qc_ack_init(&t);
    qc_ts t0 = 5 * QC_SEC;
    fill3(&t, t0);
    uint8_t buf[64], exp[64];
    memset(buf, 0xee, sizeof(buf));
    /* 9 bytes: only the two newest ranges fit (8 bytes). */
    qc_wr w = qc_wr_init(buf, 9);
    uint64_t largest = 0;
    CHECK_EQ(qc_ack_write(&t, &w, t0 + 800 * QC_US, 3, &largest), 0);
    size_t n = test_unhex("02 0a 4064 01 00 0102", exp, sizeof(exp));
    CHECK_EQ(w.p - buf, n);
    CHECK_MEM(buf, exp, n);
    CHECK_EQ(buf[8], 0xee);
    CHECK_U64(largest, 10);
    /* The ranges themselves are kept for the next ACK. */
    CHECK_EQ(t.received.n, 3);

    /* 4 bytes: not even the first range (5 bytes) fits: NOBUF, nothing written. */
    CHECK_EQ(qc_ack_on_packet(&t, 11, true, false, t0, MAD), 0);
    CHECK_EQ(qc_ack_on_packet(&t, 13, true, false, t0, MAD), 0);
    memset(buf, 0xee, sizeof(buf));
    w = qc_wr_init(buf, 4);
    largest = 77;
    CHECK_EQ(qc_ack_write(&t, &w, t0, 3, &largest), QC_ERR_NOBUF);
    CHECK(w.p == buf);
    CHECK_EQ(buf[0], 0xee);
    CHECK_U64(largest, 77);
    CHECK(t.ack_now);
    CHECK_U64(qc_ack_deadline(&t), t0);
    /* Exactly 5 bytes: the first range alone. */
    w = qc_wr_init(buf, 5);
    CHECK_EQ(qc_ack_write(&t, &w, t0, 3, &largest), 0);
    n = test_unhex("02 0d 00 00 00", exp, sizeof(exp));
    CHECK_EQ(w.p - buf, n);
    CHECK_MEM(buf, exp, n);
    qc_ack_free(&t);

    /* Nothing received: nothing to write. */
    qc_ack_init(&t);
    w = qc_wr_init(buf, sizeof(buf));
    CHECK_EQ(qc_ack_write(&t, &w, 0, 3, &largest), QC_ERR_INVAL);
    CHECK(w.p == buf);
    qc_ack_free(&t);
}

static void test_ack_of_ack(void) {
    qc_ack_tracker t;
    qc_ack_init(&t);
    qc_ts t0 = 5 * QC_SEC;
    fill3(&t, t0);
    qc_ack_on_ack_acked(&t, 6);
    CHECK_U64(t.floor, 6);
    CHECK_EQ(t.received.n, 2);
    CHECK(qc_ack_is_duplicate(&t, 3));
    CHECK(qc_ack_is_duplicate(&t, 5));
    CHECK(qc_ack_is_duplicate(&t, 6));
    CHECK(!qc_ack_is_duplicate(&t, 8));
    /* Older or bogus values change nothing. */
    qc_ack_on_ack_acked(&t, 2);
    qc_ack_on_ack_acked(&t, 11);
    qc_ack_on_ack_acked(&t, UINT64_MAX);
    CHECK_U64(t.floor, 6);
    CHECK_EQ(t.received.n, 2);
    uint8_t buf[64], exp[64];
    qc_wr w = qc_wr_init(buf, sizeof(buf));
    CHECK_EQ(qc_ack_write(&t, &w, t0, 3, NULL), 0);
    size_t n = test_unhex("02 0a 00 01 00 01 01", exp, sizeof(exp));
    CHECK_EQ(w.p - buf, n);
    CHECK_MEM(buf, exp, n);
    /* Acknowledging up to the largest keeps the largest. */
    qc_ack_on_ack_acked(&t, 10);
    CHECK_EQ(t.received.n, 1);
    CHECK_U64(t.received.r[0].lo, 10);
    CHECK_U64(t.received.r[0].hi, 10);
    qc_ack_free(&t);
}

int main(void) {
    TEST_RUN(test_in_order_delayed);
    TEST_RUN(test_every_second_eliciting);
    TEST_RUN(test_non_eliciting);
    TEST_RUN(test_out_of_order_immediate);
    TEST_RUN(test_duplicates);
    TEST_RUN(test_range_cap);
    TEST_RUN(test_write_bytes);
    TEST_RUN(test_write_short_buffer);
    TEST_RUN(test_ack_of_ack);
    return test_summary();
}
