/* Unit tests for token.c: Retry and NEW_TOKEN tokens bound to an address and an age, and
 * stateless reset tokens. */
#include "core/token.h"
#include "tls/tls.h"
#include "unit/test.h"

static const uint8_t secret[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t addr[] = {2, 127, 0, 0, 1, 0x11, 0x5c};
static const uint8_t other[] = {2, 127, 0, 0, 1, 0x11, 0x5d};
static const uint8_t nonce[12] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 1};

static void test_retry_token(void) {
    qc_token_key k;
    CHECK_EQ(qc_token_key_init(&k, &qc_gnutls_crypto, secret), 0);
    qc_cid od = {.len = 16}, rs = {.len = 8};
    memset(od.id, 0xab, 16);
    memset(rs.id, 0xcd, 8);
    uint8_t tok[QC_TOKEN_MAX_LEN];
    qc_ts t0 = 1000 * QC_SEC;
    int n = qc_token_mint(&k, QC_TOKEN_RETRY, addr, sizeof(addr), &od, &rs, t0, nonce, tok,
                          sizeof(tok));
    CHECK(n > 0);
    enum qc_token_kind kind;
    qc_cid god, grs;
    CHECK_EQ(qc_token_check(&k, tok, (size_t)n, addr, sizeof(addr), t0 + QC_SEC, 10 * QC_SEC, &kind,
                            &god, &grs),
             0);
    CHECK_EQ(kind, QC_TOKEN_RETRY);
    CHECK(qc_cid_eq(&god, &od));
    CHECK(qc_cid_eq(&grs, &rs));
    /* Another address, an expired or future token, a flipped bit: all invalid. */
    CHECK_EQ(qc_token_check(&k, tok, (size_t)n, other, sizeof(other), t0, 10 * QC_SEC, &kind, &god,
                            &grs),
             QC_ERR_INVALID_TOKEN);
    CHECK_EQ(qc_token_check(&k, tok, (size_t)n, addr, sizeof(addr), t0 + 11 * QC_SEC, 10 * QC_SEC,
                            &kind, &god, &grs),
             QC_ERR_INVALID_TOKEN);
    CHECK_EQ(qc_token_check(&k, tok, (size_t)n, addr, sizeof(addr), t0 - 1, 10 * QC_SEC, &kind,
                            &god, &grs),
             QC_ERR_INVALID_TOKEN);
    for (int i = 0; i < n; i++) {
        tok[i] ^= 0x20;
        CHECK_EQ(qc_token_check(&k, tok, (size_t)n, addr, sizeof(addr), t0, 10 * QC_SEC, &kind,
                                &god, &grs),
                 QC_ERR_INVALID_TOKEN);
        tok[i] ^= 0x20;
    }
    for (int cut = 0; cut < n; cut++)
        CHECK_EQ(qc_token_check(&k, tok, (size_t)cut, addr, sizeof(addr), t0, 10 * QC_SEC, &kind,
                                &god, &grs),
                 QC_ERR_INVALID_TOKEN);
    /* A different secret cannot open it. */
    qc_token_key k2;
    uint8_t s2[32];
    memcpy(s2, secret, 32);
    s2[0] ^= 1;
    CHECK_EQ(qc_token_key_init(&k2, &qc_gnutls_crypto, s2), 0);
    CHECK_EQ(
        qc_token_check(&k2, tok, (size_t)n, addr, sizeof(addr), t0, 10 * QC_SEC, &kind, &god, &grs),
        QC_ERR_INVALID_TOKEN);
    CHECK_EQ(qc_token_mint(&k, QC_TOKEN_RETRY, addr, sizeof(addr), &od, &rs, t0, nonce, tok, 20),
             QC_ERR_NOBUF);
    qc_token_key_free(&k2);
    qc_token_key_free(&k);
}

static void test_new_token(void) {
    qc_token_key k;
    CHECK_EQ(qc_token_key_init(&k, &qc_gnutls_crypto, secret), 0);
    uint8_t tok[QC_TOKEN_MAX_LEN];
    int n = qc_token_mint(&k, QC_TOKEN_NEW, addr, sizeof(addr), NULL, NULL, 5 * QC_SEC, nonce, tok,
                          sizeof(tok));
    CHECK_EQ(n, 12 + 9 + 16);
    enum qc_token_kind kind = 0;
    qc_cid a, b;
    CHECK_EQ(qc_token_check(&k, tok, (size_t)n, addr, sizeof(addr), 3600 * QC_SEC,
                            24 * 3600 * QC_SEC, &kind, &a, &b),
             0);
    CHECK_EQ(kind, QC_TOKEN_NEW);
    qc_token_key_free(&k);
}

static void test_stateless_reset_token(void) {
    qc_token_key k;
    CHECK_EQ(qc_token_key_init(&k, &qc_gnutls_crypto, secret), 0);
    qc_cid c1 = {.len = 8}, c2 = {.len = 8};
    memset(c1.id, 1, 8);
    memset(c2.id, 2, 8);
    uint8_t t1[16], t1b[16], t2[16];
    CHECK_EQ(qc_token_stateless_reset(&k, &c1, t1), 0);
    CHECK_EQ(qc_token_stateless_reset(&k, &c1, t1b), 0);
    CHECK_EQ(qc_token_stateless_reset(&k, &c2, t2), 0);
    CHECK_MEM(t1, t1b, 16);
    CHECK(memcmp(t1, t2, 16) != 0);
    qc_token_key_free(&k);
}

int main(void) {
    TEST_RUN(test_retry_token);
    TEST_RUN(test_new_token);
    TEST_RUN(test_stateless_reset_token);
    return test_summary();
}
