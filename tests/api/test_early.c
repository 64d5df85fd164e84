/*
 * test_early.c: 0-RTT through the API (quicc_ctx_set_max_early_data, quicc_write_early_data,
 * quicc_get_early_data_status) between a listener and a client in one process over the
 * in-memory datagram pair. A first connection leaves a session; a second one resumes it
 * and sends its request in 0-RTT, which the server accepts (both sides say so) and
 * answers; a third, against a new listener context (a restarted server), has its 0-RTT
 * refused and the request goes again in 1-RTT by itself. Every answer is checked byte for
 * byte; without a session, or after the handshake, quicc_write_early_data fails with
 * QUICC_R_NO_EARLY_DATA.
 */
#include "quicc.h"
#include "tls/tls.h"
#include "unit/test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const unsigned char ALPN[] = "\x08http/1.0";
static char dir[64], cert[96], key[96];

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
        !quicc_ctx_set_max_early_data(ctx, 0xffffffffu) ||
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

static void test_early_data(void) {
    quicc_dgram_pair *pair = quicc_dgram_pair_new(0);
    server sv = {.pair = pair, .conns = 2};
    pthread_t th;
    pthread_create(&th, NULL, serve, &sv);
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    CHECK(quicc_ctx_load_verify_file(ctx, cert));
    static unsigned char sess[16384];
    size_t len = first(ctx, pair, sess, sizeof(sess));
    CHECK_EQ(resumed(ctx, pair, sess, len), QUICC_EARLY_DATA_ACCEPTED);
    pthread_join(th, NULL);
    CHECK(sv.ok);
    CHECK_EQ(sv.early[0], QUICC_EARLY_DATA_NOT_SENT);
    CHECK_EQ(sv.early[1], QUICC_EARLY_DATA_ACCEPTED);
    CHECK_U64(sv.zero_rtt[0], 0);
    CHECK(sv.zero_rtt[1] > 20); /* the server read the request from 0-RTT packets */
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
    TEST_RUN(test_early_data);
    unlink(cert);
    unlink(key);
    rmdir(dir);
    return test_summary();
}
