/*
 * Paths (RFC 9000 §9) between two quicc engines, the server told each datagram's source:
 * a NAT that rebinds the client's port, or its address, in the middle of a transfer (the
 * server follows, its first datagram on the new path carries PATH_CHALLENGE, the path
 * validates; the RTT estimate survives a port change and starts again after an address
 * change); a reordered older packet from another address moves nothing; a path that does
 * not validate leaves the connection on the old one; a spoofed copy from another address
 * is undone as soon as the client is heard from its own; the latency spin bit flips once
 * per round trip, or never when off. Every transfer is verified by SHA-256 (sim_app).
 */
#include "core/conn_internal.h"
#include "support/sim.h"
#include "unit/test.h"

typedef struct run {
    sim s;
    sim_app app;
    uint64_t upto;
} run;

/* Pumps the application until the server has sent r->upto bytes. */
static bool server_sent(sim *s, void *user) {
    run *r = user;
    sim_app_step(s, &r->app);
    return s->server && s->server->stats.bytes_sent > r->upto;
}

/* Pumps the application until the tap took its datagram. */
typedef struct held held;
static bool have_held(sim *s, void *user);

/* A 2 MB download through a 20 ms RTT, paths on, until the server has sent `upto`. */
static void start(run *r, uint64_t seed, uint64_t upto) {
    CHECK_EQ(sim_init(&r->s, seed, "sim"), 0);
    r->s.paths = true;
    sim_app_init(&r->app, 1, 2000000, 1);
    CHECK_EQ(sim_start(&r->s), 0);
    r->upto = upto;
    CHECK(sim_run(&r->s, r->s.now + 10 * QC_SEC, server_sent, r));
    CHECK(r->s.server->handshake_confirmed);
}

static void finish(run *r) {
    CHECK(sim_run(&r->s, r->s.now + 60 * QC_SEC, sim_app_step, &r->app));
    CHECK_EQ(r->app.failed, 0);
    CHECK_EQ(r->app.completed, 1);
    CHECK(!r->app.reqs[0].corrupt);
}

static void done(run *r) {
    sim_app_free(&r->app);
    sim_free(&r->s);
}

static void test_rebind_port(void) {
    run r;
    uint64_t upto = 300000;
    start(&r, 6100, upto);
    qc_ts first_sample = r.s.server->rec.rtt.first_sample_time;
    qc_cid before = *qc_cids_peer_current(&r.s.server->cids);
    r.s.client_addr.port = 23456; /* the NAT rebinds */
    finish(&r);
    qc_conn_stats st;
    qc_conn_get_stats(r.s.server, &st);
    CHECK_U64(st.path_migrations, 1);
    CHECK_U64(st.path_validation_failures, 0);
    CHECK_EQ(st.path_state, QC_PATH_VALIDATED);
    CHECK(qc_path_addr_eq(qc_conn_peer_addr(r.s.server), &r.s.client_addr));
    CHECK_U64(r.s.new_path_first, 1);
    CHECK_U64(r.s.new_path_first_challenged, 1);
    /* Only the port changed: the RTT estimate and the window go on (RFC 9000 §9.4). */
    CHECK_U64(r.s.server->rec.rtt.first_sample_time, first_sample);
    /* The client gave spare connection IDs: the server moved to a new one. */
    CHECK(!qc_cid_eq(&before, qc_cids_peer_current(&r.s.server->cids)));
    CHECK(!r.s.server->path.amp_limited);
    done(&r);
}

static void test_rebind_address(void) {
    run r;
    uint64_t upto = 300000;
    start(&r, 6200, upto);
    qc_ts moved = r.s.now;
    r.s.client_addr.ip[3] = 2; /* a new address: 10.0.0.2 */
    finish(&r);
    qc_conn_stats st;
    qc_conn_get_stats(r.s.server, &st);
    CHECK_U64(st.path_migrations, 1);
    CHECK_EQ(st.path_state, QC_PATH_VALIDATED);
    CHECK_U64(r.s.new_path_first_challenged, 1);
    /* A new address: the RTT estimate started again (its first sample is after the move). */
    CHECK(r.s.server->rec.rtt.first_sample_time >= moved);
    done(&r);
}

/* The tap holds back one client datagram, to be delivered later from another address. */
struct held {
    bool armed;
    uint8_t data[1500];
    size_t len;
    run *r;
};

static bool hold_one(sim *s, int to_server, uint8_t *data, size_t *len, void *user) {
    (void)s;
    held *h = user;
    if (!to_server || !h->armed) return true;
    memcpy(h->data, data, *len);
    h->len = *len;
    h->armed = false;
    return false;
}

static bool have_held(sim *s, void *user) {
    held *h = user;
    sim_app_step(s, &h->r->app);
    return !h->armed;
}

/* Runs until the client's next datagram is held back in *h (not delivered). */
static void hold_next(run *r, held *h) {
    *h = (held){.armed = true, .r = r};
    r->s.tap = hold_one;
    r->s.tap_user = h;
    CHECK(sim_run(&r->s, r->s.now + QC_SEC, have_held, h));
    r->s.tap = NULL;
}

static void test_reordered_packet_moves_nothing(void) {
    run r;
    uint64_t upto = 300000;
    start(&r, 6300, upto);
    held h;
    hold_next(&r, &h);
    /* Later packets arrive first, from the usual address. */
    r.upto = r.s.server->stats.bytes_sent + 200000;
    CHECK(sim_run(&r.s, r.s.now + 10 * QC_SEC, server_sent, &r));
    qc_path_addr other = r.s.client_addr;
    other.port = 40000;
    sim_inject_from(&r.s, h.data, h.len, &other);
    finish(&r);
    qc_conn_stats st;
    qc_conn_get_stats(r.s.server, &st);
    CHECK_U64(st.path_migrations, 0);
    CHECK(qc_path_addr_eq(qc_conn_peer_addr(r.s.server), &r.s.client_addr));
    done(&r);
}

/* A copy of the client's latest packet from another address (an attacker's, or a NAT's
 * one-off): the server moves, and goes back as soon as the client is heard from its own
 * address, without waiting for the validation to fail. */
static void test_spoofed_copy_undone(void) {
    run r;
    uint64_t upto = 300000;
    start(&r, 6400, upto);
    held h;
    hold_next(&r, &h);
    qc_path_addr spoofed = {.ip = {192, 0, 2, 7}, .ip_len = 4, .port = 999};
    sim_inject_from(&r.s, h.data, h.len, &spoofed);
    CHECK(qc_path_addr_eq(qc_conn_peer_addr(r.s.server), &spoofed));
    CHECK(r.s.server->path.amp_limited);
    /* The client (a pure receiver, with nothing to retransmit) speaks again: a PING. */
    r.s.client->timers.ping_pending = true;
    finish(&r);
    qc_conn_stats st;
    qc_conn_get_stats(r.s.server, &st);
    CHECK_U64(st.path_migrations, 1);
    CHECK_U64(st.path_validation_failures, 0);
    CHECK(qc_path_addr_eq(qc_conn_peer_addr(r.s.server), &r.s.client_addr));
    CHECK(!r.s.server->path.amp_limited);
    done(&r);
}

/* The server moves to an address that never answers while the client is cut off: the
 * validation fails after its timer and the server goes back to the old path; the transfer
 * completes there once the client is heard again. */
static void test_failed_validation_falls_back(void) {
    run r;
    uint64_t upto = 300000;
    start(&r, 6500, upto);
    held h;
    hold_next(&r, &h);
    qc_path_addr dead = {.ip = {192, 0, 2, 9}, .ip_len = 4, .port = 4433};
    sim_inject_from(&r.s, h.data, h.len, &dead);
    CHECK(qc_path_addr_eq(qc_conn_peer_addr(r.s.server), &dead));
    r.s.link[0].loss = 1.0; /* nothing from the client for a while */
    r.upto = UINT64_MAX;
    CHECK(!sim_run(&r.s, r.s.now + 4 * QC_SEC, server_sent, &r));
    qc_conn_stats st;
    qc_conn_get_stats(r.s.server, &st);
    CHECK_U64(st.path_validation_failures, 1);
    CHECK_EQ(st.path_state, QC_PATH_FAILED);
    CHECK(qc_path_addr_eq(qc_conn_peer_addr(r.s.server), &r.s.client_addr));
    CHECK(!r.s.server->path.amp_limited);
    /* One challenge: the three-times limit of what came from that address (one datagram)
     * leaves no room for another (RFC 9000 §8.2.1). */
    CHECK_U64(r.s.server->path.val.challenges, 1);
    r.s.link[0].loss = 0;
    finish(&r);
    qc_conn_get_stats(r.s.server, &st);
    CHECK_U64(st.path_migrations, 1);
    done(&r);
}

/* The latency spin bit (RFC 9000 §17.4) seen on the wire: it is not header-protected, so
 * an observer counts its flips. Spinning, each direction flips about once per round trip;
 * off, it never flips. */
typedef struct spins {
    int last[2];
    unsigned flips[2], pkts[2];
} spins;

static bool watch_spin(sim *s, int to_server, uint8_t *data, size_t *len, void *user) {
    (void)s;
    spins *w = user;
    if (*len == 0 || (data[0] & 0x80)) return true; /* long headers have none */
    int bit = (data[0] & 0x20) != 0;
    if (w->pkts[to_server]++ && bit != w->last[to_server]) w->flips[to_server]++;
    w->last[to_server] = bit;
    return true;
}

static void spin_run(int mode, uint64_t seed, spins *w) {
    sim s;
    CHECK_EQ(sim_init(&s, seed, "sim"), 0);
    s.ccfg.spin_bit = s.scfg.spin_bit = mode;
    for (int d = 0; d < 2; d++)
        s.link[d].delay = 25 * QC_MS; /* a 50 ms round trip */
    memset(w, 0, sizeof(*w));
    s.tap = watch_spin;
    s.tap_user = w;
    sim_app app;
    sim_app_init(&app, 1, 3000000, 1);
    CHECK_EQ(sim_start(&s), 0);
    qc_ts t0 = s.now;
    CHECK(sim_run(&s, s.now + 60 * QC_SEC, sim_app_step, &app));
    CHECK_EQ(app.failed, 0);
    CHECK(!app.reqs[0].corrupt);
    /* Roughly one flip per round trip each way (within a factor of two). */
    unsigned rtts = (unsigned)((s.now - t0) / (50 * QC_MS));
    if (mode == QC_SPIN_ON)
        for (int d = 0; d < 2; d++) {
            CHECK(w->flips[d] >= rtts / 2);
            CHECK(w->flips[d] <= 2 * rtts + 2);
        }
    sim_app_free(&app);
    sim_free(&s);
}

static void test_spin_bit(void) {
    spins w;
    spin_run(QC_SPIN_ON, 6600, &w);
    CHECK(w.pkts[0] > 100 && w.pkts[1] >= 5); /* the client acknowledges once a flight */
    spin_run(QC_SPIN_OFF, 6601, &w);
    CHECK(w.pkts[0] > 100 && w.pkts[1] >= 5); /* the client acknowledges once a flight */
    CHECK_EQ(w.flips[0], 0);
    CHECK_EQ(w.flips[1], 0);
}

/* Greasing the QUIC bit (RFC 9287): packets seen with the bit clear, each way. */
typedef struct greases {
    unsigned clear[2], pkts[2], initial_clear;
} greases;

static bool watch_grease(sim *s, int to_server, uint8_t *data, size_t *len, void *user) {
    (void)s;
    greases *w = user;
    if (*len == 0) return true;
    w->pkts[to_server]++;
    if (!(data[0] & 0x40)) {
        w->clear[to_server]++;
        /* An Initial: a long header with v1's type bits 00 */
        if ((data[0] & 0x80) && ((data[0] >> 4) & 3) == 0) w->initial_clear++;
    }
    return true;
}

/* A transfer with the client and server advertising grease_quic_bit as told; returns
 * whether the download completed intact. */
static bool grease_run(bool client, bool server, uint64_t seed, greases *w) {
    sim s;
    CHECK_EQ(sim_init(&s, seed, "sim"), 0);
    s.ccfg.grease_quic_bit = client;
    s.scfg.grease_quic_bit = server;
    memset(w, 0, sizeof(*w));
    s.tap = watch_grease;
    s.tap_user = w;
    sim_app app;
    sim_app_init(&app, 1, 500000, 1);
    CHECK_EQ(sim_start(&s), 0);
    bool ok = sim_run(&s, s.now + 30 * QC_SEC, sim_app_step, &app) && app.failed == 0 &&
              !app.reqs[0].corrupt;
    sim_app_free(&app);
    sim_free(&s);
    return ok;
}

static void test_grease_quic_bit(void) {
    greases w;
    /* Both advertise: about half of each side's packets go with the bit clear, never an
     * Initial, and the transfer is whole. */
    CHECK(grease_run(true, true, 6700, &w));
    /* The server's packets (hundreds): between a quarter and three quarters clear; the
     * client's (a handful of acknowledgements): some clear, some not. */
    CHECK(w.pkts[0] > 200 && w.pkts[1] >= 5);
    CHECK(w.clear[0] * 4 >= w.pkts[0] && w.clear[0] * 4 <= 3 * w.pkts[0]);
    CHECK(w.clear[1] >= 1 && w.clear[1] < w.pkts[1]);
    CHECK_EQ(w.initial_clear, 0);
    /* Off on one side: it neither advertises nor greases, and the other must not grease. */
    CHECK(grease_run(true, false, 6701, &w));
    CHECK_EQ(w.clear[0] + w.clear[1], 0);
    CHECK(grease_run(false, true, 6703, &w));
    CHECK_EQ(w.clear[0] + w.clear[1], 0);
    /* Neither: every packet has it set. */
    CHECK(grease_run(false, false, 6702, &w));
    CHECK_EQ(w.clear[0] + w.clear[1], 0);
}

int main(void) {
    TEST_RUN(test_spin_bit);
    TEST_RUN(test_grease_quic_bit);
    TEST_RUN(test_rebind_port);
    TEST_RUN(test_rebind_address);
    TEST_RUN(test_reordered_packet_moves_nothing);
    TEST_RUN(test_spoofed_copy_undone);
    TEST_RUN(test_failed_validation_falls_back);
    return test_summary();
}
