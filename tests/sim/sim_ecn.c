/*
 * ECN between two quicc engines over the simulator's links (RFC 9000 §13.4, RFC 9002 §7):
 * a clean path validates in both directions and every packet carries ECT(0); a path that
 * clears the marks fails validation and both sides stop marking, the transfer unharmed;
 * a congested path that marks CE makes the sender see the CE counts and react as to a
 * loss (a smaller window than on the same path without CE); ECN off by configuration
 * sends no mark. Every transfer is verified by SHA-256.
 */
#include "core/conn_internal.h"
#include "support/sim.h"
#include "unit/test.h"

typedef struct run {
    qc_conn_stats c, s;
    enum qc_ecn_state cstate, sstate;
    uint64_t ce_marked;
    bool done;
} run;

/* 2 MB to the client over a 20 Mbit/s, 20 ms path; bleach / ce / ecn as given. */
static run transfer(uint64_t seed, bool bleach, double ce, bool ecn) {
    sim s;
    run r = {0};
    CHECK_EQ(sim_init(&s, seed, "sim"), 0);
    s.ccfg.ecn = s.scfg.ecn = ecn;
    for (int d = 0; d < 2; d++) {
        s.link[d].delay = 10 * QC_MS;
        s.link[d].rate_bps = 20000000;
        s.link[d].queue_bytes = 200000;
        s.link[d].bleach = bleach;
        s.link[d].ce = ce;
    }
    sim_app app;
    sim_app_init(&app, 1, 2u << 20, 1);
    CHECK_EQ(sim_start(&s), 0);
    r.done = sim_run(&s, s.now + 120 * QC_SEC, sim_app_step, &app);
    CHECK(r.done);
    CHECK_EQ(app.failed, 0);
    CHECK_EQ(app.completed, 1);
    qc_conn_get_stats(s.client, &r.c);
    qc_conn_get_stats(s.server, &r.s);
    r.cstate = s.client->ecn.state;
    r.sstate = s.server->ecn.state;
    r.ce_marked = s.ce_marked[1];
    sim_app_free(&app);
    sim_free(&s);
    return r;
}

static void test_clean_path(void) {
    run r = transfer(7100, false, 0, true);
    CHECK_EQ(r.cstate, QC_ECN_CAPABLE);
    CHECK_EQ(r.sstate, QC_ECN_CAPABLE);
    /* Every packet both ways went ECT(0) and arrived so. */
    CHECK_U64(r.s.ecn_marked, r.s.pkts_sent);
    CHECK_U64(r.c.ecn_recv[0], r.c.pkts_recv);
    CHECK_U64(r.s.ecn_recv[0], r.s.pkts_recv);
    CHECK_U64(r.c.ecn_recv[2] + r.s.ecn_recv[2], 0);
    CHECK_U64(r.s.ecn_peer_ce, 0);
}

static void test_bleached_path(void) {
    run r = transfer(7200, true, 0, true);
    CHECK_EQ(r.cstate, QC_ECN_FAILED);
    CHECK_EQ(r.sstate, QC_ECN_FAILED);
    CHECK_U64(r.c.ecn_recv[0] + r.s.ecn_recv[0], 0);
    /* Marking stopped at the first ACK: a handful of marked packets, not the transfer. */
    CHECK(r.s.ecn_marked < 20);
    CHECK(r.s.pkts_sent > 1000);
}

static void test_ce_marks(void) {
    run plain = transfer(7300, false, 0, true);
    run ce = transfer(7300, false, 0.01, true);
    CHECK_EQ(ce.sstate, QC_ECN_CAPABLE);
    CHECK(ce.ce_marked > 0);
    /* The client counted the CE marks and reported them; the server saw them all. */
    CHECK_U64(ce.c.ecn_recv[2], ce.ce_marked);
    CHECK_U64(ce.s.ecn_peer_ce, ce.ce_marked);
    /* CE is a congestion signal: a smaller window than on the same path without it, and
     * no retransmission needed for it (nothing was lost to CE). */
    CHECK(ce.s.cwnd < plain.s.cwnd);
    fprintf(stderr, "CE: %llu marks; cwnd %llu vs %llu without CE\n",
            (unsigned long long)ce.ce_marked, (unsigned long long)ce.s.cwnd,
            (unsigned long long)plain.s.cwnd);
}

static void test_disabled(void) {
    run r = transfer(7400, false, 0.5, false);
    CHECK_EQ(r.cstate, QC_ECN_DISABLED);
    CHECK_EQ(r.sstate, QC_ECN_DISABLED);
    CHECK_U64(r.c.ecn_marked + r.s.ecn_marked, 0);
    CHECK_U64(r.c.ecn_recv[0] + r.c.ecn_recv[2] + r.s.ecn_recv[0] + r.s.ecn_recv[2], 0);
    CHECK_U64(r.ce_marked, 0); /* the link marks only ECN-capable packets */
}

int main(void) {
    TEST_RUN(test_clean_path);
    TEST_RUN(test_bleached_path);
    TEST_RUN(test_ce_marks);
    TEST_RUN(test_disabled);
    return test_summary();
}
