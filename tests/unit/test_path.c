/* Unit tests for path.c: path validation (RFC 9000 §8.2) through success, a late answer to
 * the challenge before a retransmission, failure at the timer, and abandonment; answers that
 * do not match change nothing; address comparisons. Also qc_cids_rotate (cid.c). */
#include "core/cid.h"
#include "core/path.h"
#include "unit/test.h"

static const uint8_t R1[8] = {1, 2, 3, 4, 5, 6, 7, 8}, R2[8] = {9, 9, 9, 9, 9, 9, 9, 9},
                     R3[8] = {7, 7, 7, 7, 7, 7, 7, 7};

static void test_validates(void) {
    qc_path_validation v = {0};
    CHECK_EQ(v.state, QC_PATH_NONE);
    CHECK_U64(qc_path_validation_timer(&v), QC_TS_NONE);
    qc_path_validation_start(&v, R1, 1000, 3000);
    CHECK_EQ(v.state, QC_PATH_VALIDATING);
    CHECK(v.challenge_pending);
    CHECK_U64(qc_path_validation_timer(&v), 4000);
    qc_path_validation_sent(&v, 1100, 500);
    CHECK(!v.challenge_pending);
    CHECK_U64(qc_path_validation_timer(&v), 1600);
    CHECK(!qc_path_validation_response(&v, R2)); /* not ours */
    CHECK_EQ(v.state, QC_PATH_VALIDATING);
    CHECK(qc_path_validation_response(&v, R1));
    CHECK_EQ(v.state, QC_PATH_VALIDATED);
    CHECK_U64(qc_path_validation_timer(&v), QC_TS_NONE);
    CHECK(!qc_path_validation_response(&v, R1)); /* once only */
}

static void test_rechallenge_and_late_answer(void) {
    qc_path_validation v = {0};
    qc_path_validation_start(&v, R1, 0, 3000);
    qc_path_validation_sent(&v, 0, 500);
    CHECK(!qc_path_validation_timeout(&v, R2, 499));
    CHECK(!v.challenge_pending);
    CHECK(!qc_path_validation_timeout(&v, R2, 500)); /* a new challenge with new data */
    CHECK(v.challenge_pending);
    CHECK_MEM(v.challenge, R2, 8);
    qc_path_validation_sent(&v, 500, 500);
    CHECK_U64(v.challenges, 2);
    /* The answer to the first challenge arrives late: it still counts. */
    CHECK(qc_path_validation_response(&v, R1));
    CHECK_EQ(v.state, QC_PATH_VALIDATED);
}

static void test_fails_and_abandon(void) {
    qc_path_validation v = {0};
    qc_path_validation_start(&v, R1, 0, 3000);
    qc_path_validation_sent(&v, 0, 1000);
    CHECK(!qc_path_validation_timeout(&v, R2, 1000));
    qc_path_validation_sent(&v, 1000, 1000);
    CHECK(!qc_path_validation_timeout(&v, R3, 2000));
    qc_path_validation_sent(&v, 2000, 1000);
    /* Only the latest two challenges are remembered. */
    CHECK(!qc_path_validation_timeout(&v, R1, 2999));
    CHECK(qc_path_validation_timeout(&v, R1, 3000));
    CHECK_EQ(v.state, QC_PATH_FAILED);
    CHECK(!qc_path_validation_response(&v, R3)); /* too late */
    CHECK_EQ(v.state, QC_PATH_FAILED);
    qc_path_validation_start(&v, R2, 5000, 3000);
    qc_path_validation_abandon(&v);
    CHECK_EQ(v.state, QC_PATH_NONE);
    CHECK_U64(qc_path_validation_timer(&v), QC_TS_NONE);
    CHECK(!qc_path_validation_response(&v, R2));
}

static void test_addresses(void) {
    qc_path_addr a = {.ip = {10, 0, 0, 1}, .ip_len = 4, .port = 443}, b = a;
    CHECK(qc_path_addr_eq(&a, &b));
    b.port = 444;
    CHECK(!qc_path_addr_eq(&a, &b));
    CHECK(qc_path_addr_same_ip(&a, &b));
    b.ip[3] = 2;
    CHECK(!qc_path_addr_same_ip(&a, &b));
    qc_path_addr v6 = {.ip_len = 16, .port = 443};
    CHECK(!qc_path_addr_same_ip(&a, &v6));
}

static void test_cid_rotate(void) {
    qc_cids c;
    qc_cid l0 = {.len = 8, .id = {1}}, p0 = {.len = 8, .id = {2}}, p1 = {.len = 8, .id = {3}},
           p2 = {.len = 8, .id = {4}};
    uint8_t tok[16] = {0};
    qc_cids_init(&c, &l0, &p0);
    CHECK(!qc_cids_rotate(&c)); /* no spare */
    CHECK_EQ(qc_cids_on_new(&c, 2, 0, &p2, tok), 0);
    tok[0] = 1;
    CHECK_EQ(qc_cids_on_new(&c, 1, 0, &p1, tok), 0);
    CHECK(qc_cids_rotate(&c)); /* to the lowest sequence number: 1 */
    CHECK(qc_cid_eq(qc_cids_peer_current(&c), &p1));
    CHECK_EQ(c.nretire, 1);
    CHECK_U64(c.retire_pending[0], 0);
    CHECK(qc_cids_rotate(&c));
    CHECK(qc_cid_eq(qc_cids_peer_current(&c), &p2));
    CHECK(!qc_cids_rotate(&c));
}

int main(void) {
    TEST_RUN(test_validates);
    TEST_RUN(test_rechallenge_and_late_answer);
    TEST_RUN(test_fails_and_abandon);
    TEST_RUN(test_addresses);
    TEST_RUN(test_cid_rotate);
    return test_summary();
}
