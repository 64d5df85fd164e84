/*
 * fuzz_h3: the HTTP/3 server glue (src/h3/h3.c over nghttp3) facing a hostile client. A
 * real quicc client and listener talk over the in-memory datagram pair; the client's
 * streams carry whatever the input says, so every HTTP/3 and QPACK frame the server parses
 * is the fuzzer's. The input is a list of records:
 *   op % 4 == 0: a new unidirectional stream with the next bytes (the first is the stream
 *                type: 0x00 control, 0x02 QPACK encoder, 0x03 decoder, others unknown);
 *   op % 4 == 1: a new request stream (bidirectional) with the next bytes, concluded when
 *                op has bit 3;
 *   op % 4 == 2: more bytes on the last stream opened (concluding it when op has bit 3);
 *   op % 4 == 3: both sides run for a while (the server answers what it understood).
 * The seed corpus holds a valid control stream and GET requests. Checked: no crash, leak or
 * hang; when the HTTP/3 session fails, the connection is closed with an HTTP/3 error code
 * (0x100-0x110, 0x200-0x202 for QPACK).
 */
#include "fuzz/fuzz.h"

#include "quicc_h3.h"
#include "quicc.h"
#include "tls/tls.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static quicc_ctx *sctx, *cctx;
static char root[64];

/* The served directory goes at exit (it held a day-valid key and the page). */
static void cleanup(void) {
    char cmd[100];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "fuzz_h3: cleanup failed\n");
}

static void setup(void) {
    if (sctx) return;
    snprintf(root, sizeof(root), "/tmp/quicc-fuzz-h3-XXXXXX");
    FZ_CHECK(mkdtemp(root) != NULL);
    atexit(cleanup);
    char cert[128], key[128], file[128], err[256];
    snprintf(cert, sizeof(cert), "%s/cert.pem", root);
    snprintf(key, sizeof(key), "%s/key.pem", root);
    snprintf(file, sizeof(file), "%s/index.html", root);
    const char *names[] = {"localhost"};
    int64_t t = (int64_t)time(NULL);
    FZ_CHECK(qc_tls_generate_selfsigned_ed25519(cert, key, names, 1, NULL, 0, t - 3600, t + 86400,
                                                err, sizeof(err)) == 0);
    FILE *f = fopen(file, "w");
    FZ_CHECK(f != NULL);
    for (int i = 0; i < 3000; i++)
        fputs("hello ", f);
    fclose(f);
    static const unsigned char alpn[] = "\x02h3";
    sctx = quicc_ctx_new(QUICC_SERVER);
    FZ_CHECK(quicc_ctx_use_certificate_chain_file(sctx, cert) == 1);
    FZ_CHECK(quicc_ctx_use_PrivateKey_file(sctx, key) == 1);
    FZ_CHECK(quicc_ctx_set_alpn_protos(sctx, alpn, 3) == 0);
    cctx = quicc_ctx_new(QUICC_CLIENT);
    quicc_ctx_set_verify(cctx, QUICC_VERIFY_NONE);
}

typedef struct run {
    quicc *l, *c, *s;
    quicc_h3_server *h3;
    bool failed;
} run;

static void turn(run *r, int rounds) {
    for (int i = 0; i < rounds; i++) {
        quicc_handle_events(r->c);
        quicc_handle_events(r->l);
        if (!r->s) {
            r->s = quicc_accept_connection(r->l, QUICC_ACCEPT_CONNECTION_NO_BLOCK);
            if (r->s) {
                quicc_set_blocking_mode(r->s, 0);
                quicc_set_default_stream_mode(r->s, QUICC_DEFAULT_STREAM_MODE_NONE);
                quicc_set_incoming_stream_policy(r->s, QUICC_INCOMING_STREAM_POLICY_ACCEPT, 0);
                r->h3 = quicc_h3_server_new(r->s, root);
                FZ_CHECK(r->h3 != NULL);
            }
        }
        if (r->s) quicc_handle_events(r->s);
        if (r->h3 && !r->failed && quicc_h3_server_pump(r->h3) < 0) r->failed = true;
        /* the client reads and drops whatever the server sends on its streams */
        quicc *in;
        while ((in = quicc_accept_stream(r->c, QUICC_ACCEPT_STREAM_NO_BLOCK)) != NULL)
            quicc_free(in);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    setup();
    fz_in in = {data, size};
    quicc_dgram_pair *pair = quicc_dgram_pair_new(0);
    FZ_CHECK(pair != NULL);
    run r = {0};
    quicc_transport t;
    struct sockaddr_storage peer;
    socklen_t plen;
    r.l = quicc_new_listener(sctx, 0);
    FZ_CHECK(quicc_dgram_pair_transport(pair, 1, &t) == 1 && quicc_set_transport(r.l, &t) == 1);
    FZ_CHECK(quicc_listen(r.l) == 1);
    quicc_set_blocking_mode(r.l, 0);
    r.c = quicc_new(cctx);
    FZ_CHECK(quicc_dgram_pair_transport(pair, 0, &t) == 1 && quicc_set_transport(r.c, &t) == 1);
    quicc_dgram_pair_addr(pair, 1, &peer, &plen);
    quicc_set1_initial_peer_addr(r.c, (struct sockaddr *)&peer, plen);
    quicc_set_tlsext_host_name(r.c, "localhost");
    quicc_set_alpn_protos(r.c, (const unsigned char *)"\x02h3", 3);
    quicc_set_blocking_mode(r.c, 0);
    quicc_set_default_stream_mode(r.c, QUICC_DEFAULT_STREAM_MODE_NONE);
    int cr = 0;
    for (int i = 0; i < 200 && cr != 1; i++) {
        cr = quicc_connect(r.c);
        turn(&r, 1);
    }
    FZ_CHECK(cr == 1);
    turn(&r, 5);
    quicc *streams[32];
    size_t nstreams = 0;
    for (int rec = 0; in.n && rec < 64; rec++) {
        uint8_t op = fz_u8(&in);
        const uint8_t *p;
        size_t n = fz_bytes(&in, fz_u16(&in) % 2048, &p);
        uint64_t flags = (op & 8) ? QUICC_WRITE_FLAG_CONCLUDE : 0;
        size_t w;
        switch (op % 4) {
        case 0:
        case 1:
            if (nstreams == 32) break;
            streams[nstreams] = quicc_new_stream(
                r.c, QUICC_STREAM_FLAG_NO_BLOCK | (op % 4 == 0 ? QUICC_STREAM_FLAG_UNI : 0));
            if (!streams[nstreams]) break;
            quicc_write_ex2(streams[nstreams], p, n, op % 4 == 0 ? 0 : flags, &w);
            nstreams++;
            break;
        case 2:
            if (nstreams) quicc_write_ex2(streams[nstreams - 1], p, n, flags, &w);
            break;
        default:
            turn(&r, 1 + (n % 8));
            break;
        }
        turn(&r, 2);
    }
    turn(&r, 20);
    if (getenv("FUZZ_H3_VERBOSE") && r.h3) {
        uint64_t reqs = 0, bytes = 0;
        quicc_h3_server_stats(r.h3, &reqs, &bytes);
        fprintf(stderr, "fuzz_h3: %llu requests answered, %llu body bytes, session %s\n",
                (unsigned long long)reqs, (unsigned long long)bytes, r.failed ? "failed" : "ok");
    }
    if (r.failed) {
        quicc_conn_close_info ci;
        FZ_CHECK(quicc_get_conn_close_info(r.s, &ci) == 1);
        FZ_CHECK(ci.error_code >= 0x100 && ci.error_code <= 0x202);
    }
    for (size_t i = 0; i < nstreams; i++)
        quicc_free(streams[i]);
    if (r.h3) quicc_h3_server_free(r.h3);
    quicc_free(r.s);
    quicc_free(r.c);
    quicc_free(r.l);
    quicc_dgram_pair_free(pair);
    quicc_err_clear();
    return 0;
}
