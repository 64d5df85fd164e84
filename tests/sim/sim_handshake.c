/* Simulator: handshakes over clean and lossy links, determinism, and closing. */
#include "support/sim.h"
#include "unit/test.h"

static void test_handshake_clean(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 1, "sim"), 0);
    CHECK_EQ(sim_start(&s), 0);
    CHECK(sim_run(&s, s.now + 5 * QC_SEC, sim_cond_established, NULL));
    CHECK_EQ(qc_conn_state(s.client), QC_CONN_ESTABLISHED);
    CHECK_EQ(qc_conn_state(s.server), QC_CONN_ESTABLISHED);
    const qc_tparams *tp = qc_conn_peer_tparams(s.client);
    CHECK(tp != NULL);
    if (tp) {
        CHECK_U64(tp->initial_max_data, s.scfg.initial_max_data);
        CHECK_U64(tp->initial_max_streams_bidi, s.scfg.max_streams_bidi);
    }
    const qc_hs *hs = qc_conn_hs(s.client);
    size_t alen = 0;
    const uint8_t *alpn = hs->ops->alpn(hs->impl, &alen);
    CHECK_EQ(alen, 3);
    CHECK(alpn && memcmp(alpn, "sim", 3) == 0);
    /* Application close from the client: the server learns the code and the reason. */
    CHECK_EQ(qc_conn_close(s.client, true, 77, "bye", s.now), 0);
    CHECK(sim_run(&s, s.now + 10 * QC_SEC, sim_cond_both_closed, NULL));
    const qc_close_info *ci = qc_conn_close_info(s.server);
    CHECK(ci->set && !ci->local && ci->app);
    CHECK_U64(ci->error_code, 77);
    CHECK_EQ(ci->reason_len, 3);
    CHECK(memcmp(ci->reason, "bye", 3) == 0);
    sim_free(&s);
}

static uint64_t lossy_handshake(uint64_t seed, double loss, bool *ok) {
    sim s;
    *ok = false;
    if (sim_init(&s, seed, "sim") != 0) return 0;
    for (int d = 0; d < 2; d++) {
        s.link[d].loss = loss;
        s.link[d].reorder = 0.1;
        s.link[d].reorder_delay = 15 * QC_MS;
        s.link[d].dup = 0.05;
    }
    sim_start(&s);
    *ok = sim_run(&s, s.now + 60 * QC_SEC, sim_cond_established, NULL);
    uint64_t trace = s.trace;
    sim_free(&s);
    return trace;
}

static void test_handshake_lossy(void) {
    int ok_count = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        bool ok;
        lossy_handshake(seed, 0.3, &ok);
        ok_count += ok;
        if (!ok)
            fprintf(stderr, "handshake with 30%% loss failed for seed %llu\n",
                    (unsigned long long)seed);
    }
    CHECK_EQ(ok_count, 20);
}

static void test_same_seed_same_run(void) {
    bool ok1, ok2, ok3;
    uint64_t a = lossy_handshake(42, 0.2, &ok1);
    uint64_t b = lossy_handshake(42, 0.2, &ok2);
    uint64_t c = lossy_handshake(43, 0.2, &ok3);
    CHECK(ok1 && ok2 && ok3);
    CHECK_U64(a, b);
    CHECK(a != c);
}

int main(void) {
    TEST_RUN(test_handshake_clean);
    TEST_RUN(test_handshake_lossy);
    TEST_RUN(test_same_seed_same_run);
    return test_summary();
}
