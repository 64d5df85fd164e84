/*
 * test_keys.c: the key schedule (core/keys.c): 1-RTT secrets give current and next keys;
 * an update we start moves our send keys and waits for an acknowledgement of the new
 * phase; the peer's packet of the next phase rotates its receive keys and makes its send
 * keys follow; reordered old-phase packets open with the previous keys until they are
 * dropped; no new update while the last one is unacknowledged or old keys are kept.
 * Two schedules (client and server) check each other's keys.
 */
#include "core/keys.h"
#include "tls/tls.h"
#include "unit/test.h"

#include <string.h>

static const qc_crypto_provider *cp = &qc_gnutls_crypto;

/* The same secret and IV: the two derive the same AEAD and header-protection keys. */
static bool same(const qc_keys *a, const qc_keys *b) {
    return a->secret_len == b->secret_len && memcmp(a->secret, b->secret, a->secret_len) == 0 &&
           memcmp(a->iv, b->iv, QC_IV_LEN) == 0;
}

static void setup(qc_key_schedule *client, qc_key_schedule *server) {
    uint8_t c2s[32], s2c[32];
    for (int i = 0; i < 32; i++) {
        c2s[i] = (uint8_t)i;
        s2c[i] = (uint8_t)(0xa0 + i);
    }
    qc_ks_init(client, qc_version_find(QC_VERSION_1));
    qc_ks_init(server, qc_version_find(QC_VERSION_1));
    enum qc_suite suite = QC_SUITE_AES_128_GCM_SHA256;
    CHECK_EQ(qc_ks_set_secret(client, cp, QC_EPOCH_1RTT, true, suite, c2s, 32), 0);
    CHECK_EQ(qc_ks_set_secret(client, cp, QC_EPOCH_1RTT, false, suite, s2c, 32), 0);
    CHECK_EQ(qc_ks_set_secret(server, cp, QC_EPOCH_1RTT, true, suite, s2c, 32), 0);
    CHECK_EQ(qc_ks_set_secret(server, cp, QC_EPOCH_1RTT, false, suite, c2s, 32), 0);
}

static void test_install(void) {
    qc_key_schedule c, s;
    setup(&c, &s);
    CHECK(c.has_tx[QC_EPOCH_1RTT] && c.has_rx[QC_EPOCH_1RTT] && c.has_next_tx && c.has_next_rx);
    CHECK(same(&c.tx[QC_EPOCH_1RTT], &s.rx[QC_EPOCH_1RTT]));
    CHECK(same(&c.tx_next, &s.rx_next));
    CHECK(!same(&c.tx[QC_EPOCH_1RTT], &c.tx_next)); /* "quic ku" makes new keys */
    CHECK_EQ(qc_ks_timer(&c), QC_TS_NONE);
    /* Installing again replaces (no leak: the ASan build checks). */
    uint8_t other[32] = {1};
    CHECK_EQ(
        qc_ks_set_secret(&c, cp, QC_EPOCH_HANDSHAKE, true, QC_SUITE_AES_128_GCM_SHA256, other, 32),
        0);
    CHECK_EQ(
        qc_ks_set_secret(&c, cp, QC_EPOCH_HANDSHAKE, true, QC_SUITE_AES_128_GCM_SHA256, other, 32),
        0);
    qc_ks_discard(&c, cp, QC_EPOCH_HANDSHAKE);
    CHECK(!c.has_tx[QC_EPOCH_HANDSHAKE]);
    qc_ks_free(&c, cp);
    qc_ks_free(&s, cp);
}

static void test_update_round_trip(void) {
    qc_key_schedule c, s;
    setup(&c, &s);
    qc_keys expect_tx = c.tx_next; /* a copy for comparison only */
    /* The client updates from its packet 10. */
    CHECK_EQ(qc_ks_initiate(&c, cp, 10), 0);
    CHECK(c.tx_phase && c.update_pending);
    CHECK_U64(c.updates, 1);
    CHECK(same(&c.tx[QC_EPOCH_1RTT], &expect_tx));
    CHECK_EQ(qc_ks_initiate(&c, cp, 11), QC_ERR_AGAIN); /* the last one is unacknowledged */
    /* The server gets packet 12 with phase 1: the next generation opens it. */
    bool next = false;
    qc_keys *k = qc_ks_rx_keys(&s, true, 12, &next);
    CHECK(next);
    CHECK(same(k, &c.tx[QC_EPOCH_1RTT]));
    CHECK_EQ(qc_ks_rx_rotate(&s, cp, 12, 7, 1000), 0);
    CHECK(s.rx_phase && s.tx_phase && !s.update_pending);
    CHECK_U64(s.updates, 1);
    CHECK_U64(s.tx_phase_first_pn, 7);
    CHECK(same(&s.rx[QC_EPOCH_1RTT], &c.tx[QC_EPOCH_1RTT]));
    CHECK(same(&s.tx[QC_EPOCH_1RTT], &c.rx_next)); /* its answer opens with our next keys */
    /* A reordered packet of the old phase opens with the previous keys; a later packet with
     * phase 0 would be the phase after next. */
    k = qc_ks_rx_keys(&s, false, 11, &next);
    CHECK(!next);
    CHECK(k == &s.rx_prev);
    k = qc_ks_rx_keys(&s, false, 13, &next);
    CHECK(next);
    k = qc_ks_rx_keys(&s, true, 14, &next);
    CHECK(!next && k == &s.rx[QC_EPOCH_1RTT]);
    /* The client gets the server's phase-1 packet 7: its receive keys follow; its send keys
     * are already there. */
    k = qc_ks_rx_keys(&c, true, 7, &next);
    CHECK(next);
    qc_keys tx_before = c.tx[QC_EPOCH_1RTT];
    CHECK_EQ(qc_ks_rx_rotate(&c, cp, 7, 20, 500), 0);
    CHECK(same(&c.tx[QC_EPOCH_1RTT], &tx_before));
    CHECK_U64(c.updates, 1);
    /* The update ends with an acknowledgement of a packet of the new phase. */
    qc_ks_on_acked(&c, 9);
    CHECK(c.update_pending);
    qc_ks_on_acked(&c, 10);
    CHECK(!c.update_pending);
    /* The old receive keys are kept until their time: no new update before. */
    CHECK_U64(qc_ks_timer(&c), 500);
    CHECK_EQ(qc_ks_initiate(&c, cp, 30), QC_ERR_AGAIN);
    qc_ks_on_timeout(&c, cp, 499);
    CHECK(c.has_rx_prev);
    qc_ks_on_timeout(&c, cp, 500);
    CHECK(!c.has_rx_prev);
    CHECK_EQ(qc_ks_timer(&c), QC_TS_NONE);
    CHECK_EQ(qc_ks_initiate(&c, cp, 30), 0);
    CHECK(!c.tx_phase);
    CHECK_U64(c.updates, 2);
    qc_ks_free(&c, cp);
    qc_ks_free(&s, cp);
}

static void test_no_keys(void) {
    qc_key_schedule ks;
    qc_ks_init(&ks, qc_version_find(QC_VERSION_1));
    CHECK_EQ(qc_ks_initiate(&ks, cp, 0), QC_ERR_AGAIN);
    CHECK_EQ(qc_ks_timer(&ks), QC_TS_NONE);
    qc_ks_on_timeout(&ks, cp, 1);
    qc_ks_free(&ks, cp);
}

int main(void) {
    TEST_RUN(test_install);
    TEST_RUN(test_update_round_trip);
    TEST_RUN(test_no_keys);
    return test_summary();
}
