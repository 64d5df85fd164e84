/*
 * seeds.c: writes the seed corpus of every fuzz target (tests/fuzz/corpus/X/seed-*)
 * from real traffic and from encoders, so that seeds stay valid when the wire
 * format code changes. Usage: fuzz_seeds DIR (the corpus directory). Inputs
 * found by fuzzing (regressions, crash-*) are kept beside the seeds and never
 * rewritten.
 */
#include "core/conn_internal.h"
#include "core/frame.h"
#include "core/packet.h"
#include "core/token.h"
#include "core/tparams.h"
#include "support/sim.h"
#include "tls/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define V1 qc_version_find(QC_VERSION_1)

static const char *root;

static void put(const char *target, const char *name, const uint8_t *data, size_t len) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", root, target);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/seed-%s", root, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "seeds: cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

/* A growable byte string. */
typedef struct bytes {
    uint8_t b[65536];
    size_t n;
} bytes;
static void add(bytes *x, const void *p, size_t n) {
    if (x->n + n > sizeof(x->b)) exit(1);
    memcpy(x->b + x->n, p, n);
    x->n += n;
}
static void add8(bytes *x, uint8_t v) {
    add(x, &v, 1);
}
static void add16(bytes *x, size_t v) {
    add8(x, (uint8_t)(v >> 8));
    add8(x, (uint8_t)v);
}

/* One frame of each kind, encoded. */
static size_t frame_samples(uint8_t *buf, size_t cap) {
    static const uint8_t data[] = "GET /index.html\r\n";
    static const uint8_t ranges_raw[] = {1, 2, 0, 3};
    qc_frame f[20];
    memset(f, 0, sizeof(f));
    int i = 0;
    f[i++] = (qc_frame){.type = QC_FT_PING};
    f[i].type = QC_FT_ACK, f[i].u.ack.largest = 40, f[i].u.ack.first_range = 3;
    f[i].u.ack.range_count = 2, f[i].u.ack.ranges = ranges_raw, f[i++].u.ack.ranges_len = 4;
    f[i].type = QC_FT_ACK_ECN, f[i].u.ack.largest = 5, f[i].u.ack.ect0 = 4, f[i++].u.ack.ce = 1;
    f[i].type = QC_FT_RESET_STREAM, f[i].u.reset_stream.stream_id = 4;
    f[i++].u.reset_stream.final_size = 100;
    f[i].type = QC_FT_STOP_SENDING, f[i++].u.stop_sending.stream_id = 8;
    f[i].type = QC_FT_CRYPTO, f[i].u.crypto.data = data, f[i++].u.crypto.len = 5;
    f[i].type = QC_FT_NEW_TOKEN, f[i].u.new_token.token = data, f[i++].u.new_token.len = 8;
    f[i].type = 0x0f, f[i].u.stream.stream_id = 0, f[i].u.stream.offset = 0;
    f[i].u.stream.data = data, f[i].u.stream.len = sizeof(data) - 1, f[i++].u.stream.fin = true;
    f[i].type = 0x0e, f[i].u.stream.stream_id = 2, f[i].u.stream.offset = 1000;
    f[i].u.stream.data = data, f[i++].u.stream.len = 4;
    f[i].type = QC_FT_MAX_DATA, f[i++].u.max.max = 1 << 20;
    f[i].type = QC_FT_MAX_STREAM_DATA, f[i].u.stream_max.stream_id = 0;
    f[i++].u.stream_max.max = 1 << 18;
    f[i].type = QC_FT_MAX_STREAMS_BIDI, f[i++].u.max.max = 200;
    f[i].type = QC_FT_MAX_STREAMS_UNI, f[i++].u.max.max = 200;
    f[i].type = QC_FT_DATA_BLOCKED, f[i++].u.max.max = 1000;
    f[i].type = QC_FT_STREAMS_BLOCKED_BIDI, f[i++].u.max.max = 10;
    f[i].type = QC_FT_NEW_CONNECTION_ID, f[i].u.new_cid.seq = 1, f[i].u.new_cid.cid.len = 8;
    memset(f[i++].u.new_cid.cid.id, 0xab, 8);
    f[i].type = QC_FT_RETIRE_CONNECTION_ID, f[i++].u.retire_cid.seq = 0;
    f[i].type = QC_FT_PATH_CHALLENGE, memset(f[i++].u.path.data, 7, 8);
    f[i].type = QC_FT_CONNECTION_CLOSE, f[i].u.close.error_code = 0xa;
    f[i].u.close.reason = data, f[i++].u.close.reason_len = 3;
    f[i++].type = QC_FT_HANDSHAKE_DONE;
    qc_wr w = qc_wr_init(buf, cap);
    for (int k = 0; k < i; k++)
        if (qc_frame_encode(&w, &f[k]) != 0) {
            fprintf(stderr, "seeds: cannot encode frame type 0x%llx\n",
                    (unsigned long long)f[k].type);
            exit(1);
        }
    return (size_t)(w.p - buf);
}

static void seeds_frames(void) {
    uint8_t buf[2048];
    size_t n = frame_samples(buf, sizeof(buf));
    put("frame", "all-types", buf, n);
    /* each frame alone */
    qc_rd r = qc_rd_init(buf, n);
    for (int k = 0; qc_rd_left(&r); k++) {
        const uint8_t *start = r.p;
        qc_frame f;
        if (qc_frame_decode(&r, &f)) exit(1);
        char name[32];
        snprintf(name, sizeof(name), "one-%02d", k);
        put("frame", name, start, (size_t)(r.p - start));
    }
}

static void seeds_tparams(sim *s) {
    uint8_t buf[1024];
    for (int server = 0; server < 2; server++) {
        const qc_tparams *tp = server ? &s->server->local_tp : &s->client->local_tp;
        buf[0] = (uint8_t)server;
        int n = qc_tparams_encode(tp, server, buf + 1, sizeof(buf) - 1);
        if (n < 0) exit(1);
        put("tparams", server ? "server" : "client", buf, (size_t)n + 1);
    }
}

static void seeds_token(void) {
    qc_token_key k;
    uint8_t secret[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    qc_token_key_init(&k, &qc_gnutls_crypto, secret);
    bytes x = {.n = 0};
    uint8_t addr[7] = {2, 127, 0, 0, 1, 0x12, 0x34};
    add8(&x, 0);
    add8(&x, sizeof(addr));
    add(&x, addr, sizeof(addr));
    for (int i = 0; i < 8; i++)
        add8(&x, (uint8_t)(i == 3));
    qc_cid od = {.len = 8, .id = {1, 2, 3, 4, 5, 6, 7, 8}}, rs = {.len = 8, .id = {9, 9, 9}};
    uint8_t nonce[12] = {0}, tok[QC_TOKEN_MAX_LEN];
    int n = qc_token_mint(&k, QC_TOKEN_RETRY, addr, sizeof(addr), &od, &rs, QC_SEC, nonce, tok,
                          sizeof(tok));
    add(&x, tok, (size_t)n);
    put("token", "real-retry", x.b, x.n);
    x.b[0] = 1; /* the same bytes under the null provider */
    put("token", "null-retry", x.b, x.n);
    bytes y = {.n = 0};
    add8(&y, 2);
    for (int i = 0; i < 60; i++)
        add8(&y, (uint8_t)(i * 37 + 1));
    put("token", "round-trip", y.b, y.n);
    qc_token_key_free(&k);
}

static void seeds_stream_recovery(void) {
    bytes r = {.n = 0};
    add8(&r, 0); /* receive part */
    uint16_t ops[][3] = {{0, 100, 200}, {0, 0, 100},  {4, 0, 500}, {8, 300, 50},
                         {5, 0, 10},    {4, 0, 1000}, {3, 350, 7}};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        add8(&r, (uint8_t)ops[i][0]);
        add16(&r, ops[i][1]);
        add16(&r, ops[i][2]);
    }
    put("stream", "recv", r.b, r.n);
    bytes s = {.n = 0};
    add8(&s, 1); /* send part */
    uint8_t sops[][2] = {{0, 200}, {2, 100}, {2, 100}, {1, 0}, {2, 50},
                         {3, 0},   {4, 1},   {2, 200}, {3, 2}, {3, 3}};
    for (size_t i = 0; i < sizeof(sops) / sizeof(sops[0]); i++) {
        add8(&s, sops[i][0]);
        add16(&s, sops[i][1] * 5u);
    }
    put("stream", "send", s.b, s.n);
    bytes c = {.n = 0};
    add8(&c, 0);
    uint8_t cops[] = {0x04, 10, 0x04, 10, 0x04, 10,   0x25, 0x06, 10,   0x02, 0, 3,
                      2,    1,  4,    2,  5,    0x03, 0x02, 0x58, 0x00, 0x44, 7, 0x02,
                      0,    1,  0,    1,  2,    3,    0,    0x03, 0x10, 0x00};
    add(&c, cops, sizeof(cops));
    put("recovery", "mixed", c.b, c.n);
}

/* The client's first Initial, decrypted: its frames (a real ClientHello). */
static size_t client_hello_frames(sim *s, uint8_t *out, size_t cap) {
    uint8_t dg[1500];
    int n = qc_conn_send(s->client, dg, sizeof(dg), s->now);
    qc_pkt_hdr h;
    if (n <= 0 || qc_pkt_parse(dg, (size_t)n, 0, &h)) exit(1);
    uint8_t cs[32], ss[32];
    qc_keys k;
    qc_initial_secrets(&qc_gnutls_crypto, QC_VERSION_1, &s->client_odcid, cs, ss);
    qc_keys_from_secret(&qc_gnutls_crypto, &k, V1, QC_SUITE_AES_128_GCM_SHA256, cs, 32);
    uint64_t tpn;
    size_t pn_len;
    if (qc_packet_unprotect_header(&qc_gnutls_crypto, &k, dg, h.pkt_len, h.pn_offset, &tpn,
                                   &pn_len))
        exit(1);
    uint8_t *payload;
    size_t plen;
    if (qc_packet_decrypt(&qc_gnutls_crypto, &k, dg, h.pkt_len, h.pn_offset + pn_len, tpn, &payload,
                          &plen))
        exit(1);
    while (plen && payload[plen - 1] == 0)
        plen--;
    qc_keys_clear(&qc_gnutls_crypto, &k);
    if (plen > cap) exit(1);
    memcpy(out, payload, plen);
    return plen;
}

/* Records the datagrams of a short run, prefixed with the short-header CID length. */
static bool record_tap(sim *s, int to_server, uint8_t *data, size_t *len, void *user) {
    static int count[2];
    (void)s, (void)user;
    if (count[to_server] < 6) {
        uint8_t buf[1600];
        buf[0] = 8;
        memcpy(buf + 1, data, *len);
        char name[32];
        snprintf(name, sizeof(name), "%s-%d", to_server ? "c2s" : "s2c", count[to_server]++);
        put("packet", name, buf, *len + 1);
    }
    return true;
}

static void seeds_conn(void) {
    sim s;
    if (sim_init(&s, 1, "hq-interop") || sim_start(&s)) exit(1);
    uint8_t ch[1500];
    size_t chn = client_hello_frames(&s, ch, sizeof(ch));
    bytes x = {.n = 0};
    add8(&x, 0);
    add16(&x, chn);
    add(&x, ch, chn);
    put("server_initial", "client-hello", x.b, x.n);
    /* the same, split over two Initials and followed by time passing */
    bytes y = {.n = 0};
    add8(&y, 0);
    add16(&y, chn);
    add(&y, ch, chn);
    add8(&y, 3);
    add8(&y, 50);
    add8(&y, 0);
    add16(&y, chn);
    add(&y, ch, chn);
    add8(&y, 3);
    add8(&y, 255);
    put("server_initial", "client-hello-twice", y.b, y.n);
    s.tap = record_tap;
    sim_run(&s, s.now + 5 * QC_SEC, sim_cond_established, NULL);
    seeds_tparams(&s);
    sim_free(&s);

    /* Scripts for the live-connection targets (format in tests/support/fuzzconn.h). */
    uint8_t frames[2048];
    size_t fn = frame_samples(frames, sizeof(frames));
    static const uint8_t req[] = {0x0b, 0x00, 0x11, 'G', 'E', 'T', ' ', '/', 'i',  'n',
                                  'd',  'e',  'x',  '.', 'h', 't', 'm', 'l', '\r', '\n'};
    bytes a = {.n = 0};
    add8(&a, 0x10); /* 1-RTT frames: a request */
    add16(&a, sizeof(req));
    add(&a, req, sizeof(req));
    add8(&a, 2);
    add8(&a, 20);
    add8(&a, 3);
    add8(&a, 2); /* the application reads */
    add8(&a, 3);
    add8(&a, 0x28); /* opens a stream and writes */
    add8(&a, 2);
    add8(&a, 200);
    put("server_1rtt", "request", a.b, a.n);
    bytes b = {.n = 0};
    add8(&b, 0x10);
    add16(&b, fn);
    add(&b, frames, fn);
    add8(&b, 2);
    add8(&b, 100);
    put("server_1rtt", "all-frames", b.b, b.n);
    put("client", "all-frames", b.b, b.n);
    bytes c = {.n = 0};
    uint8_t steps[] = {2, 5, 2, 5, 4, 2, 30, 3, 0x28, 2, 50, 3, 5, 2, 80, 3, 3, 2, 200};
    add(&c, steps, sizeof(steps));
    put("client", "handshake-loss", c.b, c.n);
    put("server_1rtt", "app-and-loss", c.b, c.n);
    bytes d = {.n = 0};
    add8(&d, 2);
    add8(&d, 12);
    add8(&d, 0x08); /* Handshake frames from the server: a CRYPTO frame at a wrong offset */
    add16(&d, 12);
    uint8_t cr[] = {0x06, 0x44, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8};
    add(&d, cr, sizeof(cr));
    add8(&d, 2);
    add8(&d, 100);
    put("client", "crypto-offset", d.b, d.n);
}

/* A control stream, QPACK streams and GET requests, as an HTTP/3 client sends them. */
static void seeds_h3(void) {
    static const uint8_t control[] = {0x00, 0x04, 0x00};
    static const uint8_t hdrs[] = {0x01, 0x1c, 0x00, 0x00, 0xd1, 0xd7, 0x51, 0x0b, '/', 'i',
                                   'n',  'd',  'e',  'x',  '.',  'h',  't',  'm',  'l', 0x50,
                                   0x09, 'l',  'o',  'c',  'a',  'l',  'h',  'o',  's', 't'};
    bytes x = {.n = 0};
    add8(&x, 0);
    add16(&x, sizeof(control));
    add(&x, control, sizeof(control));
    add8(&x, 0);
    add16(&x, 1);
    add8(&x, 0x02);
    add8(&x, 0);
    add16(&x, 1);
    add8(&x, 0x03);
    for (int i = 0; i < 3; i++) {
        add8(&x, 0x09); /* a request stream, concluded */
        add16(&x, sizeof(hdrs));
        add(&x, hdrs, sizeof(hdrs));
        add8(&x, 3);
        add16(&x, 0);
    }
    put("h3", "get-requests", x.b, x.n);
    bytes y = {.n = 0};
    add8(&y, 0x01); /* headers split over two writes, no control stream */
    add16(&y, 10);
    add(&y, hdrs, 10);
    add8(&y, 0x0a);
    add16(&y, sizeof(hdrs) - 10);
    add(&y, hdrs + 10, sizeof(hdrs) - 10);
    add8(&y, 3);
    add16(&y, 7);
    put("h3", "split-request", y.b, y.n);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    root = argv[1];
    mkdir(root, 0755);
    seeds_frames();
    seeds_token();
    seeds_stream_recovery();
    seeds_conn();
    seeds_h3();
    return 0;
}
