/*
 * The attacks of RFC 9000 §21 against a live connection, each with a stated memory cap
 * (counted by the test allocator over both connections, above what they held before the
 * attack) and an exact outcome:
 *   - a PATH_CHALLENGE flood (20,000 challenges): answered, the connection stays up and
 *     still transfers;
 *   - a NEW_CONNECTION_ID flood that retires faster than RETIRE_CONNECTION_ID can go out:
 *     CONNECTION_ID_LIMIT_ERROR;
 *   - a RETIRE_CONNECTION_ID flood (2,000 retirements of 7 IDs): each ID is replaced once,
 *     the connection stays up;
 *   - out-of-order STREAM data, one byte at every other offset on 50 streams:
 *     PROTOCOL_VIOLATION once a stream holds 1,024 pieces (it reached 15.6 MB before);
 *   - an optimistic ACK covering a packet number the sender left out: PROTOCOL_VIOLATION;
 *   - tiny flow-control windows (64 bytes per stream, 256 per connection): a 20 kB response
 *     still arrives intact, without a storm of packets;
 *   - a peer that never reads: the sender stops at the peer's window and its own buffer;
 *   - stream-count exhaustion: 100 streams opened and never closed are held cheaply, the
 *     101st is STREAM_LIMIT_ERROR.
 */
#include "core/conn_internal.h"
#include "support/memcount.h"
#include "support/sim.h"
#include "unit/test.h"

static memcount mc;

typedef struct attack {
    sim s;
    int64_t base;
} attack;

static void start(attack *a, uint64_t seed) {
    CHECK_EQ(sim_init(&a->s, seed, "sim"), 0);
}

static void established(attack *a) {
    CHECK_EQ(sim_start(&a->s), 0);
    CHECK(sim_run(&a->s, a->s.now + 5 * QC_SEC, sim_cond_established, NULL));
    a->base = mc.live_bytes;
    memcount_reset_peak(&mc);
}

/* Sends frames from the client (the attacker) to the server in one 1-RTT packet. */
static void inject(attack *a, const uint8_t *frames, size_t n) {
    uint8_t dg[1500];
    size_t len = sim_seal(a->s.client, QC_EPOCH_1RTT, frames, n, dg, sizeof(dg));
    CHECK(len > 0);
    sim_inject(&a->s, 1, dg, len);
}

static int64_t peak(const attack *a) {
    return mc.peak_bytes - a->base;
}

/* The attack is over: its memory peak is within cap (what comes after is not counted). */
static void finish_attack(attack *a, int64_t cap, const char *what) {
    printf("%-34s memory peak %7lld bytes (cap %lld)\n", what, (long long)peak(a), (long long)cap);
    CHECK(peak(a) <= cap);
}

static void finish(attack *a, int64_t cap, const char *what) {
    printf("%-34s memory peak %7lld bytes (cap %lld)\n", what, (long long)peak(a), (long long)cap);
    CHECK(peak(a) <= cap);
    sim_free(&a->s);
}

static void transfer_works(attack *a) {
    sim_app app;
    sim_app_init(&app, 2, 100000, 2);
    CHECK(sim_run(&a->s, a->s.now + 30 * QC_SEC, sim_app_step, &app));
    CHECK_EQ(app.failed, 0);
    CHECK_EQ(app.completed, 2);
    sim_app_free(&app);
}

/* The victim closed with code; if peer_hears, the attacker's connection received it (not when
 * the victim had moved to a connection ID the attacker made up). */
static void expect_close_ex(attack *a, uint64_t code, bool peer_hears) {
    const qc_close_info *ci = qc_conn_close_info(a->s.server);
    if (!ci->set || ci->error_code != code)
        fprintf(stderr, "server: closed %d code 0x%llx (%s), expected 0x%llx\n", ci->set,
                (unsigned long long)ci->error_code, ci->reason, (unsigned long long)code);
    CHECK(ci->set && ci->local && !ci->app);
    CHECK_U64(ci->error_code, code);
    if (!peer_hears) {
        sim_run(&a->s, a->s.now + 10 * QC_SEC, NULL, NULL);
        CHECK_EQ(qc_conn_state(a->s.server), QC_CONN_CLOSED);
        return;
    }
    CHECK(sim_run(&a->s, a->s.now + 10 * QC_SEC, sim_cond_both_closed, NULL));
    const qc_close_info *cc = qc_conn_close_info(a->s.client);
    CHECK(cc->set && !cc->local);
    CHECK_U64(cc->error_code, code);
}

static void expect_close(attack *a, uint64_t code) {
    expect_close_ex(a, code, true);
}

static void test_path_challenge_flood(void) {
    attack a;
    start(&a, 1);
    established(&a);
    uint8_t frames[1400];
    for (int p = 0; p < 200; p++) {
        size_t n = 0;
        for (int k = 0; k < 100; k++) {
            frames[n++] = QC_FT_PATH_CHALLENGE;
            for (int b = 0; b < 8; b++)
                frames[n++] = (uint8_t)(p * 100 + k + b);
        }
        inject(&a, frames, n);
        if (p % 20 == 0) sim_run(&a.s, a.s.now + 2 * QC_MS, NULL, NULL);
    }
    CHECK(!qc_conn_close_info(a.s.server)->set);
    /* Answers are bounded: the last four challenges wait for theirs, the newest last. */
    CHECK(a.s.server->path.n_path_responses <= 4);
    CHECK(a.s.server->path.n_path_responses >= 1);
    CHECK_EQ(a.s.server->path.path_responses[a.s.server->path.n_path_responses - 1][0],
             (uint8_t)(199 * 100 + 99));
    finish_attack(&a, 64 << 10, "PATH_CHALLENGE flood");
    transfer_works(&a);
    sim_free(&a.s);
}

static void test_new_cid_flood(void) {
    attack a;
    start(&a, 2);
    established(&a);
    uint8_t frames[1400];
    uint8_t raw[64];
    uint64_t seq = 100;
    for (int p = 0; p < 50 && !qc_conn_close_info(a.s.server)->set; p++) {
        size_t n = 0;
        for (int k = 0; k < 25; k++, seq++) {
            qc_frame f = {.type = QC_FT_NEW_CONNECTION_ID};
            f.u.new_cid.seq = seq;
            f.u.new_cid.retire_prior_to = seq; /* retires everything before */
            f.u.new_cid.cid.len = 8;
            memcpy(f.u.new_cid.cid.id, &seq, 8);
            memset(f.u.new_cid.reset_token, (int)seq, 16);
            qc_wr w = qc_wr_init(raw, sizeof(raw));
            CHECK_EQ(qc_frame_encode(&w, &f), 0);
            memcpy(frames + n, raw, (size_t)(w.p - raw));
            n += (size_t)(w.p - raw);
        }
        inject(&a, frames, n);
    }
    /* the close goes to the made-up ID the server moved to: only the server knows */
    expect_close_ex(&a, QC_TE_CONNECTION_ID_LIMIT_ERROR, false);
    finish(&a, 256 << 10, "NEW_CONNECTION_ID flood");
}

static void test_retire_cid_flood(void) {
    attack a;
    start(&a, 3);
    established(&a);
    uint64_t issued0 = a.s.server->cids.local_next_seq;
    uint8_t frames[1400];
    for (int p = 0; p < 20; p++) {
        size_t n = 0;
        for (int k = 0; k < 100; k++) {
            frames[n++] = QC_FT_RETIRE_CONNECTION_ID;
            frames[n++] = (uint8_t)(1 + (p * 100 + k) % 7); /* the server's IDs 1..7 */
        }
        inject(&a, frames, n);
        sim_run(&a.s, a.s.now + 5 * QC_MS, NULL, NULL);
    }
    CHECK(!qc_conn_close_info(a.s.server)->set);
    uint64_t issued = a.s.server->cids.local_next_seq - issued0;
    printf("RETIRE_CONNECTION_ID flood: %llu new IDs issued for 7 retired\n",
           (unsigned long long)issued);
    CHECK(issued <= 7);
    finish_attack(&a, 64 << 10, "RETIRE_CONNECTION_ID flood");
    transfer_works(&a);
    sim_free(&a.s);
}

static void test_out_of_order_pieces(void) {
    attack a;
    start(&a, 4);
    established(&a);
    uint8_t frames[1400];
    uint64_t k = 0;
    int packets = 0;
    for (; packets < 4000 && !qc_conn_close_info(a.s.server)->set; packets++) {
        qc_wr w = qc_wr_init(frames, sizeof(frames));
        for (int i = 0; i < 150; i++, k++) {
            static const uint8_t byte = 0x55;
            qc_frame f = {.type = 0x0e};
            f.u.stream.stream_id = 4 * (k % 50);
            f.u.stream.offset = 2 * (k / 50) + 1;
            f.u.stream.data = &byte, f.u.stream.len = 1;
            if (qc_frame_encode(&w, &f)) break;
        }
        inject(&a, frames, (size_t)(w.p - frames));
    }
    printf("out-of-order pieces: closed after %d packets\n", packets);
    CHECK(packets < 400); /* 1,025 pieces on one of 50 streams: 51,250 frames */
    expect_close(&a, QC_TE_PROTOCOL_VIOLATION);
    CHECK_EQ(qc_conn_close_info(a.s.server)->lib_error, QC_ERR_RECV_PIECES);
    finish(&a, 2 << 20, "out-of-order one-byte pieces");
}

static bool skipped_one(sim *s, void *user) {
    sim_app_step(s, user);
    return s->server->rec.nskipped > 0;
}

static void test_optimistic_ack(void) {
    attack a;
    start(&a, 5);
    established(&a);
    sim_app app;
    sim_app_init(&app, 1, 5000000, 1);
    CHECK(sim_run(&a.s, a.s.now + 30 * QC_SEC, skipped_one, &app));
    uint64_t skipped = a.s.server->rec.skipped[0];
    uint64_t largest = a.s.server->spaces[QC_PNS_APP].next_pn - 1;
    CHECK(largest > skipped);
    /* The attacker claims everything up to what the server sent last. */
    qc_range r = {0, largest};
    uint8_t frames[64];
    qc_wr w = qc_wr_init(frames, sizeof(frames));
    CHECK_EQ(qc_frame_encode_ack(&w, &r, 1, 0, NULL), 0);
    inject(&a, frames, (size_t)(w.p - frames));
    expect_close(&a, QC_TE_PROTOCOL_VIOLATION);
    sim_app_free(&app);
    finish(&a, 3 << 20, "optimistic ACK");
}

static void test_tiny_windows(void) {
    attack a;
    start(&a, 6);
    a.s.ccfg.initial_max_stream_data = 64;
    a.s.ccfg.max_stream_data_window = 64;
    a.s.ccfg.initial_max_data = 256;
    a.s.ccfg.max_data_window = 256;
    established(&a);
    sim_app app;
    sim_app_init(&app, 1, 20000, 1);
    CHECK(sim_run(&a.s, a.s.now + 600 * QC_SEC, sim_app_step, &app));
    CHECK_EQ(app.failed, 0);
    qc_conn_stats st;
    qc_conn_get_stats(a.s.server, &st);
    printf("tiny windows: 20 kB in %llu server packets\n", (unsigned long long)st.pkts_sent);
    CHECK(st.pkts_sent < 2000); /* at most a few packets per 64-byte window */
    sim_app_free(&app);
    finish(&a, 256 << 10, "tiny flow-control windows");
}

typedef struct never_reads {
    uint64_t sid;
    bool opened, accepted;
    uint64_t written;
} never_reads;

static bool fill_forever(sim *s, void *user) {
    never_reads *nr = user;
    if (!nr->opened) {
        CHECK_EQ(qc_conn_stream_open(s->client, false, false, &nr->sid), 0);
        static const uint8_t req[16] = {0};
        CHECK_EQ(qc_conn_stream_write(s->client, nr->sid, req, sizeof(req), true), 16);
        nr->opened = true;
    }
    uint64_t id;
    if (!nr->accepted && qc_conn_stream_accept(s->server, &id)) nr->accepted = true;
    if (nr->accepted) {
        static uint8_t buf[65536];
        for (;;) {
            int64_t n = qc_conn_stream_write(s->server, nr->sid, buf, sizeof(buf), false);
            if (n <= 0) break;
            nr->written += (uint64_t)n;
        }
    }
    return false; /* the client never reads */
}

static void test_peer_never_reads(void) {
    attack a;
    start(&a, 7);
    established(&a);
    never_reads nr = {0};
    sim_run(&a.s, a.s.now + 30 * QC_SEC, fill_forever, &nr);
    qc_cstream *cs = qc_conn_find_stream(a.s.server, nr.sid);
    CHECK(cs != NULL);
    uint64_t sent = cs ? cs->s.snd.sent : 0;
    qc_conn_stats st;
    qc_conn_get_stats(a.s.server, &st);
    printf("never reads: %llu bytes written, %llu sent (window 1 MiB), %llu packets in 30 s\n",
           (unsigned long long)nr.written, (unsigned long long)sent,
           (unsigned long long)st.pkts_sent);
    CHECK(sent <= a.s.ccfg.initial_max_stream_data);
    CHECK(nr.written <= sent + a.s.scfg.stream_send_buffer);
    CHECK(st.pkts_sent < 3000); /* the window's worth, then an occasional probe */
    CHECK(!qc_conn_close_info(a.s.server)->set);
    finish(&a, 4 << 20, "a peer that never reads");
}

static void test_stream_count_exhaustion(void) {
    attack a;
    start(&a, 8);
    established(&a);
    uint8_t frames[1400];
    for (int p = 0; p < 10; p++) {
        size_t n = 0;
        for (int k = 0; k < 10; k++) {
            uint64_t id = 4 * (uint64_t)(p * 10 + k);
            frames[n++] = 0x0a; /* STREAM with length, no FIN */
            frames[n++] = 0x40 | (uint8_t)(id >> 8);
            frames[n++] = (uint8_t)id;
            frames[n++] = 1;
            frames[n++] = 0x55;
        }
        inject(&a, frames, n);
    }
    CHECK(!qc_conn_close_info(a.s.server)->set);
    CHECK_EQ(qc_conn_stream_accept_queue_len(a.s.server), 100);
    int64_t held = mc.live_bytes - a.base;
    printf("stream-count exhaustion: 100 open streams hold %lld bytes\n", (long long)held);
    CHECK(held < 512 << 10);
    uint8_t one[] = {0x0a, 0x41, 0x90, 1, 0x55}; /* stream 400: the 101st */
    inject(&a, one, sizeof(one));
    expect_close(&a, QC_TE_STREAM_LIMIT_ERROR);
    finish(&a, 1 << 20, "stream-count exhaustion");
}

int main(void) {
    memcount_start(&mc);
    TEST_RUN(test_path_challenge_flood);
    TEST_RUN(test_new_cid_flood);
    TEST_RUN(test_retire_cid_flood);
    TEST_RUN(test_out_of_order_pieces);
    TEST_RUN(test_optimistic_ack);
    TEST_RUN(test_tiny_windows);
    TEST_RUN(test_peer_never_reads);
    TEST_RUN(test_stream_count_exhaustion);
    return test_summary();
}
