/*
 * AEAD usage limits (RFC 9001 §6.6), with small limits configured so that a test reaches
 * them: near the confidentiality limit a connection updates its keys by itself, again and
 * again, through a verified transfer; when it cannot update in time it closes with
 * AEAD_LIMIT_REACHED; and at the integrity limit of forged 1-RTT packets it closes with
 * AEAD_LIMIT_REACHED, which the peer receives.
 */
#include "core/conn_internal.h"
#include "support/sim.h"
#include "unit/test.h"

static void test_updates_before_confidentiality_limit(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 5, "sim"), 0);
    s.ccfg.aead_confidentiality_limit = s.scfg.aead_confidentiality_limit = 1000;
    for (int d = 0; d < 2; d++) {
        s.link[d].loss = 0.01;
        s.link[d].rate_bps = 100000000;
    }
    sim_app app;
    sim_app_init(&app, 2, 3000000, 2); /* about 4,400 packets from the server */
    CHECK_EQ(sim_start(&s), 0);
    CHECK(sim_run(&s, s.now + 120 * QC_SEC, sim_app_step, &app));
    CHECK_EQ(app.failed, 0);
    CHECK_EQ(app.completed, 2);
    uint64_t sent = s.server->spaces[QC_PNS_APP].next_pn;
    printf("server: %llu 1-RTT packets, %llu key updates (limit 1000 per key)\n",
           (unsigned long long)sent, (unsigned long long)qc_conn_key_updates(s.server));
    CHECK(sent > 4000);
    CHECK(qc_conn_key_updates(s.server) >= sent / 1000);
    /* No key protected more packets than the limit. */
    CHECK(s.server->spaces[QC_PNS_APP].next_pn - s.server->keys.tx_phase_first_pn < 1000);
    CHECK(!qc_conn_close_info(s.server)->set && !qc_conn_close_info(s.client)->set);
    sim_app_free(&app);
    sim_free(&s);
}

static void test_closes_when_update_impossible(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 6, "sim"), 0);
    s.scfg.aead_confidentiality_limit = 1000;
    CHECK_EQ(sim_start(&s), 0);
    CHECK(sim_run(&s, s.now + 5 * QC_SEC, sim_cond_established, NULL));
    /* An update of ours is still unacknowledged, so no other may start (RFC 9001 §6.1)... */
    CHECK_EQ(qc_conn_initiate_key_update(s.server), 0);
    CHECK_EQ(qc_conn_initiate_key_update(s.server), QC_ERR_AGAIN);
    /* ...and the new key has protected almost as many packets as it may. */
    s.server->spaces[QC_PNS_APP].next_pn = s.server->keys.tx_phase_first_pn + 990;
    uint8_t buf[1500];
    qc_conn_send(s.server, buf, sizeof(buf), s.now);
    const qc_close_info *ci = qc_conn_close_info(s.server);
    CHECK(ci->set && ci->local);
    CHECK_U64(ci->error_code, 0xf); /* AEAD_LIMIT_REACHED */
    CHECK_EQ(ci->lib_error, QC_ERR_AEAD_LIMIT);
    sim_free(&s);
}

static void test_integrity_limit(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 7, "sim"), 0);
    s.scfg.aead_integrity_limit = 5;
    CHECK_EQ(sim_start(&s), 0);
    CHECK(sim_run(&s, s.now + 5 * QC_SEC, sim_cond_established, NULL));
    static const uint8_t ping[] = {0x01};
    uint8_t dg[1500];
    for (int i = 0; i < 5; i++) {
        size_t n = sim_seal(s.client, QC_EPOCH_1RTT, ping, sizeof(ping), dg, sizeof(dg));
        CHECK(n > 0);
        dg[n - 1] ^= 0x80; /* a forged tag */
        CHECK(!qc_conn_close_info(s.server)->set);
        sim_inject(&s, 1, dg, n);
    }
    CHECK_U64(s.server->keys.rx_auth_failures, 5);
    const qc_close_info *ci = qc_conn_close_info(s.server);
    CHECK(ci->set && ci->local);
    CHECK_U64(ci->error_code, 0xf);
    CHECK(sim_run(&s, s.now + 5 * QC_SEC, sim_cond_both_closed, NULL));
    const qc_close_info *cc = qc_conn_close_info(s.client);
    CHECK(cc->set && !cc->local && !cc->app);
    CHECK_U64(cc->error_code, 0xf);
    sim_free(&s);
}

static void test_integrity_below_limit_is_harmless(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 8, "sim"), 0);
    s.scfg.aead_integrity_limit = 5;
    CHECK_EQ(sim_start(&s), 0);
    CHECK(sim_run(&s, s.now + 5 * QC_SEC, sim_cond_established, NULL));
    static const uint8_t ping[] = {0x01};
    uint8_t dg[1500];
    for (int i = 0; i < 4; i++) {
        size_t n = sim_seal(s.client, QC_EPOCH_1RTT, ping, sizeof(ping), dg, sizeof(dg));
        dg[n - 1] ^= 0x80;
        sim_inject(&s, 1, dg, n);
    }
    sim_app app;
    sim_app_init(&app, 1, 100000, 1);
    CHECK(sim_run(&s, s.now + 30 * QC_SEC, sim_app_step, &app));
    CHECK_EQ(app.failed, 0);
    CHECK(!qc_conn_close_info(s.server)->set);
    sim_app_free(&app);
    sim_free(&s);
}

int main(void) {
    TEST_RUN(test_updates_before_confidentiality_limit);
    TEST_RUN(test_closes_when_update_impossible);
    TEST_RUN(test_integrity_limit);
    TEST_RUN(test_integrity_below_limit_is_harmless);
    return test_summary();
}
