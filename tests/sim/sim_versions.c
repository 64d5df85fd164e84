/*
 * QUIC v2 and compatible version negotiation (RFC 9368, RFC 9369 §4) between two quicc
 * engines: which version each configuration ends in, what the wire shows (the client's
 * first Initial in its original version, every Handshake packet in the negotiated one),
 * transfers verified by SHA-256 in each version, Retry and key updates in v2, and the
 * version checks that stop a downgrade: each ends in VERSION_NEGOTIATION_ERROR (0x11).
 */
#include "core/conn_internal.h"
#include "support/sim.h"
#include "unit/test.h"

/* Versions seen on the wire: [direction][packet type] -> bit per version. */
enum { B_V1 = 1, B_V2 = 2, B_DRAFT = 4 };
typedef struct wire {
    unsigned seen[2][QC_PT_COUNT];
    uint32_t first_client_initial;
} wire;

static unsigned vbit(uint32_t v) {
    return v == QC_VERSION_1         ? B_V1
           : v == QC_VERSION_2       ? B_V2
           : v == QC_VERSION_2_DRAFT ? B_DRAFT
                                     : 8;
}

static bool watch(sim *s, int to_server, uint8_t *data, size_t *len, void *user) {
    (void)s;
    wire *w = user;
    size_t off = 0;
    while (off < *len) {
        qc_pkt_hdr h;
        if (qc_pkt_parse(data + off, *len - off, 8, &h) != 0 || h.type == QC_PT_1RTT) break;
        w->seen[to_server][h.type] |= vbit(h.version);
        if (to_server && h.type == QC_PT_INITIAL && !w->first_client_initial)
            w->first_client_initial = h.version;
        if (h.type == QC_PT_RETRY || h.type == QC_PT_VN) break;
        off += h.pkt_len;
    }
    return true;
}

typedef struct vcase {
    const char *name;
    uint32_t client_version; /* of the first Initial */
    qc_version_list client;  /* offered */
    qc_version_list server;  /* preference */
    uint32_t want;           /* negotiated */
    bool retry;
} vcase;

static void run_case(const vcase *vc, uint64_t seed) {
    sim s;
    CHECK_EQ(sim_init(&s, seed, "sim"), 0);
    s.ccfg.version = vc->client_version;
    s.ccfg.versions = vc->client;
    s.scfg.versions = vc->server;
    s.epcfg.versions = vc->server;
    s.retry = vc->retry;
    wire w = {0};
    s.tap = watch;
    s.tap_user = &w;
    s.link[0].loss = s.link[1].loss = 0.05;
    s.link[0].delay = s.link[1].delay = 10 * QC_MS;
    sim_app app;
    sim_app_init(&app, 4, 300000, 4);
    CHECK_EQ(sim_start(&s), 0);
    bool done = sim_run(&s, s.now + 60 * QC_SEC, sim_app_step, &app);
    if (!done || app.failed) fprintf(stderr, "case %s failed\n", vc->name);
    CHECK(done);
    CHECK_EQ(app.failed, 0);
    CHECK_EQ(app.completed, 4);
    CHECK_U64(qc_conn_version(s.client), vc->want);
    CHECK_U64(qc_conn_version(s.server), vc->want);
    unsigned want = vbit(vc->want);
    CHECK_U64(w.first_client_initial, vc->client_version);
    /* Every Handshake packet both ways, and every server Initial, in the negotiated version. */
    CHECK_EQ(w.seen[1][QC_PT_HANDSHAKE], want);
    CHECK_EQ(w.seen[0][QC_PT_HANDSHAKE], want);
    CHECK_EQ(w.seen[0][QC_PT_INITIAL], want);
    /* The client's Initials: its original version, then perhaps the negotiated one. */
    CHECK_EQ(w.seen[1][QC_PT_INITIAL] & ~(want | vbit(vc->client_version)), 0);
    if (vc->retry) {
        CHECK(s.retry_sent);
        CHECK_EQ(w.seen[0][QC_PT_RETRY], vbit(vc->client_version)); /* the original version */
    }
    /* The peer's version information names the result. */
    CHECK(s.client->peer_tp.has_version_info);
    CHECK_U64(s.client->peer_tp.chosen_version, vc->want);
    CHECK(s.server->peer_tp.has_version_info);
    CHECK_U64(s.server->peer_tp.chosen_version, vc->client_version);
    sim_app_free(&app);
    sim_free(&s);
}

#define L1(a)                                                                                      \
    { {a}, 1 }
#define L2(a, b)                                                                                   \
    { {a, b}, 2 }
static void test_negotiation_matrix(void) {
    const vcase cases[] = {
        {"v1 offering v2, server prefers v2", QC_VERSION_1, L2(QC_VERSION_1, QC_VERSION_2),
         L2(QC_VERSION_2, QC_VERSION_1), QC_VERSION_2, false},
        {"v1 only", QC_VERSION_1, L1(QC_VERSION_1), L2(QC_VERSION_2, QC_VERSION_1), QC_VERSION_1,
         false},
        {"server prefers v1", QC_VERSION_1, L2(QC_VERSION_2, QC_VERSION_1),
         L2(QC_VERSION_1, QC_VERSION_2), QC_VERSION_1, false},
        {"server refuses v2", QC_VERSION_1, L2(QC_VERSION_1, QC_VERSION_2), L1(QC_VERSION_1),
         QC_VERSION_1, false},
        {"v2 from the start", QC_VERSION_2, L1(QC_VERSION_2), L2(QC_VERSION_2, QC_VERSION_1),
         QC_VERSION_2, false},
        {"v1 to v2 after Retry", QC_VERSION_1, L2(QC_VERSION_1, QC_VERSION_2),
         L2(QC_VERSION_2, QC_VERSION_1), QC_VERSION_2, true},
        {"v1 to the draft", QC_VERSION_1, L2(QC_VERSION_1, QC_VERSION_2_DRAFT),
         L2(QC_VERSION_2_DRAFT, QC_VERSION_1), QC_VERSION_2_DRAFT, false},
    };
    for (size_t i = 0; i < QC_ARRAY_LEN(cases); i++) {
        for (uint64_t seed = 1; seed <= 3; seed++)
            run_case(&cases[i], 9100 + 10 * i + seed);
    }
}

/* A server that does not accept v2 answers a v2 Initial with Version Negotiation listing
 * v1; a client that started in v2 and does not offer v1 gives up (CONNECTION_REFUSED). */
static void test_refused(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 9200, "sim"), 0);
    s.ccfg.version = QC_VERSION_2;
    s.ccfg.versions = (qc_version_list)L1(QC_VERSION_2);
    s.epcfg.versions = s.scfg.versions = (qc_version_list)L1(QC_VERSION_1);
    wire w = {0};
    s.tap = watch;
    s.tap_user = &w;
    CHECK_EQ(sim_start(&s), 0);
    sim_run(&s, s.now + 5 * QC_SEC, NULL, NULL);
    CHECK(w.seen[0][QC_PT_VN] != 0);
    CHECK(s.server == NULL);
    CHECK_EQ(qc_conn_state(s.client), QC_CONN_CLOSED);
    const qc_close_info *ci = qc_conn_close_info(s.client);
    CHECK_EQ(ci->lib_error, QC_ERR_VERSION);
    CHECK_U64(ci->error_code, QC_TE_CONNECTION_REFUSED);
    sim_free(&s);
}

/* Key updates in v2 use "quicv2 ku": two updates through an 8 MB transfer. */
static bool ku_step(sim *s, void *user) {
    sim_app *a = user;
    if (s->client && qc_conn_is_confirmed(s->client) && qc_conn_key_updates(s->client) == 0)
        qc_conn_initiate_key_update(s->client);
    if (s->server && qc_conn_key_updates(s->server) == 1 && !qc_conn_key_update_pending(s->server))
        qc_conn_initiate_key_update(s->server);
    return sim_app_step(s, a) && qc_conn_key_updates(s->client) >= 2;
}

static void test_key_update_v2(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 9300, "sim"), 0);
    s.ccfg.versions = (qc_version_list)L2(QC_VERSION_1, QC_VERSION_2);
    sim_app app;
    sim_app_init(&app, 1, 8u << 20, 1);
    CHECK_EQ(sim_start(&s), 0);
    CHECK(sim_run(&s, s.now + 120 * QC_SEC, ku_step, &app));
    CHECK_EQ(app.failed, 0);
    CHECK_U64(qc_conn_version(s.client), QC_VERSION_2);
    CHECK(qc_conn_key_updates(s.client) >= 2);
    CHECK(qc_conn_key_updates(s.server) >= 2);
    sim_app_free(&app);
    sim_free(&s);
}

/* Drives a pair until both sides closed; returns the error code the server (or the client)
 * received or sent. */
static uint64_t closed_with(sim *s, bool server_side) {
    sim_run(s, s->now + 10 * QC_SEC, sim_cond_both_closed, NULL);
    qc_conn *c = server_side ? s->server : s->client;
    const qc_close_info *ci = c ? qc_conn_close_info(c) : NULL;
    return ci ? ci->error_code : UINT64_MAX;
}

/* A client whose Chosen Version is not the version of its Initial: the server closes with
 * VERSION_NEGOTIATION_ERROR (RFC 9368 §4). */
static void test_client_lies(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 9400, "sim"), 0);
    s.ccfg.versions = (qc_version_list)L2(QC_VERSION_1, QC_VERSION_2);
    CHECK_EQ(sim_listen(&s), 0);
    qc_cid dcid = {.len = 16}, scid = {.len = 8};
    for (int i = 0; i < 16; i++)
        dcid.id[i] = (uint8_t)(i * 7 + 1);
    memset(scid.id, 0x5c, 8);
    s.client_odcid = dcid;
    CHECK_EQ(qc_conn_new_client(&s.client, &s.ccfg, &dcid, &scid, s.now), 0);
    s.client->local_tp.chosen_version = QC_VERSION_2; /* but the Initial says v1 */
    qc_hs_callbacks cbs;
    qc_conn_hs_callbacks(s.client, &cbs);
    qc_hs hs;
    CHECK_EQ(qc_tls_new(s.tls_client, "localhost", &cbs, &hs), 0);
    CHECK_EQ(qc_conn_set_hs(s.client, hs), 0);
    CHECK_EQ(qc_conn_start(s.client, s.now), 0);
    uint64_t code = closed_with(&s, false);
    CHECK(s.server != NULL);
    CHECK_U64(qc_conn_close_info(s.server)->error_code, QC_TE_VERSION_NEGOTIATION_ERROR);
    CHECK_EQ(qc_conn_close_info(s.server)->lib_error, QC_ERR_VERSION_NEGOTIATION);
    CHECK_U64(code, QC_TE_VERSION_NEGOTIATION_ERROR);
    sim_free(&s);
}

/*
 * The client's checks of the server's version information, fed straight to its transport
 * parameters callback in the state each attack would leave it in: a server that moved it
 * to v2 without saying so, one whose Chosen Version is not the version its packets came
 * in, one that chose a version the client never offered. Each is VERSION_NEGOTIATION_ERROR;
 * the honest cases pass.
 */
static int feed_server_tp(sim *s, uint32_t conn_version, bool with_vi, uint32_t chosen) {
    qc_conn *c = s->client;
    c->version = conn_version;
    qc_tparams tp;
    qc_tparams_default(&tp);
    tp.has_original_dcid = true;
    tp.original_dcid = c->ids.odcid;
    tp.has_initial_scid = true;
    tp.initial_scid = c->cids.peer[0].cid;
    tp.has_version_info = with_vi;
    tp.chosen_version = chosen;
    tp.available_versions[0] = QC_VERSION_1;
    tp.n_available = 1;
    uint8_t buf[256];
    int n = qc_tparams_encode(&tp, true, buf, sizeof(buf));
    CHECK(n > 0);
    qc_hs_callbacks cbs;
    qc_conn_hs_callbacks(c, &cbs);
    return cbs.peer_tparams(cbs.user, buf, (size_t)n);
}

static void test_client_checks(void) {
    struct {
        qc_version_list offered;
        uint32_t conn_version;
        bool with_vi;
        uint32_t chosen;
        int want;
    } cases[] = {
        {L2(QC_VERSION_1, QC_VERSION_2), QC_VERSION_2, false, 0, QC_ERR_VERSION_NEGOTIATION},
        {L2(QC_VERSION_1, QC_VERSION_2), QC_VERSION_2, true, QC_VERSION_1,
         QC_ERR_VERSION_NEGOTIATION},
        {L2(QC_VERSION_1, QC_VERSION_2), QC_VERSION_1, true, QC_VERSION_2,
         QC_ERR_VERSION_NEGOTIATION},
        {L1(QC_VERSION_1), QC_VERSION_2_DRAFT, true, QC_VERSION_2_DRAFT,
         QC_ERR_VERSION_NEGOTIATION},
        {L2(QC_VERSION_1, QC_VERSION_2), QC_VERSION_2, true, QC_VERSION_2, 0},
        {L1(QC_VERSION_1), QC_VERSION_1, false, 0, 0}, /* a v1-only server may omit it */
        {L1(QC_VERSION_1), QC_VERSION_1, true, QC_VERSION_1, 0},
    };
    for (size_t i = 0; i < QC_ARRAY_LEN(cases); i++) {
        sim s;
        CHECK_EQ(sim_init(&s, 9500 + i, "sim"), 0);
        s.ccfg.versions = cases[i].offered;
        CHECK_EQ(sim_start(&s), 0);
        int rv = feed_server_tp(&s, cases[i].conn_version, cases[i].with_vi, cases[i].chosen);
        if (rv != cases[i].want) fprintf(stderr, "client check case %zu: %d\n", i, rv);
        CHECK_EQ(rv, cases[i].want);
        sim_free(&s);
    }
}

/* A client that started in v2 and also offers v1 meets a v1-only server: the Version
 * Negotiation names the version for a new attempt (the API starts it), and the attempt
 * that follows ignores any further Version Negotiation. */
static void test_vn_names_next_attempt(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 9700, "sim"), 0);
    s.ccfg.version = QC_VERSION_2;
    s.ccfg.versions = (qc_version_list)L2(QC_VERSION_2, QC_VERSION_1);
    s.epcfg.versions = s.scfg.versions = (qc_version_list)L1(QC_VERSION_1);
    CHECK_EQ(sim_start(&s), 0);
    sim_run(&s, s.now + 5 * QC_SEC, NULL, NULL);
    CHECK_EQ(qc_conn_state(s.client), QC_CONN_CLOSED);
    CHECK_EQ(qc_conn_close_info(s.client)->lib_error, QC_ERR_VERSION);
    CHECK_U64(qc_conn_vn_retry_version(s.client), QC_VERSION_1);
    sim_free(&s);
    /* An attempt made after a Version Negotiation ignores the next one. */
    CHECK_EQ(sim_init(&s, 9701, "sim"), 0);
    s.ccfg.version = QC_VERSION_2;
    s.ccfg.after_vn = true;
    s.ccfg.versions = (qc_version_list)L2(QC_VERSION_2, QC_VERSION_1);
    s.epcfg.versions = s.scfg.versions = (qc_version_list)L1(QC_VERSION_1);
    CHECK_EQ(sim_start(&s), 0);
    sim_run(&s, s.now + 2 * QC_SEC, NULL, NULL);
    CHECK_EQ(qc_conn_state(s.client), QC_CONN_HANDSHAKING);
    CHECK_U64(qc_conn_vn_retry_version(s.client), 0);
    sim_free(&s);
}

/* The attempt after a Version Negotiation checks the server's Available Versions: honest
 * (the server speaks only v1) it completes in v1; forged (the server speaks v2 too, which
 * the client prefers) it ends in VERSION_NEGOTIATION_ERROR. */
static void test_vn_downgrade(void) {
    for (int forged = 0; forged < 2; forged++) {
        sim s;
        CHECK_EQ(sim_init(&s, 9800 + (uint64_t)forged, "sim"), 0);
        s.ccfg.version = QC_VERSION_1;
        s.ccfg.after_vn = true;
        s.ccfg.versions = (qc_version_list)L2(QC_VERSION_2, QC_VERSION_1);
        if (!forged) s.epcfg.versions = s.scfg.versions = (qc_version_list)L1(QC_VERSION_1);
        sim_app app;
        sim_app_init(&app, 1, 50000, 1);
        CHECK_EQ(sim_start(&s), 0);
        if (!forged) {
            CHECK(sim_run(&s, s.now + 10 * QC_SEC, sim_app_step, &app));
            CHECK_EQ(app.failed, 0);
            CHECK_U64(qc_conn_version(s.client), QC_VERSION_1);
        } else {
            uint64_t code = closed_with(&s, true);
            CHECK_EQ(qc_conn_close_info(s.client)->lib_error, QC_ERR_VERSION_NEGOTIATION);
            CHECK_U64(code, QC_TE_VERSION_NEGOTIATION_ERROR);
        }
        sim_app_free(&app);
        sim_free(&s);
    }
}

/* Bad configurations are refused when the connection is made. */
static void test_bad_config(void) {
    qc_conn_config cfg;
    qc_conn_config_default(&cfg, false);
    sim s;
    CHECK_EQ(sim_init(&s, 9600, "sim"), 0);
    cfg = s.ccfg;
    qc_cid d = {.len = 8}, sc = {.len = 8};
    qc_conn *c = NULL;
    cfg.version = 0x1a2a3a4a;
    CHECK_EQ(qc_conn_new_client(&c, &cfg, &d, &sc, 0), QC_ERR_INVAL);
    cfg.version = QC_VERSION_1;
    cfg.versions = (qc_version_list)L2(QC_VERSION_1, 0x5a5a5a5a);
    CHECK_EQ(qc_conn_new_client(&c, &cfg, &d, &sc, 0), QC_ERR_INVAL);
    qc_endpoint ep;
    qc_endpoint_config ec = s.epcfg;
    ec.versions.n = 0;
    CHECK_EQ(qc_endpoint_init(&ep, &ec), QC_ERR_INVAL);
    ec.versions = (qc_version_list)L1(0x5a5a5a5a);
    CHECK_EQ(qc_endpoint_init(&ep, &ec), QC_ERR_INVAL);
    sim_free(&s);
}

int main(void) {
    TEST_RUN(test_negotiation_matrix);
    TEST_RUN(test_refused);
    TEST_RUN(test_key_update_v2);
    TEST_RUN(test_client_lies);
    TEST_RUN(test_client_checks);
    TEST_RUN(test_vn_names_next_attempt);
    TEST_RUN(test_vn_downgrade);
    TEST_RUN(test_bad_config);
    return test_summary();
}
