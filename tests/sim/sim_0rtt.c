/*
 * 0-RTT between two quicc engines (RFC 9001 §4.6, RFC 9000 §7.4.1): a first connection
 * leaves a session ticket and the server parameters to remember; a second one resumes it
 * and sends its requests in 0-RTT packets, which the server accepts and answers (verified
 * by SHA-256); its first datagram replayed to the server gets no 0-RTT processed (the
 * replay cache); a server that lost its ticket key refuses the 0-RTT, and the requests go
 * again in 1-RTT by themselves, answered all the same. A server without 0-RTT gives
 * tickets that allow none; 0-RTT never exceeds the remembered limits.
 */
#include "core/conn_internal.h"
#include "support/sim.h"
#include "unit/test.h"

typedef struct ticket {
    uint8_t session[8192];
    size_t len;
    uint8_t tp[512];
    int tp_len;
} ticket;

static bool has_ticket(sim *s, void *user) {
    (void)user;
    size_t n = 0;
    return s->client && qc_tls_get_session(qc_conn_hs(s->client), NULL, 0, &n) == QC_ERR_NOBUF;
}

/* A first, full handshake and one request; keeps the ticket and the parameters. */
static void first(sim *s, ticket *t) {
    sim_app app;
    sim_app_init(&app, 1, 1000, 1);
    CHECK_EQ(sim_start(s), 0);
    CHECK(sim_run(s, s->now + 10 * QC_SEC, sim_app_step, &app));
    CHECK_EQ(app.failed, 0);
    CHECK(sim_run(s, s->now + 5 * QC_SEC, has_ticket, NULL));
    CHECK_EQ(qc_tls_get_session(qc_conn_hs(s->client), t->session, sizeof(t->session), &t->len), 0);
    t->tp_len = qc_conn_remembered_tparams(s->client, t->tp, sizeof(t->tp));
    CHECK(t->tp_len > 0);
    qc_conn_stats st;
    qc_conn_get_stats(s->client, &st);
    CHECK_EQ(st.early_data, QC_EARLY_NONE);
    CHECK_U64(st.zero_rtt_sent, 0);
    sim_app_free(&app);
}

typedef struct outcome {
    qc_conn_stats c, s;
    bool resumed;
} outcome;

/* A resumed connection whose 5 requests are written before the handshake completes. */
static outcome resumed(sim *s, const ticket *t, uint64_t seed) {
    outcome o;
    memset(&o, 0, sizeof(o));
    sim_reset(s, seed);
    sim_app app;
    sim_app_init(&app, 5, 20000, 5);
    app.early = true;
    CHECK_EQ(sim_start_resumed(s, t->session, t->len, t->tp, (size_t)t->tp_len), 0);
    bool ok = sim_run(s, s->now + 20 * QC_SEC, sim_app_step, &app);
    CHECK(ok);
    CHECK_EQ(app.failed, 0);
    CHECK_EQ(app.completed, 5);
    for (size_t i = 0; i < app.n; i++)
        CHECK(!app.reqs[i].corrupt);
    qc_conn_get_stats(s->client, &o.c);
    qc_conn_get_stats(s->server, &o.s);
    o.resumed = qc_tls_is_resumed(qc_conn_hs(s->client));
    sim_app_free(&app);
    return o;
}

/* The first client datagram of a connection (its ClientHello and 0-RTT), for a replay. */
typedef struct capture {
    uint8_t data[1500];
    size_t len;
} capture;

static bool grab_first(sim *s, int to_server, uint8_t *data, size_t *len, void *user) {
    (void)s;
    capture *c = user;
    if (to_server && c->len == 0) {
        memcpy(c->data, data, *len);
        c->len = *len;
    }
    return true;
}

static void test_accept_replay_reject(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 5100, "sim"), 0);
    CHECK_EQ(sim_enable_early_data(&s), 0);
    ticket t;
    first(&s, &t);
    /* Accepted: the requests travelled in 0-RTT and the server read them there. */
    capture cap = {.len = 0};
    s.tap = grab_first;
    s.tap_user = &cap;
    outcome a = resumed(&s, &t, 5101);
    s.tap = NULL;
    CHECK(a.resumed);
    CHECK_EQ(a.c.early_data, QC_EARLY_ACCEPTED);
    CHECK_EQ(a.s.early_data, QC_EARLY_ACCEPTED);
    CHECK(a.c.zero_rtt_sent > 5 * 16);
    CHECK(a.s.zero_rtt_recv > 5 * 16);
    CHECK(cap.len >= 1200);
    /* An attacker replays that first datagram to the server: the replay cache recognises
     * the ClientHello and its 0-RTT is not processed (RFC 9001 §9.2). */
    sim_reset(&s, 5102);
    CHECK_EQ(sim_listen(&s), 0);
    sim_inject(&s, 1, cap.data, cap.len);
    CHECK(s.server != NULL);
    qc_conn_stats rs;
    qc_conn_get_stats(s.server, &rs);
    CHECK_EQ(rs.early_data, QC_EARLY_NONE);
    CHECK_U64(rs.zero_rtt_recv, 0);
    CHECK(rs.pkts_recv >= 1); /* its Initial was read */
    /* A server that lost its ticket key (a restart) refuses the 0-RTT: the handshake is a
     * full one, and the requests go again in 1-RTT by themselves, answered all the same. */
    sim_reset(&s, 5103);
    CHECK_EQ(sim_enable_early_data(&s), 0);
    outcome r = resumed(&s, &t, 5104);
    CHECK(!r.resumed);
    CHECK_EQ(r.c.early_data, QC_EARLY_REJECTED);
    CHECK(r.c.zero_rtt_sent > 5 * 16);
    CHECK_U64(r.s.zero_rtt_recv, 0);
    CHECK_EQ(r.s.early_data, QC_EARLY_NONE);
    sim_free(&s);
}

/* A server that does not accept 0-RTT: its tickets allow none, and the client sends none. */
static void test_server_without_0rtt(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 5200, "sim"), 0);
    ticket t;
    first(&s, &t);
    outcome o = resumed(&s, &t, 5201);
    CHECK(o.resumed);
    CHECK_EQ(o.c.early_data, QC_EARLY_NONE);
    CHECK_U64(o.c.zero_rtt_sent, 0);
    sim_free(&s);
}

/* 0-RTT obeys the remembered limits: with a remembered connection window of 1000 bytes,
 * no more than that goes in 0-RTT; the rest waits for the handshake. */
static void test_remembered_limits(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 5300, "sim"), 0);
    CHECK_EQ(sim_enable_early_data(&s), 0);
    ticket t;
    first(&s, &t);
    qc_tparams tp;
    CHECK_EQ(qc_tparams_decode(&tp, true, t.tp, (size_t)t.tp_len), 0);
    tp.initial_max_data = 40;
    tp.initial_max_streams_bidi = 2;
    t.tp_len = qc_tparams_encode(&tp, true, t.tp, sizeof(t.tp));
    outcome o = resumed(&s, &t, 5301);
    CHECK_EQ(o.c.early_data, QC_EARLY_ACCEPTED);
    /* Two streams of 16 request bytes fit the 40 bytes: the 0-RTT packets carried them and
     * little else (headers and tags: under 3 packets). */
    CHECK(o.c.zero_rtt_sent > 0);
    CHECK(o.c.zero_rtt_sent < 3 * 1200);
    sim_free(&s);
}

/* Tickets belong to the QUIC version of the connection that issued them (RFC 9369 §5). A
 * client that starts v2 with a v1 ticket gets a full handshake (no 0-RTT); a v1 ticket in
 * a connection the server moves to v2 is not accepted either, and that connection's
 * ticket is a v2 one, which a v2 connection resumes, with 0-RTT. */
static void test_ticket_version(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 5400, "sim"), 0);
    qc_version_list both = {{QC_VERSION_2, QC_VERSION_1}, 2};
    s.scfg.versions = s.epcfg.versions = both;
    CHECK_EQ(sim_enable_early_data(&s), 0);
    ticket t1;
    first(&s, &t1); /* the client offers v1 only: a v1 connection */
    CHECK_U64(qc_conn_version(s.server), QC_VERSION_1);
    /* The v1 ticket again in v1: resumed, 0-RTT accepted. */
    outcome o = resumed(&s, &t1, 5401);
    CHECK(o.resumed);
    CHECK_EQ(o.c.early_data, QC_EARLY_ACCEPTED);
    /* The v1 ticket in a v2 Initial: a full handshake, the 0-RTT refused and sent again. */
    s.ccfg.version = QC_VERSION_2;
    s.ccfg.versions = (qc_version_list){{QC_VERSION_2}, 1};
    o = resumed(&s, &t1, 5402);
    CHECK(!o.resumed);
    CHECK_EQ(o.c.early_data, QC_EARLY_REJECTED);
    CHECK_U64(o.s.zero_rtt_recv, 0);
    CHECK_U64(qc_conn_version(s.server), QC_VERSION_2);
    /* The v1 ticket in v1 offering v2: the server moves to v2 and does not take it. */
    s.ccfg.version = QC_VERSION_1;
    s.ccfg.versions = (qc_version_list){{QC_VERSION_1, QC_VERSION_2}, 2};
    o = resumed(&s, &t1, 5403);
    CHECK(!o.resumed);
    CHECK_U64(qc_conn_version(s.server), QC_VERSION_2);
    CHECK(sim_run(&s, s.now + 5 * QC_SEC, has_ticket, NULL));
    ticket t2;
    CHECK_EQ(qc_tls_get_session(qc_conn_hs(s.client), t2.session, sizeof(t2.session), &t2.len), 0);
    t2.tp_len = qc_conn_remembered_tparams(s.client, t2.tp, sizeof(t2.tp));
    CHECK(t2.tp_len > 0);
    /* That connection's ticket is a v2 one: a v2 connection resumes it, with 0-RTT. */
    s.ccfg.version = QC_VERSION_2;
    o = resumed(&s, &t2, 5404);
    CHECK(o.resumed);
    CHECK_EQ(o.c.early_data, QC_EARLY_ACCEPTED);
    CHECK_U64(qc_conn_version(s.server), QC_VERSION_2);
    sim_free(&s);
}

int main(void) {
    TEST_RUN(test_accept_replay_reject);
    TEST_RUN(test_ticket_version);
    TEST_RUN(test_server_without_0rtt);
    TEST_RUN(test_remembered_limits);
    return test_summary();
}
