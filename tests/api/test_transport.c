/*
 * test_transport.c: connections over a transport of the application's own
 * (quicc_set_transport) and the in-memory datagram pair. A whole HTTP/1.0
 * fetch (1 MiB, checked by SHA-256) between a listener and a client in one
 * process, with no socket opened: blocking, and nonblocking driven by
 * quicc_poll. A transport that fails ends the connection with a network
 * error; bad arguments are refused.
 */
#include "quicc.h"
#include "tls/tls.h"
#include "unit/test.h"

#include <dirent.h>
#include <netinet/in.h>
#include <gnutls/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BODY (1u << 20)
static const unsigned char ALPN[] = "\x08http/1.0";
static char dir[64], cert[96], key[96];

/* Open sockets of this process (entries of /proc/self/fd that are sockets). */
static int count_sockets(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[300], t[64];
        snprintf(p, sizeof(p), "/proc/self/fd/%s", e->d_name);
        ssize_t k = readlink(p, t, sizeof(t) - 1);
        if (k > 0 && (t[k] = 0, strncmp(t, "socket:", 7) == 0)) n++;
    }
    closedir(d);
    return n;
}

static void body_byte_fill(unsigned char *b, size_t len, size_t off) {
    for (size_t i = 0; i < len; i++)
        b[i] = (unsigned char)((off + i) * 7 + ((off + i) >> 10));
}

typedef struct {
    quicc_dgram_pair *pair;
    int ok;
    uint32_t version; /* the QUIC version of the server's connection */
} server_arg;

/* The client's QUIC versions in fetch() (none: the default) and the version expected. */
static const uint32_t *client_versions;
static size_t n_client_versions;
static uint32_t want_version = QUICC_QUIC_VERSION_1;
static const uint32_t *server_versions; /* the server's (none: the default) */
static size_t n_server_versions;

/* The server: one connection, one request on the default stream, the body, close. */
static void *serve(void *arg) {
    server_arg *a = arg;
    quicc_ctx *ctx = quicc_ctx_new(QUICC_SERVER);
    quicc_transport t;
    quicc *l = NULL, *c = NULL;
    if (!quicc_ctx_use_certificate_chain_file(ctx, cert) ||
        !quicc_ctx_use_PrivateKey_file(ctx, key) ||
        quicc_ctx_set_alpn_protos(ctx, ALPN, sizeof(ALPN) - 1) != 0 ||
        (n_server_versions &&
         !quicc_ctx_set_quic_versions(ctx, server_versions, n_server_versions)) ||
        !quicc_dgram_pair_transport(a->pair, 1, &t) || !(l = quicc_new_listener(ctx, 0)) ||
        !quicc_set_transport(l, &t) || !quicc_listen(l) || !(c = quicc_accept_connection(l, 0))) {
        quicc_err_print(stderr);
        goto out;
    }
    char req[256];
    size_t got = 0, n;
    while (got < sizeof(req) && quicc_read_ex(c, req + got, sizeof(req) - got, &n))
        got += n;
    if (quicc_get_error(c, 0) != QUICC_ERROR_ZERO_RETURN || got < 14 ||
        memcmp(req, "GET /big HTTP/1.0\r\n", 19) != 0)
        goto out;
    static const char hdr[] = "HTTP/1.0 200 OK\r\n\r\n";
    if (!quicc_write_ex(c, hdr, sizeof(hdr) - 1, &n)) goto out;
    static unsigned char chunk[16384];
    for (size_t off = 0; off < BODY; off += sizeof(chunk)) {
        body_byte_fill(chunk, sizeof(chunk), off);
        if (!quicc_write_ex(c, chunk, sizeof(chunk), &n)) goto out;
    }
    if (!quicc_stream_conclude(c, 0)) goto out;
    a->version = quicc_get_quic_version(c);
    a->ok = quicc_shutdown_ex(c, QUICC_SHUTDOWN_FLAG_WAIT_PEER, NULL) == 1;
out:
    quicc_free(c);
    quicc_free(l);
    quicc_ctx_free(ctx);
    return NULL;
}

/* Waits as the guides do in a nonblocking fetch: for stream events with quicc_poll, else
 * (handshake, shutdown) on the descriptor for the event timeout. */
static void wait_for(quicc *c, uint64_t ev) {
    if (ev) {
        quicc_poll_item it = {.desc = c, .events = ev | QUICC_POLL_EVENT_EC};
        struct timeval tv = {5, 0};
        size_t n;
        quicc_poll(&it, 1, sizeof(it), &tv, 0, &n);
        return;
    }
    struct timeval tv;
    int inf = 1;
    quicc_get_event_timeout(c, &tv, &inf);
    struct pollfd p = {.fd = quicc_get_fd(c), .events = POLLIN};
    poll(&p, 1, inf ? 1000 : (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000));
}

static void fetch(bool blocking, enum quicc_method method) {
    int sockets = count_sockets();
    quicc_dgram_pair *pair = quicc_dgram_pair_new(0);
    CHECK(pair != NULL);
    server_arg sa = {pair, 0, 0};
    pthread_t th;
    pthread_create(&th, NULL, serve, &sa);
    quicc_ctx *ctx = quicc_ctx_new(method);
    CHECK(quicc_ctx_load_verify_file(ctx, cert));
    if (n_client_versions)
        CHECK(quicc_ctx_set_quic_versions(ctx, client_versions, n_client_versions));
    quicc *c = quicc_new(ctx);
    quicc_transport t;
    struct sockaddr_storage peer;
    socklen_t plen;
    CHECK(quicc_dgram_pair_transport(pair, 0, &t));
    CHECK(quicc_dgram_pair_addr(pair, 1, &peer, &plen));
    CHECK(quicc_set_transport(c, &t));
    CHECK_EQ(quicc_get_fd(c), t.fd);
    CHECK(quicc_set1_initial_peer_addr(c, (struct sockaddr *)&peer, plen));
    CHECK(quicc_set_tlsext_host_name(c, "localhost"));
    CHECK_EQ(quicc_set_alpn_protos(c, ALPN, sizeof(ALPN) - 1), 0);
    if (!blocking) quicc_set_blocking_mode(c, 0);
    int r;
    while ((r = quicc_connect(c)) != 1 && quicc_get_error(c, r) == QUICC_ERROR_WANT_READ)
        wait_for(c, 0);
    CHECK_EQ(r, 1);
    CHECK_U64(quicc_get_quic_version(c), want_version);
    CHECK(strcmp(quicc_get_version(c),
                 want_version == QUICC_QUIC_VERSION_2 ? "QUICv2" : "QUICv1") == 0);
    static const char req[] = "GET /big HTTP/1.0\r\nHost: localhost\r\n\r\n";
    size_t n;
    CHECK(quicc_write_ex2(c, req, sizeof(req) - 1, QUICC_WRITE_FLAG_CONCLUDE, &n));
    gnutls_hash_hd_t got_h, want_h;
    gnutls_hash_init(&got_h, GNUTLS_DIG_SHA256);
    gnutls_hash_init(&want_h, GNUTLS_DIG_SHA256);
    static unsigned char buf[20000];
    size_t total = 0, hdr = 19;
    for (;;) {
        if (quicc_read_ex(c, buf, sizeof(buf), &n)) {
            size_t skip = total < hdr ? (hdr - total < n ? hdr - total : n) : 0;
            if (total == 0) CHECK(n >= 4 && memcmp(buf, "HTTP", 4) == 0);
            gnutls_hash(got_h, buf + skip, n - skip);
            total += n;
            continue;
        }
        int e = quicc_get_error(c, 0);
        if (e == QUICC_ERROR_WANT_READ) {
            wait_for(c, QUICC_POLL_EVENT_R);
            continue;
        }
        CHECK_EQ(e, QUICC_ERROR_ZERO_RETURN);
        break;
    }
    CHECK_EQ(total, (size_t)BODY + hdr);
    static unsigned char chunk[16384];
    for (size_t off = 0; off < BODY; off += sizeof(chunk)) {
        body_byte_fill(chunk, sizeof(chunk), off);
        gnutls_hash(want_h, chunk, sizeof(chunk));
    }
    unsigned char a[32], b[32];
    gnutls_hash_deinit(got_h, a);
    gnutls_hash_deinit(want_h, b);
    CHECK_MEM(a, b, 32);
    while ((r = quicc_shutdown(c)) != 1) {
        CHECK_EQ(r, 0);
        if (r != 0) break;
        wait_for(c, 0);
    }
    pthread_join(th, NULL);
    CHECK(sa.ok);
    CHECK_U64(sa.version, want_version);
    CHECK_EQ(count_sockets(), sockets); /* no socket, on either side */
    quicc_free(c);
    quicc_ctx_free(ctx);
    quicc_dgram_pair_free(pair);
}

static void test_fetch_blocking(void) {
    fetch(true, QUICC_CLIENT);
}

static void test_fetch_nonblocking(void) {
    fetch(false, QUICC_CLIENT);
}

/* Thread-assisted: the background thread drives the transport too. */
static void test_fetch_thread_assisted(void) {
    fetch(true, QUICC_CLIENT_THREAD);
}

/* A transport whose send fails for good: the handshake fails with a network error. */
/* QUIC v2 by compatible version negotiation: the client starts in v1 and offers v2, which
 * the server prefers by default; the same fetch, verified by SHA-256. Bad version lists are
 * refused with an error on the queue. */
static void test_quic_v2(void) {
    static const uint32_t v1v2[] = {QUICC_QUIC_VERSION_1, QUICC_QUIC_VERSION_2};
    client_versions = v1v2;
    n_client_versions = 2;
    want_version = QUICC_QUIC_VERSION_2;
    fetch(true, QUICC_CLIENT);
    fetch(false, QUICC_CLIENT);
    /* A client starting in v2 meets a server of v1 only: Version Negotiation, and the
     * connection starts again in v1 by itself. */
    static const uint32_t v2v1[] = {QUICC_QUIC_VERSION_2, QUICC_QUIC_VERSION_1},
                          v1only[] = {QUICC_QUIC_VERSION_1};
    client_versions = v2v1;
    server_versions = v1only;
    n_server_versions = 1;
    want_version = QUICC_QUIC_VERSION_1;
    fetch(true, QUICC_CLIENT);
    fetch(false, QUICC_CLIENT);
    server_versions = NULL;
    n_server_versions = 0;
    client_versions = NULL;
    n_client_versions = 0;
    want_version = QUICC_QUIC_VERSION_1;
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    static const uint32_t bad[] = {QUICC_QUIC_VERSION_1, 0x1a2a3a4a}, twice[] = {1, 1},
                          five[] = {1, QUICC_QUIC_VERSION_2, QUICC_QUIC_VERSION_2_DRAFT, 1, 1};
    quicc_err_clear();
    CHECK_EQ(quicc_ctx_set_quic_versions(ctx, bad, 2), 0);
    CHECK_EQ(quicc_err_get(), QUICC_R_PASSED_INVALID_ARGUMENT);
    CHECK_EQ(quicc_ctx_set_quic_versions(ctx, twice, 2), 0);
    CHECK_EQ(quicc_ctx_set_quic_versions(ctx, five, 5), 0);
    CHECK_EQ(quicc_ctx_set_quic_versions(ctx, v1v2, 0), 0);
    CHECK_EQ(quicc_ctx_set_quic_versions(ctx, NULL, 1), 0);
    CHECK_EQ(quicc_ctx_set_quic_versions(NULL, v1v2, 2), 0);
    quicc_err_clear();
    CHECK_EQ(quicc_ctx_set_quic_versions(ctx, v1v2, 2), 1);
    quicc *c = quicc_new(ctx);
    CHECK_U64(quicc_get_quic_version(c), 0); /* not started */
    CHECK_U64(quicc_get_quic_version(NULL), 0);
    quicc_free(c);
    quicc_ctx_free(ctx);
}

static int broken_send(void *user, const quicc_dgram *d, size_t n) {
    (void)user, (void)d, (void)n;
    return -1;
}

static int nothing_recv(void *user, quicc_dgram *d, size_t n) {
    (void)user, (void)d, (void)n;
    return 0;
}

static void test_failing_transport(void) {
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    quicc *c = quicc_new(ctx);
    quicc_transport t = {broken_send, nothing_recv, pfd[0], NULL};
    CHECK(quicc_set_transport(c, &t));
    struct sockaddr_storage peer = {.ss_family = AF_INET};
    CHECK(quicc_set1_initial_peer_addr(c, (struct sockaddr *)&peer, sizeof(struct sockaddr_in)));
    CHECK_EQ(quicc_set_alpn_protos(c, ALPN, sizeof(ALPN) - 1), 0);
    quicc_err_clear();
    int r = quicc_connect(c);
    CHECK(r != 1);
    CHECK_EQ(quicc_get_error(c, r), QUICC_ERROR_SYSCALL);
    CHECK_EQ(quicc_err_get(), QUICC_R_NETWORK_ERROR);
    quicc_err_clear();
    /* Arguments: callbacks and a descriptor are needed; not after connecting. */
    quicc *d = quicc_new(ctx);
    quicc_transport bad = {NULL, nothing_recv, pfd[0], NULL};
    CHECK_EQ(quicc_set_transport(d, &bad), 0);
    CHECK_EQ(quicc_err_get(), QUICC_R_PASSED_INVALID_ARGUMENT);
    bad = (quicc_transport){broken_send, nothing_recv, -1, NULL};
    CHECK_EQ(quicc_set_transport(d, &bad), 0);
    CHECK_EQ(quicc_err_get(), QUICC_R_PASSED_INVALID_ARGUMENT);
    CHECK_EQ(quicc_set_transport(c, &t), 0);
    CHECK_EQ(quicc_err_get(), QUICC_R_PASSED_INVALID_ARGUMENT);
    /* Without a peer address a transport connection cannot start. */
    CHECK(quicc_set_transport(d, &t));
    CHECK_EQ(quicc_set_alpn_protos(d, ALPN, sizeof(ALPN) - 1), 0);
    CHECK_EQ(quicc_connect(d), 0);
    CHECK_EQ(quicc_err_get(), QUICC_R_PASSED_INVALID_ARGUMENT);
    quicc_err_clear();
    quicc_free(d);
    quicc_free(c);
    quicc_ctx_free(ctx);
    close(pfd[0]);
    close(pfd[1]);
    CHECK(quicc_dgram_pair_transport(NULL, 0, &t) == 0);
}

/* Client certificates over the pair: a server that requires one gets the client's (its
 * subject seen through quicc_get1_peer_certificate on the server's connection); a client
 * without one is refused. A client's verify callback sees the verdict and can refuse. */
typedef struct {
    quicc_dgram_pair *pair;
    bool require;
    _Atomic int accepted; /* 1: a connection was accepted */
    _Atomic int client_done;
    char peer[64]; /* the client certificate's subject */
} auth_server;

static void *serve_auth(void *arg) {
    auth_server *a = arg;
    quicc_ctx *ctx = quicc_ctx_new(QUICC_SERVER);
    quicc_transport t;
    quicc_ctx_use_certificate_chain_file(ctx, cert);
    quicc_ctx_use_PrivateKey_file(ctx, key);
    quicc_ctx_set_alpn_protos(ctx, ALPN, sizeof(ALPN) - 1);
    quicc_ctx_load_verify_file(ctx, cert); /* the client presents the same self-signed one */
    quicc_ctx_set_verify(ctx,
                         QUICC_VERIFY_PEER | (a->require ? QUICC_VERIFY_FAIL_IF_NO_PEER_CERT : 0));
    quicc_dgram_pair_transport(a->pair, 1, &t);
    quicc *l = quicc_new_listener(ctx, 0);
    quicc_set_transport(l, &t);
    quicc_listen(l);
    quicc_set_blocking_mode(l, 0);
    quicc *c = NULL;
    for (int i = 0; i < 300 && !c; i++) {
        bool last = atomic_load(&a->client_done); /* one more look after the client is done */
        c = quicc_accept_connection(l, 0);
        if (c || last) break;
        usleep(5000);
    }
    if (c) {
        a->accepted = 1;
        quicc_cert *pc = quicc_get1_peer_certificate(c);
        snprintf(a->peer, sizeof(a->peer), "%s", pc ? quicc_cert_get0_subject(pc) : "");
        quicc_cert_free(pc);
        quicc_shutdown_ex(c, QUICC_SHUTDOWN_FLAG_WAIT_PEER, NULL);
        quicc_free(c);
    }
    quicc_free(l);
    quicc_ctx_free(ctx);
    return NULL;
}

static int cb_calls, cb_preverify;
static long cb_result;
static size_t cb_chain;

static int verify_cb(int preverify_ok, const quicc_verify_info *info, void *arg) {
    cb_calls++;
    cb_preverify = preverify_ok;
    cb_result = info->result;
    cb_chain = info->chain_len;
    return *(int *)arg;
}

/* One client connection over a new pair; returns quicc_connect's result. */
static int auth_connect(auth_server *as, bool client_cert, int *cb_answer, long *verify_result) {
    as->pair = quicc_dgram_pair_new(0);
    pthread_t th;
    pthread_create(&th, NULL, serve_auth, as);
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    quicc_ctx_load_verify_file(ctx, cert);
    if (client_cert) {
        CHECK(quicc_ctx_use_certificate_chain_file(ctx, cert));
        CHECK(quicc_ctx_use_PrivateKey_file(ctx, key));
    }
    if (cb_answer) quicc_ctx_set_verify_callback(ctx, verify_cb, cb_answer);
    quicc *c = quicc_new(ctx);
    quicc_transport t;
    struct sockaddr_storage peer;
    socklen_t plen;
    quicc_dgram_pair_transport(as->pair, 0, &t);
    quicc_dgram_pair_addr(as->pair, 1, &peer, &plen);
    quicc_set_transport(c, &t);
    quicc_set1_initial_peer_addr(c, (struct sockaddr *)&peer, plen);
    quicc_set_tlsext_host_name(c, "localhost");
    quicc_set_alpn_protos(c, ALPN, sizeof(ALPN) - 1);
    quicc_err_clear();
    int r = quicc_connect(c);
    if (r == 1) {
        /* TLS 1.3: the server checks the client's certificate after the client is done. */
        char b[8];
        size_t n;
        quicc_set_blocking_mode(c, 0);
        quicc_conn_close_info ci;
        for (int i = 0; i < 200 && !as->accepted && quicc_get_conn_close_info(c, &ci) != 1; i++) {
            quicc_handle_events(c);
            usleep(5000);
            (void)quicc_read_ex(c, b, sizeof(b), &n);
        }
        quicc_shutdown_ex(c, QUICC_SHUTDOWN_FLAG_RAPID, NULL);
    }
    *verify_result = quicc_get_verify_result(c);
    quicc_free(c);
    atomic_store(&as->client_done, 1);
    pthread_join(th, NULL);
    quicc_ctx_free(ctx);
    quicc_dgram_pair_free(as->pair);
    quicc_err_clear();
    return r;
}

static void test_client_certificate(void) {
    long vr;
    auth_server as = {.require = true};
    CHECK_EQ(auth_connect(&as, true, NULL, &vr), 1);
    CHECK_EQ(as.accepted, 1);
    CHECK(strcmp(as.peer, "CN=localhost") == 0);
    /* Without one, the requiring server never accepts the connection. */
    as = (auth_server){.require = true};
    auth_connect(&as, false, NULL, &vr);
    CHECK_EQ(as.accepted, 0);
    /* Asked for but optional: served without. */
    as = (auth_server){.require = false};
    CHECK_EQ(auth_connect(&as, false, NULL, &vr), 1);
    CHECK_EQ(as.accepted, 1);
    CHECK(strcmp(as.peer, "") == 0);
}

static void test_verify_callback(void) {
    long vr = -1;
    int answer = 0;
    auth_server as = {.require = false};
    cb_calls = 0;
    CHECK_EQ(auth_connect(&as, false, &answer, &vr), 0);
    CHECK_EQ(cb_calls, 1);
    CHECK_EQ(cb_preverify, 1);
    CHECK_EQ(cb_result, QUICC_VERIFY_OK);
    CHECK(cb_chain >= 1);
    CHECK_EQ(vr, QUICC_VERIFY_ERR_INVALID);
    answer = 1;
    as = (auth_server){.require = false};
    CHECK_EQ(auth_connect(&as, false, &answer, &vr), 1);
    CHECK_EQ(vr, QUICC_VERIFY_OK);
}

int main(void) {
    snprintf(dir, sizeof(dir), "/tmp/quicc-transport-XXXXXX");
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
    TEST_RUN(test_fetch_blocking);
    TEST_RUN(test_fetch_nonblocking);
    TEST_RUN(test_fetch_thread_assisted);
    TEST_RUN(test_failing_transport);
    TEST_RUN(test_quic_v2);
    TEST_RUN(test_client_certificate);
    TEST_RUN(test_verify_callback);
    unlink(cert);
    unlink(key);
    rmdir(dir);
    return test_summary();
}
