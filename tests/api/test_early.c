/*
 * test_early.c: 0-RTT through the API (quicc_ctx_set_max_early_data, quicc_write_early_data,
 * quicc_get_early_data_status) between a listener and a client in one process over the
 * in-memory datagram pair. A first connection leaves a session; a second one resumes it
 * and sends its request in 0-RTT, which the server accepts (both sides say so) and
 * answers; a third, against a new listener context (a restarted server), has its 0-RTT
 * refused and the request goes again in 1-RTT by itself. A slow nonblocking application
 * whose server has answered before its next call still sends all its request in 0-RTT. Every answer
 * is checked byte for byte; without a session, or after the handshake, quicc_write_early_data fails
 * with QUICC_R_NO_EARLY_DATA. Both sides write qlog files (quicc_ctx_set_qlog_dir): each is a
 * well-formed JSON-SEQ trace, and those of the 0-RTT connections show 0-RTT packets.
 */
#include "quicc.h"
#include "tls/tls.h"
#include "unit/test.h"

#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const unsigned char ALPN[] = "\x08http/1.0";
static char dir[64], cert[96], key[96], qlogs[96];

typedef struct server {
    quicc_dgram_pair *pair;
    int conns;            /* connections to serve */
    int early[4];         /* each connection's quicc_get_early_data_status */
    uint64_t zero_rtt[4]; /* and the 0-RTT bytes it received */
    int ok;
} server;

/* Answers each request "GET /N" with "HTTP/1.0 200 OK\r\n\r\n" and N bytes of i*7 % 251. */
static void *serve(void *arg) {
    server *sv = arg;
    quicc_ctx *ctx = quicc_ctx_new(QUICC_SERVER);
    quicc_transport t;
    quicc *l = NULL;
    if (!quicc_ctx_use_certificate_chain_file(ctx, cert) ||
        !quicc_ctx_use_PrivateKey_file(ctx, key) ||
        quicc_ctx_set_alpn_protos(ctx, ALPN, sizeof(ALPN) - 1) != 0 ||
        !quicc_ctx_set_max_early_data(ctx, 0xffffffffu) || !quicc_ctx_set_qlog_dir(ctx, qlogs) ||
        !quicc_dgram_pair_transport(sv->pair, 1, &t) || !(l = quicc_new_listener(ctx, 0)) ||
        !quicc_set_transport(l, &t) || !quicc_listen(l)) {
        quicc_err_print(stderr);
        goto out;
    }
    for (int i = 0; i < sv->conns; i++) {
        quicc *c = quicc_accept_connection(l, 0);
        if (!c) goto out;
        char req[64];
        size_t got = 0, n;
        while (got < sizeof(req) - 1 && quicc_read_ex(c, req + got, sizeof(req) - 1 - got, &n))
            got += n;
        req[got] = 0;
        sv->early[i] = quicc_get_early_data_status(c);
        quicc_get_value_uint(c, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_0RTT_RECEIVED,
                             &sv->zero_rtt[i]);
        size_t size = strncmp(req, "GET /", 5) == 0 ? strtoul(req + 5, NULL, 10) : 0;
        static const char hdr[] = "HTTP/1.0 200 OK\r\n\r\n";
        quicc_write_ex(c, hdr, sizeof(hdr) - 1, &n);
        unsigned char *body = malloc(size ? size : 1);
        for (size_t k = 0; k < size; k++)
            body[k] = (unsigned char)(k * 7 % 251);
        int w = quicc_write_ex(c, body, size, &n) && quicc_stream_conclude(c, 0);
        free(body);
        w = w && quicc_shutdown_ex(c, QUICC_SHUTDOWN_FLAG_WAIT_PEER, NULL) == 1;
        quicc_free(c);
        if (!w) goto out;
    }
    sv->ok = 1;
out:
    quicc_free(l);
    quicc_ctx_free(ctx);
    return NULL;
}

/* Reads the answer to "GET /size" and checks it byte for byte. */
static void check_answer(quicc *c, size_t size) {
    static unsigned char buf[70000];
    size_t total = 0, n;
    while (total < sizeof(buf) && quicc_read_ex(c, buf + total, sizeof(buf) - total, &n))
        total += n;
    CHECK_EQ(quicc_get_error(c, 0), QUICC_ERROR_ZERO_RETURN);
    static const char hdr[] = "HTTP/1.0 200 OK\r\n\r\n";
    CHECK_EQ(total, sizeof(hdr) - 1 + size);
    CHECK(memcmp(buf, hdr, sizeof(hdr) - 1) == 0);
    size_t bad = 0;
    for (size_t k = 0; k < size && k + sizeof(hdr) - 1 < total; k++)
        bad += buf[sizeof(hdr) - 1 + k] != (unsigned char)(k * 7 % 251);
    CHECK_EQ(bad, 0);
}

static quicc *client(quicc_ctx *ctx, quicc_dgram_pair *pair) {
    quicc *c = quicc_new(ctx);
    quicc_transport t;
    struct sockaddr_storage peer;
    socklen_t plen;
    CHECK(quicc_dgram_pair_transport(pair, 0, &t));
    CHECK(quicc_dgram_pair_addr(pair, 1, &peer, &plen));
    CHECK(quicc_set_transport(c, &t));
    CHECK(quicc_set1_initial_peer_addr(c, (struct sockaddr *)&peer, plen));
    CHECK(quicc_set_tlsext_host_name(c, "localhost"));
    CHECK_EQ(quicc_set_alpn_protos(c, ALPN, sizeof(ALPN) - 1), 0);
    return c;
}

/* Connection 1: a full handshake; returns its session. */
static size_t first(quicc_ctx *ctx, quicc_dgram_pair *pair, unsigned char *sess, size_t cap) {
    quicc *c = client(ctx, pair);
    quicc_err_clear();
    size_t n;
    /* No session: no 0-RTT. */
    CHECK_EQ(quicc_write_early_data(c, "x", 1, &n), 0);
    CHECK_EQ(quicc_err_get(), QUICC_R_NO_EARLY_DATA);
    quicc_err_clear();
    CHECK_EQ(quicc_connect(c), 1);
    static const char req[] = "GET /3000 HTTP/1.0\r\n\r\n";
    CHECK(quicc_write_ex2(c, req, sizeof(req) - 1, QUICC_WRITE_FLAG_CONCLUDE, &n));
    check_answer(c, 3000);
    CHECK_EQ(quicc_get_early_data_status(c), QUICC_EARLY_DATA_NOT_SENT);
    /* After the handshake quicc_write_early_data is refused. */
    CHECK_EQ(quicc_write_early_data(c, "x", 1, &n), 0);
    CHECK_EQ(quicc_err_get(), QUICC_R_NO_EARLY_DATA);
    size_t len = cap;
    CHECK(quicc_get_session(c, sess, &len));
    CHECK(memcmp(sess, "QCS1", 4) == 0);
    CHECK_EQ(quicc_shutdown(c), 1);
    quicc_free(c);
    return len;
}

/* A resumed connection whose request goes with quicc_write_early_data. */
static int resumed(quicc_ctx *ctx, quicc_dgram_pair *pair, const unsigned char *sess, size_t len) {
    quicc *c = client(ctx, pair);
    CHECK(quicc_set_session(c, sess, len));
    static const char req[] = "GET /20000 HTTP/1.0\r\n\r\n";
    size_t n = 0;
    CHECK_EQ(quicc_write_early_data(c, req, sizeof(req) - 1, &n), 1);
    CHECK_EQ(n, sizeof(req) - 1);
    CHECK(quicc_stream_conclude(c, 0));
    CHECK_EQ(quicc_connect(c), 1);
    check_answer(c, 20000);
    CHECK_EQ(quicc_session_reused(c) || quicc_get_early_data_status(c) != QUICC_EARLY_DATA_ACCEPTED,
             1);
    int st = quicc_get_early_data_status(c);
    uint64_t sent = 0;
    CHECK(quicc_get_value_uint(c, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_0RTT_SENT, &sent));
    CHECK(sent > sizeof(req)); /* the request went in 0-RTT packets, accepted or not */
    CHECK_EQ(quicc_shutdown(c), 1);
    quicc_free(c);
    return st;
}

/*
 * A nonblocking resumed connection whose application is slow: the first piece of the
 * request leaves with the ClientHello, the server's answer is waiting by the time the
 * application calls again (a nonblocking quicc_accept_stream, as an HTTP/3 layer does), and
 * the rest of the request must still go in 0-RTT: before quicc_connect returns, no call reads
 * the network.
 */
static void resumed_slow_app(quicc_ctx *ctx, quicc_dgram_pair *pair, const unsigned char *sess,
                             size_t len) {
    quicc *c = client(ctx, pair);
    CHECK(quicc_set_session(c, sess, len));
    CHECK(quicc_set_blocking_mode(c, 0));
    static char rest[4096];
    static const char head[] = "GET /20";
    int m = snprintf(rest, sizeof(rest), "000 HTTP/1.0\r\nX-Pad: %03000d\r\n\r\n", 0);
    size_t n = 0;
    CHECK_EQ(quicc_write_early_data(c, head, sizeof(head) - 1, &n), 1);
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL); /* the server's Initial and Handshake arrive meanwhile */
    CHECK(quicc_accept_stream(c, QUICC_ACCEPT_STREAM_NO_BLOCK) == NULL);
    CHECK_EQ(quicc_write_early_data(c, rest, (size_t)m, &n), 1);
    CHECK_EQ(n, (size_t)m);
    CHECK(quicc_stream_conclude(c, 0));
    uint64_t sent = 0;
    CHECK(quicc_get_value_uint(c, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_0RTT_SENT, &sent));
    CHECK(sent > (uint64_t)m); /* all of it in 0-RTT packets */
    for (int i = 0; i < 1000 && quicc_connect(c) != 1; i++) {
        struct timespec t = {0, 2 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    CHECK_EQ(quicc_set_blocking_mode(c, 1), 1);
    check_answer(c, 20000);
    CHECK_EQ(quicc_get_early_data_status(c), QUICC_EARLY_DATA_ACCEPTED);
    CHECK_EQ(quicc_shutdown(c), 1);
    quicc_free(c);
}

static void test_early_data(void) {
    quicc_dgram_pair *pair = quicc_dgram_pair_new(0);
    server sv = {.pair = pair, .conns = 3};
    pthread_t th;
    pthread_create(&th, NULL, serve, &sv);
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    CHECK(quicc_ctx_load_verify_file(ctx, cert));
    CHECK(quicc_ctx_set_qlog_dir(ctx, qlogs));
    static unsigned char sess[16384];
    size_t len = first(ctx, pair, sess, sizeof(sess));
    CHECK_EQ(resumed(ctx, pair, sess, len), QUICC_EARLY_DATA_ACCEPTED);
    resumed_slow_app(ctx, pair, sess, len);
    pthread_join(th, NULL);
    CHECK(sv.ok);
    CHECK_EQ(sv.early[0], QUICC_EARLY_DATA_NOT_SENT);
    CHECK_EQ(sv.early[1], QUICC_EARLY_DATA_ACCEPTED);
    CHECK_U64(sv.zero_rtt[0], 0);
    CHECK(sv.zero_rtt[1] > 20); /* the server read the request from 0-RTT packets */
    CHECK_EQ(sv.early[2], QUICC_EARLY_DATA_ACCEPTED);
    CHECK(sv.zero_rtt[2] > 3000);
    /* A restarted server (a new context: another ticket key) refuses the 0-RTT. */
    server sv2 = {.pair = pair, .conns = 1};
    pthread_create(&th, NULL, serve, &sv2);
    CHECK_EQ(resumed(ctx, pair, sess, len), QUICC_EARLY_DATA_REJECTED);
    pthread_join(th, NULL);
    CHECK(sv2.ok);
    CHECK_EQ(sv2.early[0], QUICC_EARLY_DATA_NOT_SENT);
    CHECK_U64(sv2.zero_rtt[0], 0);
    quicc_ctx_free(ctx);
    quicc_dgram_pair_free(pair);
    CHECK_EQ(quicc_ctx_get_max_early_data(NULL), 0);
    CHECK_EQ(quicc_get_early_data_status(NULL), QUICC_EARLY_DATA_NOT_SENT);
}

/* Every qlog file: JSON-SEQ records (RS, one object, newline) with balanced braces, the
 * first the header; counts the files and those showing 0-RTT packets sent. */
static void check_qlogs(int *files, int *zero_rtt_files) {
    *files = *zero_rtt_files = 0;
    DIR *d = opendir(qlogs);
    CHECK(d != NULL);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strstr(e->d_name, ".sqlog")) continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", qlogs, e->d_name);
        FILE *f = fopen(path, "r");
        CHECK(f != NULL);
        static char buf[1 << 20];
        size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
        if (f) fclose(f);
        buf[n] = 0;
        (*files)++;
        CHECK(n > 0 && buf[0] == 0x1e && buf[n - 1] == '\n');
        CHECK(strstr(buf, "\"file_schema\":\"urn:ietf:params:qlog:file:sequential\"") == buf + 2);
        CHECK(strstr(buf, "quic:packet_sent") && strstr(buf, "quic:packet_received"));
        int depth = 0, records = 0;
        bool in_str = false, bad = false;
        for (size_t i = 0; i < n; i++) {
            char ch = buf[i];
            if (in_str) {
                if (ch == '\\')
                    i++;
                else if (ch == '"')
                    in_str = false;
                continue;
            }
            if (ch == '"')
                in_str = true;
            else if (ch == '{')
                depth++;
            else if (ch == '}')
                depth--;
            else if (ch == 0x1e) {
                bad |= depth != 0;
                records++;
            }
            bad |= depth < 0;
        }
        CHECK(!bad && depth == 0 && records > 5);
        if (strstr(e->d_name, "_client") && strstr(buf, "\"packet_type\":\"0RTT\""))
            (*zero_rtt_files)++;
        unlink(path);
    }
    if (d) closedir(d);
}

static void test_qlogs(void) {
    int files, zfiles;
    check_qlogs(&files, &zfiles);
    CHECK_EQ(files, 8);  /* four connections, a file on each side */
    CHECK_EQ(zfiles, 3); /* the three that sent 0-RTT */
}

int main(void) {
    snprintf(dir, sizeof(dir), "/tmp/quicc-early-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    const char *names[] = {"localhost"};
    char err[256];
    int64_t now = (int64_t)time(NULL);
    if (qc_tls_generate_selfsigned(cert, key, names, 1, NULL, 0, now - 3600, now + 86400, err,
                                   sizeof(err)) != 0) {
        fprintf(stderr, "certificate: %s\n", err);
        return 1;
    }
    snprintf(qlogs, sizeof(qlogs), "%s/qlog", dir);
    if (mkdir(qlogs, 0700) != 0) return 1;
    TEST_RUN(test_early_data);
    TEST_RUN(test_qlogs);
    rmdir(qlogs);
    unlink(cert);
    unlink(key);
    rmdir(dir);
    return test_summary();
}
