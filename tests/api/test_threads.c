/*
 * test_threads.c: the API from many threads at once, against an in-process
 * quicc server on 127.0.0.1 (which is multi-threaded too: one thread per
 * stream). Checked byte for byte with SHA-256; run under ThreadSanitizer by
 * `make test-tsan`.
 *
 *  - eight threads each drive their own stream of one client connection:
 *    2 MiB up (the server answers with the SHA-256 of what it read), then
 *    1 MiB down (generated from the stream ID, hashed by the client); with a
 *    QUICC_CLIENT and a QUICC_CLIENT_THREAD context;
 *  - four threads accept 64 server-initiated streams concurrently while
 *    another reads the accept-queue length: each stream accepted once, its
 *    data intact;
 *  - four threads accept connections on one listener concurrently while
 *    eight clients connect: each connection accepted exactly once.
 */
#include "quicc.h"
#include "tls/tls.h"
#include "unit/test.h"

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define UP_BYTES (2u << 20)
#define DOWN_BYTES (1u << 20)
#define CHUNK 65536

static char cert_path[96], key_path[96], dir[64];
static const unsigned char alpn[] = "\x0bquicc-tests";

/* ---- data: a deterministic byte stream per seed ---- */

static void fill(uint8_t *buf, size_t len, uint64_t seed, uint64_t offset) {
    for (size_t i = 0; i < len; i++) {
        uint64_t x = (offset + i) * 0x9e3779b97f4a7c15ull ^ seed * 0xbf58476d1ce4e5b9ull;
        x ^= x >> 31;
        buf[i] = (uint8_t)(x ^ (x >> 17));
    }
}

static void digest_of_stream(uint64_t seed, size_t len, uint8_t out[32]) {
    gnutls_hash_hd_t h;
    gnutls_hash_init(&h, GNUTLS_DIG_SHA256);
    uint8_t *buf = malloc(CHUNK);
    for (size_t off = 0; off < len; off += CHUNK) {
        size_t n = len - off < CHUNK ? len - off : CHUNK;
        fill(buf, n, seed, off);
        gnutls_hash(h, buf, n);
    }
    gnutls_hash_deinit(h, out);
    free(buf);
}

/* Blocking helpers: write all; read exactly len (into a hash or a buffer) then expect FIN. */
static int write_all(quicc *s, const uint8_t *buf, size_t len, uint64_t flags) {
    size_t w = 0;
    return quicc_write_ex2(s, buf, len, flags, &w) == 1 && w == len;
}

static int read_hash(quicc *s, size_t *total, uint8_t out[32]) {
    gnutls_hash_hd_t h;
    gnutls_hash_init(&h, GNUTLS_DIG_SHA256);
    uint8_t *buf = malloc(CHUNK);
    size_t n;
    *total = 0;
    while (quicc_read_ex(s, buf, CHUNK, &n)) {
        gnutls_hash(h, buf, n);
        *total += n;
    }
    gnutls_hash_deinit(h, out);
    free(buf);
    return quicc_get_error(s, 0) == QUICC_ERROR_ZERO_RETURN;
}

/* ---- the server ---- */

typedef struct server {
    int fd;
    struct sockaddr_in addr;
    quicc_ctx *ctx;
    quicc *listener;
} server;

static void server_start(server *sv) {
    sv->ctx = quicc_ctx_new(QUICC_SERVER);
    CHECK(quicc_ctx_use_certificate_chain_file(sv->ctx, cert_path));
    CHECK(quicc_ctx_use_PrivateKey_file(sv->ctx, key_path));
    CHECK(quicc_ctx_set_alpn_protos(sv->ctx, alpn, sizeof(alpn) - 1) == 0);
    sv->fd = socket(AF_INET, SOCK_DGRAM, 0);
    sv->addr = (struct sockaddr_in){.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sv->addr.sin_addr);
    socklen_t l = sizeof(sv->addr);
    CHECK(bind(sv->fd, (struct sockaddr *)&sv->addr, l) == 0);
    CHECK(getsockname(sv->fd, (struct sockaddr *)&sv->addr, &l) == 0);
    sv->listener = quicc_new_listener(sv->ctx, QUICC_LISTENER_FLAG_NO_RETRY);
    CHECK(quicc_set_fd(sv->listener, sv->fd));
    CHECK(quicc_listen(sv->listener));
}

static void server_stop(server *sv) {
    quicc_free(sv->listener);
    quicc_ctx_free(sv->ctx);
    close(sv->fd);
}

static quicc *client_new(quicc_ctx *ctx, const server *sv) {
    quicc *c = quicc_new(ctx);
    quicc_set1_initial_peer_addr(c, (const struct sockaddr *)&sv->addr, sizeof(sv->addr));
    quicc_set1_host(c, "localhost");
    quicc_set_alpn_protos(c, alpn, sizeof(alpn) - 1);
    return c;
}

/* Server stream handler: read everything, answer the SHA-256 and length, then the download
 * generated from the stream ID. */
static void *serve_stream(void *arg) {
    quicc *st = arg;
    uint8_t d[32 + 8];
    size_t total;
    int ok = read_hash(st, &total, d);
    uint64_t t = total;
    memcpy(d + 32, &t, 8);
    if (ok && write_all(st, d, sizeof(d), 0)) {
        uint8_t *buf = malloc(CHUNK);
        uint64_t seed = quicc_get_stream_id(st);
        for (size_t off = 0; ok && off < DOWN_BYTES; off += CHUNK) {
            fill(buf, CHUNK, seed, off);
            ok = write_all(st, buf, CHUNK,
                           off + CHUNK >= DOWN_BYTES ? QUICC_WRITE_FLAG_CONCLUDE : 0);
        }
        free(buf);
    }
    quicc_free(st);
    return NULL;
}

typedef struct {
    server *sv;
    int streams;
} conn_server_arg;

/* Accepts one connection and serves `streams` streams, one thread each. */
static void *serve_connection(void *arg) {
    conn_server_arg *a = arg;
    quicc *conn = quicc_accept_connection(a->sv->listener, 0);
    if (!conn) return NULL;
    quicc_set_default_stream_mode(conn, QUICC_DEFAULT_STREAM_MODE_NONE);
    pthread_t th[16];
    for (int i = 0; i < a->streams; i++) {
        quicc *st = quicc_accept_stream(conn, 0);
        if (!st) break;
        pthread_create(&th[i], NULL, serve_stream, st);
    }
    for (int i = 0; i < a->streams; i++)
        pthread_join(th[i], NULL);
    while (quicc_shutdown_ex(conn, QUICC_SHUTDOWN_FLAG_WAIT_PEER, NULL) == 0)
        ;
    quicc_free(conn);
    return NULL;
}

/* ---- a) eight threads, eight streams, one connection ---- */

typedef struct {
    quicc *conn;
    int ok;
    uint64_t id;
} stream_job;

static void *drive_stream(void *arg) {
    stream_job *j = arg;
    quicc *st = quicc_new_stream(j->conn, 0);
    if (!st) return NULL;
    j->id = quicc_get_stream_id(st);
    uint8_t *buf = malloc(CHUNK);
    int ok = 1;
    for (size_t off = 0; ok && off < UP_BYTES; off += CHUNK) {
        fill(buf, CHUNK, j->id, off);
        ok = write_all(st, buf, CHUNK, 0);
    }
    ok = ok && quicc_stream_conclude(st, 0);
    /* The server's answer: SHA-256 and length of the upload, then the download. */
    uint8_t want[32], got[40];
    size_t n, have = 0;
    while (ok && have < sizeof(got) && quicc_read_ex(st, got + have, sizeof(got) - have, &n))
        have += n;
    digest_of_stream(j->id, UP_BYTES, want);
    uint64_t len;
    memcpy(&len, got + 32, 8);
    ok = ok && have == sizeof(got) && memcmp(got, want, 32) == 0 && len == UP_BYTES;
    size_t total = 0;
    uint8_t dgot[32], dwant[32];
    ok = ok && read_hash(st, &total, dgot);
    digest_of_stream(j->id, DOWN_BYTES, dwant);
    j->ok = ok && total == DOWN_BYTES && memcmp(dgot, dwant, 32) == 0;
    free(buf);
    quicc_free(st);
    return NULL;
}

static void eight_streams(enum quicc_method method) {
    server sv;
    server_start(&sv);
    conn_server_arg sa = {&sv, 8};
    pthread_t sth;
    pthread_create(&sth, NULL, serve_connection, &sa);
    quicc_ctx *ctx = quicc_ctx_new(method);
    CHECK(quicc_ctx_load_verify_file(ctx, cert_path));
    quicc *c = client_new(ctx, &sv);
    quicc_set_default_stream_mode(c, QUICC_DEFAULT_STREAM_MODE_NONE);
    CHECK_EQ(quicc_connect(c), 1);
    stream_job jobs[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        jobs[i] = (stream_job){.conn = c};
        pthread_create(&th[i], NULL, drive_stream, &jobs[i]);
    }
    uint64_t seen = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CHECK(jobs[i].ok);
        CHECK_EQ(jobs[i].id % 4, 0); /* client bidirectional */
        CHECK(jobs[i].id < 32);
        seen |= 1ull << (jobs[i].id / 4);
    }
    CHECK_U64(seen, 0xff); /* eight distinct streams */
    CHECK_EQ(quicc_shutdown(c), 1);
    quicc_free(c);
    quicc_ctx_free(ctx);
    pthread_join(sth, NULL);
    server_stop(&sv);
}

static void test_eight_streams_blocking(void) {
    eight_streams(QUICC_CLIENT);
}

static void test_eight_streams_thread_assisted(void) {
    eight_streams(QUICC_CLIENT_THREAD);
}

/* ---- b) four threads accept 64 server streams ---- */

#define ACCEPT_STREAMS 64
#define STREAM_BYTES 65536

typedef struct {
    quicc *conn;
    int count, ok;
    uint64_t ids[ACCEPT_STREAMS];
} accept_job;

static void *accept_streams(void *arg) {
    accept_job *j = arg;
    uint8_t *want = malloc(STREAM_BYTES), *got = malloc(STREAM_BYTES + 1);
    j->ok = 1;
    for (int k = 0; k < ACCEPT_STREAMS / 4; k++) {
        quicc *st = quicc_accept_stream(j->conn, 0);
        if (!st) {
            j->ok = 0;
            break;
        }
        uint64_t id = quicc_get_stream_id(st);
        j->ids[j->count++] = id;
        size_t have = 0, n;
        while (have <= STREAM_BYTES && quicc_read_ex(st, got + have, STREAM_BYTES + 1 - have, &n))
            have += n;
        fill(want, STREAM_BYTES, id, 0);
        if (have != STREAM_BYTES || memcmp(got, want, STREAM_BYTES) != 0 ||
            quicc_get_error(st, 0) != QUICC_ERROR_ZERO_RETURN)
            j->ok = 0;
        quicc_free(st);
    }
    free(want);
    free(got);
    return NULL;
}

static atomic_int queue_watch_stop;
static void *watch_queue(void *arg) {
    size_t max = 0;
    while (!atomic_load(&queue_watch_stop)) {
        size_t n = quicc_get_accept_stream_queue_len(arg);
        if (n > max) max = n;
        usleep(100);
    }
    return (void *)(uintptr_t)(max <= ACCEPT_STREAMS);
}

typedef struct {
    server *sv;
} opener_arg;

static void *open_server_streams(void *arg) {
    server *sv = ((opener_arg *)arg)->sv;
    quicc *conn = quicc_accept_connection(sv->listener, 0);
    if (!conn) return NULL;
    uint8_t *buf = malloc(STREAM_BYTES);
    for (int i = 0; i < ACCEPT_STREAMS; i++) {
        quicc *st = quicc_new_stream(conn, QUICC_STREAM_FLAG_UNI);
        if (!st) break;
        fill(buf, STREAM_BYTES, quicc_get_stream_id(st), 0);
        write_all(st, buf, STREAM_BYTES, QUICC_WRITE_FLAG_CONCLUDE);
        quicc_free(st);
    }
    free(buf);
    while (quicc_shutdown_ex(conn, QUICC_SHUTDOWN_FLAG_WAIT_PEER, NULL) == 0)
        ;
    quicc_free(conn);
    return NULL;
}

static void test_concurrent_stream_accept(void) {
    server sv;
    server_start(&sv);
    opener_arg oa = {&sv};
    pthread_t sth;
    pthread_create(&sth, NULL, open_server_streams, &oa);
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    CHECK(quicc_ctx_load_verify_file(ctx, cert_path));
    quicc *c = client_new(ctx, &sv);
    quicc_set_default_stream_mode(c, QUICC_DEFAULT_STREAM_MODE_NONE);
    CHECK_EQ(quicc_connect(c), 1);
    accept_job jobs[4];
    pthread_t th[4], wt;
    atomic_store(&queue_watch_stop, 0);
    pthread_create(&wt, NULL, watch_queue, c);
    for (int i = 0; i < 4; i++) {
        memset(&jobs[i], 0, sizeof(jobs[i]));
        jobs[i].conn = c;
        pthread_create(&th[i], NULL, accept_streams, &jobs[i]);
    }
    uint8_t seen[ACCEPT_STREAMS] = {0};
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(jobs[i].ok);
        for (int k = 0; k < jobs[i].count; k++) {
            uint64_t id = jobs[i].ids[k];
            CHECK_EQ(id % 4, 3); /* server unidirectional */
            if (id / 4 < ACCEPT_STREAMS) seen[id / 4]++;
            total++;
        }
    }
    atomic_store(&queue_watch_stop, 1);
    void *wr;
    pthread_join(wt, &wr);
    CHECK(wr != NULL);
    CHECK_EQ(total, ACCEPT_STREAMS);
    for (int i = 0; i < ACCEPT_STREAMS; i++)
        CHECK_EQ(seen[i], 1);
    CHECK_EQ(quicc_get_accept_stream_queue_len(c), 0);
    CHECK_EQ(quicc_shutdown(c), 1);
    quicc_free(c);
    quicc_ctx_free(ctx);
    pthread_join(sth, NULL);
    server_stop(&sv);
}

/* ---- c) four threads accept connections on one listener ---- */

#define CLIENTS 8

typedef struct {
    server *sv;
    int count;
    char names[CLIENTS][16];
} conn_accept_job;

static void *accept_conns(void *arg) {
    conn_accept_job *j = arg;
    for (int k = 0; k < CLIENTS / 4; k++) {
        quicc *conn = quicc_accept_connection(j->sv->listener, 0);
        if (!conn) break;
        /* Each client sends its name on the default stream; echo it back. */
        char buf[16] = {0};
        size_t n = 0, have = 0;
        while (have < sizeof(buf) && quicc_read_ex(conn, buf + have, sizeof(buf) - have, &n))
            have += n;
        if (have == sizeof(buf)) {
            memcpy(j->names[j->count++], buf, sizeof(buf));
            write_all(conn, (uint8_t *)buf, sizeof(buf), QUICC_WRITE_FLAG_CONCLUDE);
        }
        while (quicc_shutdown_ex(conn, QUICC_SHUTDOWN_FLAG_WAIT_PEER, NULL) == 0)
            ;
        quicc_free(conn);
    }
    return NULL;
}

typedef struct {
    server *sv;
    quicc_ctx *ctx;
    int index, ok;
} client_job;

static void *run_client(void *arg) {
    client_job *j = arg;
    quicc *c = client_new(j->ctx, j->sv);
    char name[16] = {0}, back[17] = {0};
    snprintf(name, sizeof(name), "client-%d", j->index);
    size_t n, have = 0;
    if (quicc_connect(c) == 1 &&
        write_all(c, (uint8_t *)name, sizeof(name), QUICC_WRITE_FLAG_CONCLUDE)) {
        while (have < sizeof(back) && quicc_read_ex(c, back + have, sizeof(back) - have, &n))
            have += n;
        j->ok = have == sizeof(name) && memcmp(back, name, sizeof(name)) == 0 &&
                quicc_get_error(c, 0) == QUICC_ERROR_ZERO_RETURN;
    }
    quicc_shutdown(c);
    quicc_free(c);
    return NULL;
}

static void test_concurrent_connection_accept(void) {
    server sv;
    server_start(&sv);
    conn_accept_job aj[4];
    pthread_t at[4], ct[CLIENTS];
    for (int i = 0; i < 4; i++) {
        memset(&aj[i], 0, sizeof(aj[i]));
        aj[i].sv = &sv;
        pthread_create(&at[i], NULL, accept_conns, &aj[i]);
    }
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    CHECK(quicc_ctx_load_verify_file(ctx, cert_path));
    client_job cj[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        cj[i] = (client_job){.sv = &sv, .ctx = ctx, .index = i};
        pthread_create(&ct[i], NULL, run_client, &cj[i]);
    }
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(ct[i], NULL);
        CHECK(cj[i].ok);
    }
    int seen[CLIENTS] = {0}, total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(at[i], NULL);
        for (int k = 0; k < aj[i].count; k++) {
            int idx = -1;
            sscanf(aj[i].names[k], "client-%d", &idx);
            if (idx >= 0 && idx < CLIENTS) seen[idx]++;
            total++;
        }
    }
    CHECK_EQ(total, CLIENTS);
    for (int i = 0; i < CLIENTS; i++)
        CHECK_EQ(seen[i], 1);
    CHECK_EQ(quicc_get_accept_connection_queue_len(sv.listener), 0);
    quicc_ctx_free(ctx);
    server_stop(&sv);
}

int main(void) {
    alarm(300); /* a deadlock fails the test instead of hanging the suite */
    snprintf(dir, sizeof(dir), "/tmp/quicc-threads-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", dir);
    snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
    const char *names[] = {"localhost"};
    char err[256];
    int64_t t = (int64_t)time(NULL);
    if (qc_tls_generate_selfsigned(cert_path, key_path, names, 1, NULL, 0, t - 3600, t + 86400, err,
                                   sizeof(err)) != 0) {
        fprintf(stderr, "certificate: %s\n", err);
        return 1;
    }
    TEST_RUN(test_eight_streams_blocking);
    TEST_RUN(test_eight_streams_thread_assisted);
    TEST_RUN(test_concurrent_stream_accept);
    TEST_RUN(test_concurrent_connection_accept);
    unlink(cert_path);
    unlink(key_path);
    rmdir(dir);
    return test_summary();
}
