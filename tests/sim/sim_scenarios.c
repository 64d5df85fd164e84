/* Simulator: key update mid-transfer, idle timeout, Retry, stateless-reset-free close, and a
 * peer sending each kind of malformed frame (closed with the RFC's error code). */
#include "core/conn_internal.h"
#include "support/sim.h"
#include "unit/test.h"

typedef struct ku_state {
    sim_app *app;
    bool client_done, server_done;
} ku_state;

static bool ku_step(sim *s, void *user) {
    ku_state *k = user;
    uint64_t got = k->app->reqs[0].got;
    if (!k->client_done && got > (2u << 20) && qc_conn_initiate_key_update(s->client) == 0)
        k->client_done = true;
    if (k->client_done && !k->server_done && got > (5u << 20) &&
        qc_conn_initiate_key_update(s->server) == 0)
        k->server_done = true;
    return sim_app_step(s, k->app);
}

static void test_key_update_mid_transfer(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 21, "sim"), 0);
    for (int d = 0; d < 2; d++) {
        s.link[d].loss = 0.01;
        s.link[d].rate_bps = 200000000;
    }
    sim_app app;
    sim_app_init(&app, 1, 8u << 20, 1);
    ku_state k = {&app, false, false};
    sim_start(&s);
    CHECK(sim_run(&s, s.now + 300 * QC_SEC, ku_step, &k));
    CHECK(k.client_done && k.server_done);
    CHECK_EQ(app.failed, 0);
    CHECK_U64(app.reqs[0].got, 8u << 20);
    CHECK_U64(qc_conn_key_updates(s.client), 2);
    CHECK_U64(qc_conn_key_updates(s.server), 2);
    sim_app_free(&app);
    sim_free(&s);
}

static void test_idle_timeout(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 22, "sim"), 0);
    s.ccfg.idle_timeout_ms = 3000;
    s.scfg.idle_timeout_ms = 5000;
    sim_start(&s);
    CHECK(sim_run(&s, s.now + 5 * QC_SEC, sim_cond_established, NULL));
    qc_ts t0 = s.now;
    CHECK(sim_run(&s, s.now + 60 * QC_SEC, sim_cond_both_closed, NULL));
    const qc_close_info *cc = qc_conn_close_info(s.client);
    const qc_close_info *sc = qc_conn_close_info(s.server);
    CHECK(cc->idle && sc->idle);
    CHECK_EQ(cc->lib_error, QC_ERR_IDLE_TIMEOUT);
    /* The negotiated timeout is the smaller one: 3 s (not 5 s). */
    CHECK(s.now - t0 >= 3 * QC_SEC - 100 * QC_MS);
    CHECK(s.now - t0 < 4 * QC_SEC);
    sim_free(&s);
}

static void test_keepalive_prevents_idle(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 23, "sim"), 0);
    s.ccfg.idle_timeout_ms = 2000;
    s.scfg.idle_timeout_ms = 2000;
    s.ccfg.keepalive_interval = 500 * QC_MS;
    sim_start(&s);
    CHECK(sim_run(&s, s.now + 5 * QC_SEC, sim_cond_established, NULL));
    CHECK(!sim_run(&s, s.now + 10 * QC_SEC, sim_cond_both_closed, NULL));
    CHECK_EQ(qc_conn_state(s.client), QC_CONN_ESTABLISHED);
    CHECK_EQ(qc_conn_state(s.server), QC_CONN_ESTABLISHED);
    sim_free(&s);
}

static void test_retry(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 24, "sim"), 0);
    s.retry = true;
    sim_app app;
    sim_app_init(&app, 3, 100000, 3);
    sim_start(&s);
    CHECK(sim_run(&s, s.now + 30 * QC_SEC, sim_app_step, &app));
    CHECK(s.retry_sent);
    CHECK_EQ(app.failed, 0);
    CHECK(s.client->ids.retried);
    CHECK(s.server->local_tp.has_retry_scid);
    CHECK(qc_cid_eq(&s.client->ids.retry_scid, &s.server->local_tp.retry_scid));
    CHECK_EQ(s.ep.retry_sent, 1);
    CHECK_EQ(s.ep.bad_tokens, 0);
    sim_app_free(&app);
    sim_free(&s);
}

/* A forged Retry (bad integrity tag) is ignored: the handshake goes on without it. */
static bool corrupt_retry_tap(sim *s, int to_server, uint8_t *data, size_t *len, void *user) {
    if (!to_server && (data[0] & 0xf0) == 0xf0) data[*len - 1] ^= 1;
    return true;
}

static void test_forged_retry_ignored(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 25, "sim"), 0);
    s.retry = true;
    s.tap = corrupt_retry_tap;
    sim_start(&s);
    CHECK(!sim_run(&s, s.now + 3 * QC_SEC, sim_cond_established, NULL));
    CHECK(s.retry_sent);
    CHECK(!s.client->ids.retried);
    sim_free(&s);
}

/* ---- malformed frames from the client, fed to the server as 1-RTT payload ---- */

typedef struct bad_case {
    const char *name;
    enum qc_pkt_type pt;
    const char *hex;
    uint64_t code;
} bad_case;

static const bad_case bad_cases[] = {
    {"unknown frame type", QC_PT_1RTT, "21", QC_TE_FRAME_ENCODING_ERROR},
    {"non-minimal frame type", QC_PT_1RTT, "4001", QC_TE_PROTOCOL_VIOLATION},
    {"truncated STREAM", QC_PT_1RTT, "0a000aabcd", QC_TE_FRAME_ENCODING_ERROR},
    {"truncated ACK", QC_PT_1RTT, "020a00", QC_TE_FRAME_ENCODING_ERROR},
    {"ACK range below zero", QC_PT_1RTT, "0205000006", QC_TE_FRAME_ENCODING_ERROR},
    {"ACK of unsent packet", QC_PT_1RTT, "0280100000000000", QC_TE_PROTOCOL_VIOLATION},
    {"STREAM on our send-only stream", QC_PT_1RTT, "0b0302aaaa", QC_TE_STREAM_STATE_ERROR},
    {"STREAM on unopened local stream", QC_PT_1RTT, "0b0102aaaa", QC_TE_STREAM_STATE_ERROR},
    {"STREAM beyond stream limit", QC_PT_1RTT, "0b4190 02aaaa", QC_TE_STREAM_LIMIT_ERROR},
    {"STREAM beyond flow control", QC_PT_1RTT, "0e00 80100000 02aaaa", QC_TE_FLOW_CONTROL_ERROR},
    {"final size below received", QC_PT_1RTT, "0a000aaaaaaaaaaaaaaaaaaaaa 04000005",
     QC_TE_FINAL_SIZE_ERROR},
    {"final size changed", QC_PT_1RTT, "0b0002aaaa 04000005", QC_TE_FINAL_SIZE_ERROR},
    {"STOP_SENDING on receive-only", QC_PT_1RTT, "050200", QC_TE_STREAM_STATE_ERROR},
    {"MAX_STREAM_DATA on receive-only", QC_PT_1RTT, "11024000", QC_TE_STREAM_STATE_ERROR},
    {"MAX_STREAMS above 2^60", QC_PT_1RTT, "12d000000000000001", QC_TE_FRAME_ENCODING_ERROR},
    {"HANDSHAKE_DONE from a client", QC_PT_1RTT, "1e", QC_TE_PROTOCOL_VIOLATION},
    {"NEW_TOKEN from a client", QC_PT_1RTT, "0701aa", QC_TE_PROTOCOL_VIOLATION},
    {"empty NEW_TOKEN", QC_PT_1RTT, "0700", QC_TE_FRAME_ENCODING_ERROR},
    {"CRYPTO beyond buffer", QC_PT_1RTT, "06801000000100", QC_TE_CRYPTO_BUFFER_EXCEEDED},
    {"NEW_CONNECTION_ID of length 0", QC_PT_1RTT, "18010000 00000000000000000000000000000000",
     QC_TE_FRAME_ENCODING_ERROR},
    {"RETIRE of never-issued ID", QC_PT_1RTT, "1905", QC_TE_PROTOCOL_VIOLATION},
    {"DATAGRAM not negotiated", QC_PT_1RTT, "3001", QC_TE_PROTOCOL_VIOLATION},
    {"STREAM in a Handshake packet", QC_PT_HANDSHAKE, "0b0001aa", QC_TE_PROTOCOL_VIOLATION},
    {"empty packet payload", QC_PT_1RTT, "", QC_TE_PROTOCOL_VIOLATION},
};

static void test_malformed_frames(void) {
    for (size_t i = 0; i < QC_ARRAY_LEN(bad_cases); i++) {
        const bad_case *bc = &bad_cases[i];
        sim s;
        CHECK_EQ(sim_init(&s, 100 + i, "sim"), 0);
        sim_start(&s);
        CHECK(sim_run(&s, s.now + 5 * QC_SEC, sim_cond_established, NULL));
        uint8_t payload[256];
        size_t len = test_unhex(bc->hex, payload, sizeof(payload));
        bool eliciting;
        int rv = qc_conn_recv_frames(s.server, bc->pt, payload, len, &eliciting, s.now);
        CHECK(rv != 0);
        const qc_close_info *sc = qc_conn_close_info(s.server);
        if (!sc->set || sc->error_code != bc->code)
            fprintf(stderr, "case '%s': server closed=%d code 0x%llx, expected 0x%llx\n", bc->name,
                    sc->set, (unsigned long long)sc->error_code, (unsigned long long)bc->code);
        CHECK(sc->set && sc->local && !sc->app);
        CHECK_U64(sc->error_code, bc->code);
        /* The client receives the CONNECTION_CLOSE with the same code. */
        CHECK(sim_run(&s, s.now + 10 * QC_SEC, sim_cond_both_closed, NULL));
        const qc_close_info *cc = qc_conn_close_info(s.client);
        CHECK(cc->set && !cc->local && !cc->app);
        CHECK_U64(cc->error_code, bc->code);
        sim_free(&s);
    }
}

/* Garbage datagrams never hurt an established connection. */
static bool garbage_tap(sim *s, int to_server, uint8_t *data, size_t *len, void *user) {
    int *count = user;
    if (to_server && (*count)++ % 3 == 0) {
        for (size_t i = 1; i < *len; i++)
            data[i] = (uint8_t)sim_rand64(s);
    }
    return true;
}

static void test_garbage_resilience(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 31, "sim"), 0);
    int count = 0;
    sim_app app;
    sim_app_init(&app, 4, 200000, 4);
    sim_start(&s);
    CHECK(sim_run(&s, s.now + 5 * QC_SEC, sim_cond_established, NULL));
    s.tap = garbage_tap;
    s.tap_user = &count;
    CHECK(sim_run(&s, s.now + 120 * QC_SEC, sim_app_step, &app));
    CHECK_EQ(app.failed, 0);
    CHECK(count > 10);
    CHECK_EQ(qc_conn_state(s.server), QC_CONN_ESTABLISHED);
    sim_app_free(&app);
    sim_free(&s);
}

/* A stateless reset (a datagram ending in the server's token) moves the client to draining;
 * the same datagram with a wrong token is ignored. */
static void test_stateless_reset(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 41, "sim"), 0);
    sim_start(&s);
    CHECK(sim_run(&s, s.now + 5 * QC_SEC, sim_cond_established, NULL));
    const qc_tparams *tp = qc_conn_peer_tparams(s.client);
    CHECK(tp && tp->has_reset_token);
    uint8_t d[43];
    for (size_t i = 0; i < sizeof(d); i++)
        d[i] = (uint8_t)sim_rand64(&s);
    d[0] = 0x40 | (d[0] & 0x3f);
    memcpy(d + sizeof(d) - 16, tp->reset_token, 16);
    d[sizeof(d) - 1] ^= 1;
    uint8_t copy[43];
    memcpy(copy, d, sizeof(d));
    qc_conn_recv(s.client, copy, sizeof(copy), s.now);
    CHECK_EQ(qc_conn_state(s.client), QC_CONN_ESTABLISHED);
    d[sizeof(d) - 1] ^= 1;
    qc_conn_recv(s.client, d, sizeof(d), s.now);
    CHECK_EQ(qc_conn_state(s.client), QC_CONN_DRAINING);
    const qc_close_info *ci = qc_conn_close_info(s.client);
    CHECK(ci->stateless_reset);
    CHECK_EQ(ci->lib_error, QC_ERR_STATELESS_RESET);
    sim_free(&s);
}

/* Version Negotiation: one listing only other versions ends the attempt; one listing ours is
 * ignored. */
static void test_version_negotiation(void) {
    for (int lists_v1 = 0; lists_v1 < 2; lists_v1++) {
        sim s;
        CHECK_EQ(sim_init(&s, 42, "sim"), 0);
        sim_start(&s);
        uint8_t vn[128];
        uint32_t versions[2] = {0x1a2a3a4a, lists_v1 ? QC_VERSION_1 : 0x5a6a7a8a};
        size_t n = qc_pkt_write_vn(vn, sizeof(vn), &s.client->cids.local[0].cid, &s.client_odcid,
                                   versions, 2, 0x11);
        CHECK(n > 0);
        qc_conn_recv(s.client, vn, n, s.now);
        if (lists_v1) {
            CHECK_EQ(qc_conn_state(s.client), QC_CONN_HANDSHAKING);
            CHECK(sim_run(&s, s.now + 5 * QC_SEC, sim_cond_established, NULL));
        } else {
            CHECK_EQ(qc_conn_state(s.client), QC_CONN_CLOSED);
            const qc_close_info *ci = qc_conn_close_info(s.client);
            CHECK_EQ(ci->lib_error, QC_ERR_VERSION);
            CHECK_U64(ci->error_code, QC_TE_CONNECTION_REFUSED);
            CHECK(ci->local); /* we abandon the attempt: no CONNECTION_CLOSE came */
        }
        sim_free(&s);
    }
}

/* The server never sends more than three times what an unvalidated client sent. */
static bool only_first_to_server(sim *s, int to_server, uint8_t *data, size_t *len, void *user) {
    int *n = user;
    return !to_server || (*n)++ == 0;
}

static void test_anti_amplification(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 43, "sim"), 0);
    int n = 0;
    s.tap = only_first_to_server;
    s.tap_user = &n;
    sim_start(&s);
    sim_run(&s, s.now + 20 * QC_SEC, NULL, NULL);
    CHECK(s.server != NULL);
    qc_conn_stats st;
    qc_conn_get_stats(s.server, &st);
    CHECK(st.bytes_recv >= 1200);
    CHECK(st.bytes_sent > 0);
    CHECK(st.bytes_sent <= 3 * st.bytes_recv);
    sim_free(&s);
}

/*
 * RFC 9002 §6.2.2.1's deadlock: the server's first datagram arrives (its Initial ACKs the
 * client's), the rest of its flight and its retransmissions are lost until it has spent
 * its amplification budget. The client has nothing in flight; unless it arms its
 * anti-deadlock PTO and probes, both wait for the idle timeout.
 */
typedef struct {
    int to_client;
    int dropped;
} deadlock_tap_state;

/* The length of the first (long-header) packet of a datagram, 0 if it does not parse. */
static size_t first_packet_len(const uint8_t *d, size_t len) {
    qc_rd r = qc_rd_init(d, len);
    uint8_t b0, cl;
    uint32_t version;
    uint64_t tl, pl;
    const uint8_t *skip;
    if (qc_rd_u8(&r, &b0) || !(b0 & 0x80) || qc_rd_u32(&r, &version)) return 0;
    for (int i = 0; i < 2; i++)
        if (qc_rd_u8(&r, &cl) || qc_rd_bytes(&r, cl, &skip)) return 0;
    if (((b0 >> 4) & 3) == 0 && (qc_rd_varint(&r, &tl) || qc_rd_bytes(&r, (size_t)tl, &skip)))
        return 0;
    if (qc_rd_varint(&r, &pl) || pl > qc_rd_left(&r)) return 0;
    return (size_t)(len - qc_rd_left(&r) + pl);
}

/* Of the server's first datagram only its Initial arrives (ServerHello and the ACK of the
 * client's Initial); its next eleven datagrams are lost. */
static bool drop_server_flight(sim *s, int to_server, uint8_t *data, size_t *len, void *user) {
    deadlock_tap_state *t = user;
    (void)s;
    if (to_server) return true;
    int n = ++t->to_client;
    if (n == 1) {
        size_t first = first_packet_len(data, *len);
        if (first > 0 && first < *len) {
            *len = first;
            t->dropped++;
        }
        return true;
    }
    if (n > 12) return true;
    t->dropped++;
    return false;
}

static void test_anti_deadlock_pto(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 47, "sim"), 0);
    deadlock_tap_state t = {0, 0};
    s.tap = drop_server_flight;
    s.tap_user = &t;
    s.ccfg.idle_timeout_ms = s.scfg.idle_timeout_ms = 30000;
    sim_start(&s);
    qc_ts start = s.now;
    CHECK(sim_run(&s, s.now + 25 * QC_SEC, sim_cond_established, NULL));
    /* The server spent its budget on lost datagrams, then waited for the client's probes. */
    CHECK(t.dropped >= 3);
    /* Virtual time, deterministic for the seed: the client's first anti-deadlock PTO (about
     * 1 s with the initial RTT) gets the server going; waiting for the server's own backed-off
     * probes instead took 3.8 s. */
    CHECK(s.now - start < 2 * QC_SEC);
    qc_conn_stats st;
    qc_conn_get_stats(s.client, &st);
    CHECK(st.pkts_sent >= 3); /* Initial, its ACK, and anti-deadlock probes */
    sim_free(&s);
}

/* A client that closes while it has only Initial keys (as after refusing the server's
 * certificate) pads that datagram to 1200 bytes: the server drops smaller Initial datagrams
 * and would never learn why (RFC 9000 §14.1). */
typedef struct {
    bool closed;
    size_t smallest_after;
    int after;
} close_tap_state;

static bool watch_client_close(sim *s, int to_server, uint8_t *data, size_t *len, void *user) {
    close_tap_state *t = user;
    (void)s;
    if (to_server && t->closed && (data[0] & 0x80)) {
        t->after++;
        if (*len < t->smallest_after) t->smallest_after = *len;
    }
    return true;
}

static void test_initial_close_padded(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 53, "sim"), 0);
    close_tap_state t = {false, SIZE_MAX, 0};
    s.tap = watch_client_close;
    s.tap_user = &t;
    sim_start(&s);
    /* Deliver the client's first Initial, then close before any answer arrives. */
    sim_run(&s, s.now + 2 * QC_MS, NULL, NULL);
    qc_conn_close(s.client, false, 0x0a, "refused", s.now);
    t.closed = true;
    CHECK(sim_run(&s, s.now + 5 * QC_SEC, sim_cond_both_closed, NULL) || s.server == NULL ||
          qc_conn_state(s.server) >= QC_CONN_CLOSING);
    CHECK(t.after >= 1);
    CHECK(t.smallest_after >= 1200);
    /* The server read it: it knows why. */
    CHECK(s.server != NULL);
    if (s.server) {
        const qc_close_info *ci = qc_conn_close_info(s.server);
        CHECK(ci->set && !ci->local);
        CHECK_U64(ci->error_code, 0x0a);
    }
    sim_free(&s);
}

/* A server's half-open handshake ends at its handshake timeout, long before the idle timeout:
 * the client sends its first Initial and nothing more. */
static void test_handshake_timeout(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 59, "sim"), 0);
    int n = 0;
    s.tap = only_first_to_server;
    s.tap_user = &n;
    s.scfg.handshake_timeout_ms = 2000;
    s.scfg.idle_timeout_ms = s.ccfg.idle_timeout_ms = 30000;
    sim_start(&s);
    qc_ts start = s.now;
    sim_run(&s, s.now + 1900 * QC_MS, NULL, NULL);
    CHECK(s.server != NULL);
    if (!s.server) {
        sim_free(&s);
        return;
    }
    CHECK(qc_conn_state(s.server) < QC_CONN_CLOSED);
    sim_run(&s, start + 2100 * QC_MS, NULL, NULL);
    CHECK_EQ(qc_conn_state(s.server), QC_CONN_CLOSED);
    const qc_close_info *ci = qc_conn_close_info(s.server);
    CHECK(ci->set && ci->local);
    CHECK_EQ(ci->lib_error, QC_ERR_HANDSHAKE_TIMEOUT);
    sim_free(&s);
}

/* After the handshake each side issues connection IDs up to the peer's limit. */
static void test_new_connection_ids(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 44, "sim"), 0);
    sim_start(&s);
    CHECK(sim_run(&s, s.now + 5 * QC_SEC, sim_cond_established, NULL));
    sim_run(&s, s.now + 1 * QC_SEC, NULL, NULL);
    size_t peer_ids = 0;
    for (size_t i = 0; i < QC_CID_SLOTS; i++)
        peer_ids += s.client->cids.peer[i].in_use;
    CHECK_EQ(peer_ids, QC_CID_SLOTS / 2);
    for (size_t i = 0; i < QC_CID_SLOTS; i++)
        if (s.client->cids.peer[i].in_use && s.client->cids.peer[i].seq > 0)
            CHECK(s.client->cids.peer[i].has_token);
    sim_free(&s);
}

/* 150 streams opened before the application accepts any are all announced, once each. */
static void test_many_incoming_streams(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 45, "sim"), 0);
    s.scfg.max_streams_bidi = 200;
    sim_start(&s);
    CHECK(sim_run(&s, s.now + 5 * QC_SEC, sim_cond_established, NULL));
    for (int i = 0; i < 150; i++) {
        uint64_t sid;
        CHECK_EQ(qc_conn_stream_open(s.client, false, false, &sid), 0);
        uint8_t b = (uint8_t)i;
        CHECK_EQ(qc_conn_stream_write(s.client, sid, &b, 1, true), 1);
    }
    sim_run(&s, s.now + 2 * QC_SEC, NULL, NULL);
    CHECK_EQ(qc_conn_stream_accept_queue_len(s.server), 150);
    bool seen[150] = {false};
    uint64_t sid;
    int n = 0;
    while (qc_conn_stream_accept(s.server, &sid)) {
        uint64_t idx = sid >> 2;
        CHECK(idx < 150 && !seen[idx]);
        if (idx < 150) {
            seen[idx] = true;
            uint8_t b = 0xff;
            bool fin = false;
            CHECK_EQ(qc_conn_stream_read(s.server, sid, &b, 1, &fin), 1);
            CHECK_EQ(b, (uint8_t)idx);
        }
        n++;
    }
    CHECK_EQ(n, 150);
    sim_free(&s);
}

/* A token the server did not mint (bytes changed in the client's Initial header): treated as
 * no token, so the server demands a Retry again, which the client may not follow twice. */
static bool forge_token_tap(sim *s, int to_server, uint8_t *data, size_t *len, void *user) {
    qc_pkt_hdr h;
    if (to_server && qc_pkt_parse(data, *len, 8, &h) == 0 && h.type == QC_PT_INITIAL &&
        h.token_len > 20)
        data[h.token - data + 15] ^= 0x55;
    return true;
}

static void test_retry_forged_token(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 46, "sim"), 0);
    s.retry = true;
    s.tap = forge_token_tap;
    sim_start(&s);
    CHECK(!sim_run(&s, s.now + 3 * QC_SEC, sim_cond_established, NULL));
    CHECK(s.ep.bad_tokens >= 1);
    CHECK(s.ep.retry_sent >= 2);
    CHECK(s.server == NULL);
    sim_free(&s);
}

/* An expired Retry token: the server closes with INVALID_TOKEN. */
static void test_retry_expired_token(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 47, "sim"), 0);
    s.retry = true;
    s.epcfg.retry_token_life = 5 * QC_MS; /* the round trip takes 20 ms */
    sim_start(&s);
    CHECK(sim_run(&s, s.now + 10 * QC_SEC, sim_cond_both_closed, NULL));
    CHECK_EQ(s.ep.bad_tokens, 1);
    const qc_close_info *ci = qc_conn_close_info(s.client);
    CHECK(ci->set && !ci->local);
    CHECK_U64(ci->error_code, QC_TE_INVALID_TOKEN);
    sim_free(&s);
}

/* Version Negotiation and stateless reset from the endpoint. */
static void test_endpoint_stateless_replies(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 48, "sim"), 0);
    sim_start(&s);
    uint8_t dg[1200] = {0xc0, 0x0a, 0x0a, 0x0a, 0x0a, 8, 1, 2, 3, 4, 5, 6, 7, 8, 4, 9, 9, 9, 9};
    uint8_t out[1500];
    qc_ep_decision d;
    const uint8_t addr[] = {1, 2, 3};
    qc_endpoint_decide(&s.ep, dg, sizeof(dg), addr, 3, s.now, out, sizeof(out), &d);
    CHECK_EQ(d.action, QC_EP_REPLY);
    qc_pkt_hdr h;
    CHECK_EQ(qc_pkt_parse(out, d.reply_len, 8, &h), 0);
    CHECK_EQ(h.type, QC_PT_VN);
    CHECK_EQ(h.dcid.len, 4); /* the client's SCID */
    CHECK_EQ(h.scid.len, 8);
    /* Our versions in order (v2, v1), then a greased one of the 0x?a?a?a?a pattern. */
    CHECK_EQ(h.vn_count, 3);
    static const uint8_t ours[] = {0x6b, 0x33, 0x43, 0xcf, 0, 0, 0, 1};
    CHECK_MEM(h.vn_versions, ours, 8);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(h.vn_versions[8 + i] & 0x0f, 0x0a);
    /* The same in a short datagram gets nothing. */
    qc_endpoint_decide(&s.ep, dg, 100, addr, 3, s.now, out, sizeof(out), &d);
    CHECK_EQ(d.action, QC_EP_DROP);
    /* A short header for an unknown CID: a stateless reset ending in that CID's token. */
    uint8_t sh[60] = {0x41, 1, 2, 3, 4, 5, 6, 7, 8};
    qc_endpoint_decide(&s.ep, sh, sizeof(sh), addr, 3, s.now, out, sizeof(out), &d);
    CHECK_EQ(d.action, QC_EP_REPLY);
    CHECK(d.reply_len < sizeof(sh) && d.reply_len >= 21);
    qc_cid cid = {.len = 8, .id = {1, 2, 3, 4, 5, 6, 7, 8}};
    uint8_t tok[16];
    qc_token_stateless_reset(&s.ep.tk, &cid, tok);
    CHECK_MEM(out + d.reply_len - 16, tok, 16);
    CHECK_EQ(out[0] & 0xc0, 0x40);
    /* Too short to answer without risking a loop. */
    qc_endpoint_decide(&s.ep, sh, 21, addr, 3, s.now, out, sizeof(out), &d);
    CHECK_EQ(d.action, QC_EP_DROP);
    sim_free(&s);
}

/* The client's stateless reset detection works with the endpoint's derived tokens: a reset
 * for one of the server's IDs ends the client's connection. */
static void test_endpoint_reset_reaches_client(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 49, "sim"), 0);
    sim_start(&s);
    CHECK(sim_run(&s, s.now + 5 * QC_SEC, sim_cond_established, NULL));
    /* The server forgets the connection; the client's next packet gets a stateless reset. */
    qc_endpoint_remove_conn(&s.ep, s.server);
    qc_conn_free(s.server);
    s.server = NULL;
    qc_conn_close(s.client, true, 0, "", s.now); /* makes the client send a packet */
    s.client->state = QC_CONN_ESTABLISHED;       /* ... while staying open to see the reset */
    s.client->close.set = false;
    uint64_t sid;
    CHECK_EQ(qc_conn_stream_open(s.client, false, false, &sid), 0);
    CHECK_EQ(qc_conn_stream_write(s.client, sid, (const uint8_t *)"x", 1, true), 1);
    sim_run(&s, s.now + 2 * QC_SEC, NULL, NULL);
    CHECK(s.ep.resets_sent >= 1);
    const qc_close_info *ci = qc_conn_close_info(s.client);
    CHECK(ci->stateless_reset);
    sim_free(&s);
}

/* Server-initiated streams of both kinds: the client accepts them, reads them to FIN and
 * answers on the bidirectional one; every byte checked. */
static void test_server_initiated_streams(void) {
    sim s;
    CHECK_EQ(sim_init(&s, 50, "sim"), 0);
    sim_start(&s);
    CHECK(sim_run(&s, s.now + 5 * QC_SEC, sim_cond_established, NULL));
    uint64_t bidi, uni;
    CHECK_EQ(qc_conn_stream_open(s.server, false, false, &bidi), 0);
    CHECK_EQ(qc_conn_stream_open(s.server, true, false, &uni), 0);
    CHECK_U64(bidi, 1); /* server-initiated bidi */
    CHECK_U64(uni, 3);  /* server-initiated uni */
    static uint8_t big[300000];
    sim_pattern(big, sizeof(big), 0, 99);
    CHECK_EQ(qc_conn_stream_write(s.server, bidi, (const uint8_t *)"ping", 4, true), 4);
    size_t off = 0;
    uint64_t got_uni = 0, got_bidi = 0;
    uint8_t buf[65536];
    bool uni_fin = false, bidi_fin = false, answered = false;
    sim_hash h;
    sim_hash_init(&h);
    for (int round = 0; round < 2000 && !(uni_fin && bidi_fin); round++) {
        if (off < sizeof(big)) {
            int64_t n = qc_conn_stream_write(s.server, uni, big + off, sizeof(big) - off, true);
            CHECK(n >= 0);
            off += (size_t)(n > 0 ? n : 0);
        }
        sim_run(&s, s.now + 5 * QC_MS, NULL, NULL);
        uint64_t sid;
        while (qc_conn_stream_accept(s.client, &sid))
            CHECK(sid == bidi || sid == uni);
        bool fin;
        int64_t n;
        while (!uni_fin && (n = qc_conn_stream_read(s.client, uni, buf, sizeof(buf), &fin)) >= 0) {
            sim_hash_update(&h, buf, (size_t)n);
            got_uni += (uint64_t)n;
            uni_fin = fin;
            if (n == 0) break;
        }
        while (!bidi_fin &&
               (n = qc_conn_stream_read(s.client, bidi, buf, sizeof(buf), &fin)) >= 0) {
            if (n == 4) CHECK_MEM(buf, "ping", 4);
            got_bidi += (uint64_t)n;
            bidi_fin = fin;
            if (n == 0) break;
        }
        if (bidi_fin && !answered) {
            CHECK_EQ(qc_conn_stream_write(s.client, bidi, (const uint8_t *)"pong", 4, true), 4);
            answered = true;
        }
    }
    CHECK(uni_fin && bidi_fin);
    CHECK_U64(got_uni, sizeof(big));
    CHECK_U64(got_bidi, 4);
    uint8_t want[32], got[32];
    sim_hash_final(&h, got);
    sim_hash hw;
    sim_hash_init(&hw);
    sim_hash_update(&hw, big, sizeof(big));
    sim_hash_final(&hw, want);
    CHECK_MEM(got, want, 32);
    /* The client's answer on the server's bidi stream. */
    sim_run(&s, s.now + 200 * QC_MS, NULL, NULL);
    bool fin = false;
    int64_t n = qc_conn_stream_read(s.server, bidi, buf, sizeof(buf), &fin);
    CHECK_EQ(n, 4);
    CHECK(fin);
    CHECK_MEM(buf, "pong", 4);
    /* A client may not write on the server's uni stream. */
    CHECK_EQ(qc_conn_stream_write(s.client, uni, (const uint8_t *)"x", 1, false),
             QC_ERR_STREAM_STATE);
    sim_free(&s);
}

int main(void) {
    TEST_RUN(test_server_initiated_streams);
    TEST_RUN(test_retry_forged_token);
    TEST_RUN(test_retry_expired_token);
    TEST_RUN(test_endpoint_stateless_replies);
    TEST_RUN(test_endpoint_reset_reaches_client);
    TEST_RUN(test_many_incoming_streams);
    TEST_RUN(test_stateless_reset);
    TEST_RUN(test_version_negotiation);
    TEST_RUN(test_anti_amplification);
    TEST_RUN(test_anti_deadlock_pto);
    TEST_RUN(test_initial_close_padded);
    TEST_RUN(test_handshake_timeout);
    TEST_RUN(test_new_connection_ids);
    TEST_RUN(test_key_update_mid_transfer);
    TEST_RUN(test_idle_timeout);
    TEST_RUN(test_keepalive_prevents_idle);
    TEST_RUN(test_retry);
    TEST_RUN(test_forged_retry_ignored);
    TEST_RUN(test_malformed_frames);
    TEST_RUN(test_garbage_resilience);
    return test_summary();
}
