/*
 * test_tls.c: the GnuTLS handshake adapter (src/tls/tls_gnutls.c) and the
 * certificate generator (src/tls/certgen.c). A client and a server qc_hs
 * run against each other in memory: bytes one side hands to send_crypto
 * at an epoch are fed to the other side's recv_crypto at the same epoch
 * until neither has anything left. Certificates (a CA, leaves that are
 * valid, expired, not yet valid, and a self-signed one) are generated
 * into a temporary directory.
 */
#include "unit/test.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tls/tls.h"

/* gnutls_certificate_status_t bits, spelled out so the test needs no GnuTLS header. */
#define ST_INVALID (1u << 1)
#define ST_SIGNER_NOT_FOUND (1u << 6)
#define ST_NOT_ACTIVATED (1u << 9)
#define ST_EXPIRED (1u << 10)
#define ST_UNEXPECTED_OWNER (1u << 14)

#define OUT_CAP 16384

typedef struct side {
    qc_hs hs;
    uint8_t out[QC_EPOCH_COUNT][OUT_CAP];
    size_t out_len[QC_EPOCH_COUNT];
    size_t sent_total[QC_EPOCH_COUNT];
    bool overflow;
    uint8_t secret[QC_EPOCH_COUNT][2][QC_MAX_SECRET_LEN];
    size_t secret_len[QC_EPOCH_COUNT][2];
    enum qc_suite suite[QC_EPOCH_COUNT][2];
    int secret_calls;
    uint8_t peer_tp[512];
    size_t peer_tp_len;
    int peer_tp_calls;
    int peer_tp_result;  /* what the peer_tparams callback returns */
    char alpn_seen[256]; /* the ALPN the server selected (handshake_session) */
} side;

static int cb_set_secret(void *user, enum qc_epoch epoch, bool is_write, enum qc_suite suite,
                         const uint8_t *secret, size_t len) {
    side *s = user;
    if (epoch >= QC_EPOCH_COUNT || len > QC_MAX_SECRET_LEN) return QC_ERR_INTERNAL;
    memcpy(s->secret[epoch][is_write], secret, len);
    s->secret_len[epoch][is_write] = len;
    s->suite[epoch][is_write] = suite;
    s->secret_calls++;
    return 0;
}

static int cb_send_crypto(void *user, enum qc_epoch epoch, const uint8_t *data, size_t len) {
    side *s = user;
    if (epoch >= QC_EPOCH_COUNT || s->out_len[epoch] + len > OUT_CAP) {
        s->overflow = true;
        return QC_ERR_NOBUF;
    }
    memcpy(s->out[epoch] + s->out_len[epoch], data, len);
    s->out_len[epoch] += len;
    s->sent_total[epoch] += len;
    return 0;
}

static int cb_peer_tparams(void *user, const uint8_t *data, size_t len) {
    side *s = user;
    s->peer_tp_calls++;
    if (s->peer_tp_result != 0) return s->peer_tp_result;
    if (len > sizeof(s->peer_tp)) return QC_ERR_TPARAM;
    memcpy(s->peer_tp, data, len);
    s->peer_tp_len = len;
    return 0;
}

static char tmpdir[64];
static char ca_pem[128], ca_key[128], other_ca_pem[128], other_ca_key[128];
static char leaf_pem[128], leaf_key[128], expired_pem[128], expired_key[128];
static char future_pem[128], future_key[128], self_pem[128], self_key[128];
static char keylog_path[128], certdir[128];

static const char *const CLIENT_ALPN[] = {"h3", "hq-interop"};
static const char *const SERVER_ALPN[] = {"hq-interop", "h3"};
static const uint8_t CLIENT_TP[] = {0x01, 0x04, 0x80, 0x00, 0x75, 0x30, 0x04, 0x02, 0x40, 0x64};
static const uint8_t SERVER_TP[] = {0x03, 0x02, 0x45, 0xc0, 0x0f, 0x04, 0xaa, 0xbb, 0xcc, 0xdd};

static void path_in(char *out, const char *name) {
    snprintf(out, 128, "%s/%s", tmpdir, name);
}

/* Generates every certificate the tests use; returns false if anything failed. */
static bool setup_certs(void) {
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/qc_tls_test_XXXXXX");
    if (mkdtemp(tmpdir) == NULL) return false;
    path_in(ca_pem, "ca.pem");
    path_in(ca_key, "ca.key");
    path_in(other_ca_pem, "other_ca.pem");
    path_in(other_ca_key, "other_ca.key");
    path_in(leaf_pem, "leaf.pem");
    path_in(leaf_key, "leaf.key");
    path_in(expired_pem, "expired.pem");
    path_in(expired_key, "expired.key");
    path_in(future_pem, "future.pem");
    path_in(future_key, "future.key");
    path_in(self_pem, "self.pem");
    path_in(self_key, "self.key");
    path_in(keylog_path, "keys.log");
    path_in(certdir, "certdir");
    int64_t now = (int64_t)time(NULL);
    int64_t day = 86400;
    const char *dns[] = {"localhost", "quic.example"};
    const char *ips[] = {"127.0.0.1", "::1"};
    char err[256] = "";
    int rv = qc_tls_generate_ca(ca_pem, ca_key, "quicc test CA", now - day, now + 30 * day, err,
                                sizeof(err));
    if (rv == 0)
        rv = qc_tls_generate_ca(other_ca_pem, other_ca_key, "other CA", now - day, now + 30 * day,
                                err, sizeof(err));
    if (rv == 0)
        rv = qc_tls_generate_ca_signed(leaf_pem, leaf_key, dns, 2, ips, 2, now - day,
                                       now + 10 * day, ca_pem, ca_key, err, sizeof(err));
    if (rv == 0)
        rv = qc_tls_generate_ca_signed(expired_pem, expired_key, dns, 2, ips, 2, now - 10 * day,
                                       now - day, ca_pem, ca_key, err, sizeof(err));
    if (rv == 0)
        rv = qc_tls_generate_ca_signed(future_pem, future_key, dns, 2, ips, 2, now + day,
                                       now + 10 * day, ca_pem, ca_key, err, sizeof(err));
    if (rv == 0)
        rv = qc_tls_generate_selfsigned(self_pem, self_key, dns, 2, ips, 2, now - day,
                                        now + 10 * day, err, sizeof(err));
    if (rv != 0) {
        fprintf(stderr, "certificate generation failed: %d %s\n", rv, err);
        return false;
    }
    if (mkdir(certdir, 0700) != 0) return false;
    char link[160];
    snprintf(link, sizeof(link), "%s/ca.pem", certdir);
    FILE *in = fopen(ca_pem, "rb"), *out = fopen(link, "wb");
    if (in == NULL || out == NULL) return false;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    return true;
}

static void rm_in(const char *dir, const char *name) {
    char p[192];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    unlink(p);
}

static void cleanup_certs(void) {
    const char *names[] = {"ca.pem",   "ca.key",      "other_ca.pem", "other_ca.key", "leaf.pem",
                           "leaf.key", "expired.pem", "expired.key",  "future.pem",   "future.key",
                           "self.pem", "self.key",    "keys.log",     "x.pem",        "x.key"};
    for (size_t i = 0; i < QC_ARRAY_LEN(names); i++)
        rm_in(tmpdir, names[i]);
    rm_in(certdir, "ca.pem");
    rmdir(certdir);
    rmdir(tmpdir);
}

typedef struct opts {
    const char *const *client_alpn;
    size_t client_alpn_count;
    const char *const *server_alpn;
    size_t server_alpn_count;
    const char *cert, *key; /* server credentials */
    const char *ca_file;    /* client trust */
    const char *ca_dir;
    bool no_verify;
    const char *server_name;
    const char *client_keylog;
    bool server_no_tp;
    unsigned client_suites, server_suites;
} opts;

static opts default_opts(void) {
    opts o = {.client_alpn = CLIENT_ALPN,
              .client_alpn_count = 2,
              .server_alpn = SERVER_ALPN,
              .server_alpn_count = 2,
              .cert = leaf_pem,
              .key = leaf_key,
              .ca_file = ca_pem,
              .server_name = "localhost"};
    return o;
}

static qc_tls_ctx *make_client_ctx(const opts *o) {
    qc_tls_ctx_config c = {0};
    c.is_server = false;
    c.alpn = o->client_alpn;
    c.alpn_count = o->client_alpn_count;
    c.verify_peer = !o->no_verify;
    c.ca_file = o->ca_file;
    c.ca_dir = o->ca_dir;
    c.keylog_file = o->client_keylog;
    c.suites = o->client_suites;
    char err[256] = "";
    qc_tls_ctx *ctx = qc_tls_ctx_new(&c, err, sizeof(err));
    if (ctx == NULL) fprintf(stderr, "client ctx: %s\n", err);
    return ctx;
}

static qc_tls_ctx *make_server_ctx(const opts *o) {
    qc_tls_ctx_config c = {0};
    c.is_server = true;
    c.alpn = o->server_alpn;
    c.alpn_count = o->server_alpn_count;
    c.cert_file = o->cert;
    c.key_file = o->key;
    c.suites = o->server_suites;
    char err[256] = "";
    qc_tls_ctx *ctx = qc_tls_ctx_new(&c, err, sizeof(err));
    if (ctx == NULL) fprintf(stderr, "server ctx: %s\n", err);
    return ctx;
}

static int side_init(side *s, qc_tls_ctx *ctx, const char *sni, const uint8_t *tp, size_t tp_len) {
    memset(s, 0, sizeof(*s));
    qc_hs_callbacks cbs = {s, cb_set_secret, cb_send_crypto, cb_peer_tparams};
    int rv = qc_tls_new(ctx, sni, &cbs, &s->hs);
    if (rv != 0) return rv;
    if (tp != NULL) rv = s->hs.ops->set_local_tparams(s->hs.impl, tp, tp_len);
    return rv;
}

typedef struct result {
    int client_err, server_err;
    uint8_t client_alert, server_alert;
} result;

/* Moves pending bytes from one side to the other; returns true if anything moved. */
static bool shuttle(side *from, side *to, int *err, uint8_t *alert) {
    bool moved = false;
    for (int e = 0; e < QC_EPOCH_COUNT && *err == 0; e++) {
        if (from->out_len[e] == 0) continue;
        size_t n = from->out_len[e];
        from->out_len[e] = 0;
        moved = true;
        /* Feed in two pieces to exercise partial messages. */
        size_t half = n / 2;
        *err = to->hs.ops->recv_crypto(to->hs.impl, (enum qc_epoch)e, from->out[e], half, alert);
        if (*err == 0)
            *err = to->hs.ops->recv_crypto(to->hs.impl, (enum qc_epoch)e, from->out[e] + half,
                                           n - half, alert);
    }
    return moved;
}

/* Starts the client and runs both sides until quiet or an error. */
static result run(side *c, side *s) {
    result r = {0, 0, 0, 0};
    r.client_err = c->hs.ops->start(c->hs.impl);
    CHECK_EQ(s->hs.ops->start(s->hs.impl), 0);
    for (int round = 0; round < 50 && r.client_err == 0 && r.server_err == 0; round++) {
        bool a = shuttle(c, s, &r.server_err, &r.server_alert);
        bool b = r.server_err == 0 && shuttle(s, c, &r.client_err, &r.client_alert);
        if (!a && !b) break;
    }
    return r;
}

static void check_alpn(side *x, const char *want) {
    size_t len = 99;
    const uint8_t *p = x->hs.ops->alpn(x->hs.impl, &len);
    CHECK(p != NULL);
    CHECK_EQ(len, strlen(want));
    if (p != NULL && len == strlen(want)) CHECK_MEM(p, want, len);
}

/* Full handshake with a CA-signed certificate: secrets, suite, tparams, ALPN. */
static void test_handshake_basic(void) {
    opts o = default_opts();
    qc_tls_ctx *cc = make_client_ctx(&o), *sc = make_server_ctx(&o);
    CHECK(cc != NULL && sc != NULL);
    if (!cc || !sc) return;
    static side c, s;
    CHECK_EQ(side_init(&c, cc, "localhost", CLIENT_TP, sizeof(CLIENT_TP)), 0);
    CHECK_EQ(side_init(&s, sc, NULL, SERVER_TP, sizeof(SERVER_TP)), 0);
    /* Nothing negotiated yet. */
    CHECK(!c.hs.ops->is_complete(c.hs.impl));
    size_t len = 7;
    CHECK(c.hs.ops->alpn(c.hs.impl, &len) == NULL);
    CHECK_EQ(len, 0);
    result r = run(&c, &s);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(r.server_err, 0);
    CHECK(c.hs.ops->is_complete(c.hs.impl));
    CHECK(s.hs.ops->is_complete(s.hs.impl));
    CHECK(!c.overflow && !s.overflow);
    /* The handshake starts with a ClientHello in Initial; no TLS data in 0-RTT. */
    CHECK(c.sent_total[QC_EPOCH_INITIAL] > 0);
    CHECK(s.sent_total[QC_EPOCH_INITIAL] > 0);
    CHECK(s.sent_total[QC_EPOCH_HANDSHAKE] > 0);
    CHECK(c.sent_total[QC_EPOCH_HANDSHAKE] > 0);
    CHECK_EQ(c.sent_total[QC_EPOCH_0RTT], 0);
    CHECK_EQ(s.sent_total[QC_EPOCH_0RTT], 0);
    /* Initial secrets are the engine's business; TLS gives handshake and 1-RTT ones. */
    CHECK_EQ(c.secret_len[QC_EPOCH_INITIAL][0] + c.secret_len[QC_EPOCH_INITIAL][1], 0);
    CHECK_EQ(c.secret_len[QC_EPOCH_0RTT][0] + c.secret_len[QC_EPOCH_0RTT][1], 0);
    CHECK_EQ(c.secret_calls, 4);
    CHECK_EQ(s.secret_calls, 4);
    enum qc_suite suite = c.suite[QC_EPOCH_HANDSHAKE][1];
    CHECK(suite == QC_SUITE_AES_128_GCM_SHA256 || suite == QC_SUITE_AES_256_GCM_SHA384 ||
          suite == QC_SUITE_CHACHA20_POLY1305_SHA256);
    size_t want_len = suite == QC_SUITE_AES_256_GCM_SHA384 ? 48 : 32;
    int epochs[] = {QC_EPOCH_HANDSHAKE, QC_EPOCH_1RTT};
    for (int i = 0; i < 2; i++) {
        int e = epochs[i];
        for (int w = 0; w < 2; w++) {
            /* client write == server read and client read == server write */
            CHECK_EQ(c.secret_len[e][w], want_len);
            CHECK_EQ(s.secret_len[e][!w], want_len);
            CHECK_MEM(c.secret[e][w], s.secret[e][!w], want_len);
            CHECK_EQ(c.suite[e][w], suite);
            CHECK_EQ(s.suite[e][!w], suite);
        }
        CHECK(memcmp(c.secret[e][0], c.secret[e][1], want_len) != 0);
    }
    CHECK(memcmp(c.secret[QC_EPOCH_HANDSHAKE][1], c.secret[QC_EPOCH_1RTT][1], want_len) != 0);
    /* Transport parameters, byte for byte, exactly once each. */
    CHECK_EQ(s.peer_tp_calls, 1);
    CHECK_EQ(s.peer_tp_len, sizeof(CLIENT_TP));
    CHECK_MEM(s.peer_tp, CLIENT_TP, sizeof(CLIENT_TP));
    CHECK_EQ(c.peer_tp_calls, 1);
    CHECK_EQ(c.peer_tp_len, sizeof(SERVER_TP));
    CHECK_MEM(c.peer_tp, SERVER_TP, sizeof(SERVER_TP));
    /* Server precedence: its first protocol the client offers. */
    check_alpn(&c, "hq-interop");
    check_alpn(&s, "hq-interop");
    CHECK(qc_tls_verify_error(&c.hs) == NULL);
    CHECK_EQ(qc_tls_verify_status(&c.hs), 0);
    CHECK(!qc_tls_is_resumed(&c.hs));
    CHECK(!qc_tls_is_resumed(&s.hs));
    /* After completion no CRYPTO data at 0-RTT is accepted, and empty data is fine. */
    uint8_t alert = 0;
    CHECK_EQ(s.hs.ops->recv_crypto(s.hs.impl, QC_EPOCH_0RTT, CLIENT_TP, 2, &alert), QC_ERR_PROTO);
    CHECK_EQ(s.hs.ops->recv_crypto(s.hs.impl, QC_EPOCH_1RTT, NULL, 0, &alert), 0);
    /* set_local_tparams after start is refused. */
    CHECK_EQ(c.hs.ops->set_local_tparams(c.hs.impl, CLIENT_TP, 2), QC_ERR_INVAL);
    c.hs.ops->free(c.hs.impl);
    s.hs.ops->free(s.hs.impl);
    qc_tls_ctx_free(cc);
    qc_tls_ctx_free(sc);
}

/* Runs one handshake with opts and reports the result; frees everything. */
static result handshake_with(const opts *o, side *c, side *s, const char **reason,
                             unsigned *status) {
    result r = {-999, -999, 0, 0};
    qc_tls_ctx *cc = make_client_ctx(o), *sc = make_server_ctx(o);
    CHECK(cc != NULL && sc != NULL);
    if (cc && sc) {
        CHECK_EQ(side_init(c, cc, o->server_name, CLIENT_TP, sizeof(CLIENT_TP)), 0);
        CHECK_EQ(side_init(s, sc, NULL, o->server_no_tp ? NULL : SERVER_TP, sizeof(SERVER_TP)), 0);
        r = run(c, s);
        if (reason) *reason = qc_tls_verify_error(&c->hs);
        if (status) *status = qc_tls_verify_status(&c->hs);
        c->hs.ops->free(c->hs.impl);
        s->hs.ops->free(s->hs.impl);
    }
    qc_tls_ctx_free(cc);
    qc_tls_ctx_free(sc);
    return r;
}

/* One handshake whose client session is described by sc (SNI, verify hosts, ALPN). */
static result handshake_session(const opts *o, const qc_tls_session_config *sc, side *c, side *s,
                                const char **reason) {
    result r = {-999, -999, 0, 0};
    qc_tls_ctx *cc = make_client_ctx(o), *svc = make_server_ctx(o);
    CHECK(cc != NULL && svc != NULL);
    if (cc && svc) {
        memset(c, 0, sizeof(*c));
        qc_hs_callbacks cbs = {c, cb_set_secret, cb_send_crypto, cb_peer_tparams};
        CHECK_EQ(qc_tls_new_ex(cc, sc, &cbs, &c->hs), 0);
        CHECK_EQ(c->hs.ops->set_local_tparams(c->hs.impl, CLIENT_TP, sizeof(CLIENT_TP)), 0);
        CHECK_EQ(side_init(s, svc, NULL, SERVER_TP, sizeof(SERVER_TP)), 0);
        r = run(c, s);
        if (reason) *reason = qc_tls_verify_error(&c->hs);
        if (r.client_err == 0 && r.server_err == 0) {
            size_t n = 0;
            const uint8_t *a = s->hs.ops->alpn(s->hs.impl, &n);
            memcpy(c->alpn_seen, a ? a : (const uint8_t *)"", n);
            c->alpn_seen[n] = 0;
        }
        c->hs.ops->free(c->hs.impl);
        s->hs.ops->free(s->hs.impl);
    }
    qc_tls_ctx_free(cc);
    qc_tls_ctx_free(svc);
    return r;
}

/* The name checked against the certificate is not the SNI (OpenSSL's SSL_set1_host). */
static void test_verify_host_not_sni(void) {
    static side c, s;
    opts o = default_opts();
    const char *reason = NULL;
    /* SNI localhost (on the certificate), checked name other.example (not on it): refused. */
    static const char *const other[] = {"other.example"};
    qc_tls_session_config sc = {.sni = "localhost", .verify_hosts = other, .verify_host_count = 1};
    result r = handshake_session(&o, &sc, &c, &s, &reason);
    CHECK_EQ(r.client_err, QC_ERR_VERIFY);
    CHECK_EQ(r.client_alert, 42);
    CHECK(reason != NULL && strcmp(reason, "name mismatch") == 0);
    /* The other way round: SNI not on the certificate, checked name on it. */
    static const char *const local[] = {"localhost"};
    sc = (qc_tls_session_config){
        .sni = "other.example", .verify_hosts = local, .verify_host_count = 1};
    r = handshake_session(&o, &sc, &c, &s, &reason);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(r.server_err, 0);
    CHECK(reason == NULL);
    /* Several names: any one matching is enough (SSL_add1_host); IP literals too. */
    static const char *const several[] = {"nope.example", "quic.example"};
    sc = (qc_tls_session_config){
        .sni = "x.example", .verify_hosts = several, .verify_host_count = 2};
    r = handshake_session(&o, &sc, &c, &s, &reason);
    CHECK_EQ(r.client_err, 0);
    static const char *const ips[] = {"127.0.0.2", "127.0.0.1"};
    sc.verify_hosts = ips;
    r = handshake_session(&o, &sc, &c, &s, &reason);
    CHECK_EQ(r.client_err, 0);
    static const char *const none_match[] = {"nope.example", "127.0.0.2"};
    sc.verify_hosts = none_match;
    r = handshake_session(&o, &sc, &c, &s, &reason);
    CHECK_EQ(r.client_err, QC_ERR_VERIFY);
    CHECK(reason != NULL && strcmp(reason, "name mismatch") == 0);
    /* No name at all: only the chain is checked. */
    sc = (qc_tls_session_config){0};
    r = handshake_session(&o, &sc, &c, &s, &reason);
    CHECK_EQ(r.client_err, 0);
    o.ca_file = other_ca_pem;
    r = handshake_session(&o, &sc, &c, &s, &reason);
    CHECK_EQ(r.client_err, QC_ERR_VERIFY);
    CHECK(reason != NULL && strcmp(reason, "untrusted issuer") == 0);
}

/* A session's own ALPN list replaces its context's; a CA directory is a trust store. */
static void test_session_alpn_and_ca_dir(void) {
    static side c, s;
    opts o = default_opts();
    o.client_alpn = NULL;
    o.client_alpn_count = 0;
    static const uint8_t wire[] = {2, 'h', '3'};
    qc_tls_session_config sc = {.sni = "localhost", .alpn_wire = wire, .alpn_wire_len = 3};
    result r = handshake_session(&o, &sc, &c, &s, NULL);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(r.server_err, 0);
    CHECK(strcmp(c.alpn_seen, "h3") == 0);
    static const uint8_t wire2[] = {4, 'n', 'o', 'n', 'e'};
    sc.alpn_wire = wire2;
    sc.alpn_wire_len = sizeof(wire2);
    r = handshake_session(&o, &sc, &c, &s, NULL);
    CHECK_EQ(r.server_err, QC_ERR_TLS);
    CHECK_EQ(r.server_alert, 120); /* no_application_protocol */
    /* Trust from a directory of CA files. */
    o = default_opts();
    o.ca_file = NULL;
    o.ca_dir = certdir;
    unsetenv("SSL_CERT_FILE");
    unsetenv("SSL_CERT_DIR");
    sc = (qc_tls_session_config){.sni = "localhost"};
    r = handshake_session(&o, &sc, &c, &s, NULL);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(r.server_err, 0);
}

/* Client certificates and the verify callback: a pair of contexts made from these. */
typedef struct {
    bool request, require;  /* server asks for / requires a client certificate */
    const char *server_ca;  /* what the server trusts for client certificates */
    const char *cert, *key; /* the client's certificate, or NULL */
    int cb_answer;          /* client verify callback: -1 none, else its return value */
} auth_opts;

static int cb_calls, cb_ok;
static size_t cb_chain;
static char cb_reason[64];

static int verify_cb(void *user, int ok, const char *reason, size_t n, const uint8_t *const *der,
                     const size_t *len) {
    cb_calls++;
    cb_ok = ok;
    cb_chain = n;
    snprintf(cb_reason, sizeof(cb_reason), "%s", reason ? reason : "");
    CHECK(n == 0 || (der[0] != NULL && len[0] > 100));
    return *(int *)user;
}

static result handshake_auth(const auth_opts *a, size_t *server_saw_chain, const char **why) {
    static side c, s;
    result r = {-999, -999, 0, 0};
    int answer = a->cb_answer;
    qc_tls_ctx_config cc = {.alpn = CLIENT_ALPN,
                            .alpn_count = 2,
                            .verify_peer = true,
                            .ca_file = ca_pem,
                            .cert_file = a->cert,
                            .key_file = a->key,
                            .verify_cb = a->cb_answer >= 0 ? verify_cb : NULL,
                            .verify_user = &answer};
    qc_tls_ctx_config sc = {.is_server = true,
                            .alpn = SERVER_ALPN,
                            .alpn_count = 2,
                            .cert_file = leaf_pem,
                            .key_file = leaf_key,
                            .request_peer_cert = a->request,
                            .require_peer_cert = a->require,
                            .ca_file = a->server_ca};
    char err[256] = "";
    qc_tls_ctx *cx = qc_tls_ctx_new(&cc, err, sizeof(err));
    qc_tls_ctx *sx = qc_tls_ctx_new(&sc, err, sizeof(err));
    CHECK(cx != NULL && sx != NULL);
    if (cx && sx) {
        CHECK_EQ(side_init(&c, cx, "localhost", CLIENT_TP, sizeof(CLIENT_TP)), 0);
        CHECK_EQ(side_init(&s, sx, NULL, SERVER_TP, sizeof(SERVER_TP)), 0);
        r = run(&c, &s);
        if (server_saw_chain) *server_saw_chain = qc_tls_peer_chain_len(&s.hs);
        if (why) *why = r.server_err ? qc_tls_verify_error(&s.hs) : qc_tls_verify_error(&c.hs);
        c.hs.ops->free(c.hs.impl);
        s.hs.ops->free(s.hs.impl);
    }
    qc_tls_ctx_free(cx);
    qc_tls_ctx_free(sx);
    return r;
}

static void test_client_certificates(void) {
    size_t chain = 99;
    const char *why = NULL;
    /* Required and sent: both complete, the server holds the client's chain. */
    auth_opts a = {
        .require = true, .server_ca = ca_pem, .cert = leaf_pem, .key = leaf_key, .cb_answer = -1};
    result r = handshake_auth(&a, &chain, &why);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(r.server_err, 0);
    CHECK(chain >= 1);
    /* Required, not sent: the server refuses. */
    a.cert = a.key = NULL;
    r = handshake_auth(&a, &chain, &why);
    CHECK(r.server_err != 0);
    CHECK(r.server_alert == 116 || r.server_alert == 42); /* certificate_required / bad */
    /* Requested only: a client without one is served. */
    a.require = false;
    a.request = true;
    r = handshake_auth(&a, &chain, &why);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(r.server_err, 0);
    CHECK_EQ(chain, 0);
    /* Signed by a CA the server does not name: the client has nothing to send; a server that
     * only requests serves it anyway, one that requires refuses. */
    a.cert = leaf_pem;
    a.key = leaf_key;
    a.server_ca = other_ca_pem;
    r = handshake_auth(&a, &chain, &why);
    CHECK_EQ(r.server_err, 0);
    CHECK_EQ(chain, 0);
    a.require = true;
    r = handshake_auth(&a, &chain, &why);
    CHECK(r.server_err != 0);
    CHECK_EQ(chain, 0);
    /* A client certificate file that does not exist is refused when the context is made. */
    qc_tls_ctx_config bad = {.alpn = CLIENT_ALPN,
                             .alpn_count = 2,
                             .cert_file = "/nonexistent.pem",
                             .key_file = leaf_key};
    char err[256] = "";
    CHECK(qc_tls_ctx_new(&bad, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "client certificate") != NULL);
}

static void test_verify_callback(void) {
    const char *why = NULL;
    /* The callback sees a good chain and rejects it: refused as invalid. */
    auth_opts a = {.cb_answer = 0};
    cb_calls = 0;
    result r = handshake_auth(&a, NULL, &why);
    CHECK_EQ(cb_calls, 1);
    CHECK_EQ(cb_ok, 1);
    CHECK(cb_chain >= 1);
    CHECK_EQ(r.client_err, QC_ERR_VERIFY);
    CHECK(why != NULL && strcmp(why, "invalid certificate") == 0);
    /* It accepts: done. */
    a.cb_answer = 1;
    r = handshake_auth(&a, NULL, &why);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(r.server_err, 0);
}

static void test_alpn_rules(void) {
    static side c, s;
    opts o = default_opts();
    /* Client prefers hq-interop, server offers only h3: h3. */
    static const char *const c1[] = {"hq-interop", "h3"};
    static const char *const s1[] = {"h3"};
    o.client_alpn = c1;
    o.server_alpn = s1;
    o.server_alpn_count = 1;
    qc_tls_ctx *cc = make_client_ctx(&o), *sc = make_server_ctx(&o);
    CHECK(cc && sc);
    if (!cc || !sc) return;
    CHECK_EQ(side_init(&c, cc, "localhost", CLIENT_TP, sizeof(CLIENT_TP)), 0);
    CHECK_EQ(side_init(&s, sc, NULL, SERVER_TP, sizeof(SERVER_TP)), 0);
    result r = run(&c, &s);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(r.server_err, 0);
    check_alpn(&c, "h3");
    check_alpn(&s, "h3");
    c.hs.ops->free(c.hs.impl);
    s.hs.ops->free(s.hs.impl);
    qc_tls_ctx_free(cc);
    qc_tls_ctx_free(sc);

    /* No protocol in common: the server fails with no_application_protocol. */
    static const char *const c2[] = {"h3"};
    static const char *const s2[] = {"hq-interop", "doq"};
    o.client_alpn = c2;
    o.client_alpn_count = 1;
    o.server_alpn = s2;
    o.server_alpn_count = 2;
    r = handshake_with(&o, &c, &s, NULL, NULL);
    CHECK_EQ(r.server_err, QC_ERR_TLS);
    CHECK_EQ(r.server_alert, 120);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(s.sent_total[QC_EPOCH_HANDSHAKE], 0);
}

/* Each suite can be negotiated alone; secrets have its hash length. */
static void test_suites(void) {
    static side c, s;
    const enum qc_suite all[] = {QC_SUITE_AES_128_GCM_SHA256, QC_SUITE_AES_256_GCM_SHA384,
                                 QC_SUITE_CHACHA20_POLY1305_SHA256};
    const size_t lens[] = {32, 48, 32};
    for (size_t i = 0; i < 3; i++) {
        opts o = default_opts();
        o.client_suites = 1u << all[i];
        qc_tls_ctx *cc = make_client_ctx(&o), *sc = make_server_ctx(&o);
        CHECK(cc && sc);
        if (!cc || !sc) return;
        CHECK_EQ(side_init(&c, cc, "localhost", CLIENT_TP, sizeof(CLIENT_TP)), 0);
        CHECK_EQ(side_init(&s, sc, NULL, SERVER_TP, sizeof(SERVER_TP)), 0);
        result r = run(&c, &s);
        CHECK_EQ(r.client_err, 0);
        CHECK_EQ(r.server_err, 0);
        const int eps[] = {QC_EPOCH_HANDSHAKE, QC_EPOCH_1RTT};
        for (int k = 0; k < 2; k++) {
            int e = eps[k];
            for (int w = 0; w < 2; w++) {
                CHECK_EQ(c.suite[e][w], all[i]);
                CHECK_EQ(s.suite[e][w], all[i]);
                CHECK_EQ(c.secret_len[e][w], lens[i]);
                CHECK_MEM(c.secret[e][w], s.secret[e][!w], lens[i]);
            }
        }
        c.hs.ops->free(c.hs.impl);
        s.hs.ops->free(s.hs.impl);
        qc_tls_ctx_free(cc);
        qc_tls_ctx_free(sc);
    }
    /* No suite in common: handshake_failure from the server. */
    opts o = default_opts();
    o.client_suites = 1u << QC_SUITE_CHACHA20_POLY1305_SHA256;
    o.server_suites = (1u << QC_SUITE_AES_128_GCM_SHA256) | (1u << QC_SUITE_AES_256_GCM_SHA384);
    result r = handshake_with(&o, &c, &s, NULL, NULL);
    CHECK_EQ(r.server_err, QC_ERR_TLS);
    CHECK_EQ(r.server_alert, 40);
    /* Unknown suite bits are refused. */
    qc_tls_ctx_config cfg = {.alpn = CLIENT_ALPN, .alpn_count = 2, .suites = 1u << 7};
    char err[128] = "";
    CHECK(qc_tls_ctx_new(&cfg, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "suite") != NULL);
}

static void test_verify_untrusted(void) {
    static side c, s;
    opts o = default_opts();
    o.ca_file = other_ca_pem;
    const char *reason = NULL;
    unsigned st = 0;
    result r = handshake_with(&o, &c, &s, &reason, &st);
    CHECK_EQ(r.client_err, QC_ERR_VERIFY);
    CHECK_EQ(r.client_alert, 42);
    CHECK(reason != NULL && strcmp(reason, "untrusted issuer") == 0);
    CHECK_U64(st & (ST_INVALID | ST_SIGNER_NOT_FOUND), ST_INVALID | ST_SIGNER_NOT_FOUND);
    /* The client must not have gone on to 1-RTT keys. */
    CHECK_EQ(c.secret_len[QC_EPOCH_1RTT][1], 0);

    /* A self-signed leaf not in the trust store is untrusted too. */
    o = default_opts();
    o.cert = self_pem;
    o.key = self_key;
    r = handshake_with(&o, &c, &s, &reason, &st);
    CHECK_EQ(r.client_err, QC_ERR_VERIFY);
    CHECK(reason != NULL && strcmp(reason, "untrusted issuer") == 0);

    /* ...but trusted when it is the CA file itself. */
    o.ca_file = self_pem;
    r = handshake_with(&o, &c, &s, &reason, &st);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(r.server_err, 0);
    CHECK(reason == NULL);
    CHECK_EQ(st, 0);
}

static void test_verify_name_mismatch(void) {
    static side c, s;
    opts o = default_opts();
    o.server_name = "wrong.example";
    const char *reason = NULL;
    unsigned st = 0;
    result r = handshake_with(&o, &c, &s, &reason, &st);
    CHECK_EQ(r.client_err, QC_ERR_VERIFY);
    CHECK_EQ(r.client_alert, 42);
    CHECK(reason != NULL && strcmp(reason, "name mismatch") == 0);
    CHECK_U64(st, ST_INVALID | ST_UNEXPECTED_OWNER);
    /* Other SANs of the certificate match: a DNS name and an IP literal. */
    o.server_name = "quic.example";
    r = handshake_with(&o, &c, &s, &reason, &st);
    CHECK_EQ(r.client_err, 0);
    CHECK(reason == NULL);
    o.server_name = "127.0.0.1";
    r = handshake_with(&o, &c, &s, &reason, &st);
    CHECK_EQ(r.client_err, 0);
    o.server_name = "127.0.0.2";
    r = handshake_with(&o, &c, &s, &reason, &st);
    CHECK_EQ(r.client_err, QC_ERR_VERIFY);
    CHECK(reason != NULL && strcmp(reason, "name mismatch") == 0);
}

static void test_verify_dates(void) {
    static side c, s;
    opts o = default_opts();
    o.cert = expired_pem;
    o.key = expired_key;
    const char *reason = NULL;
    unsigned st = 0;
    result r = handshake_with(&o, &c, &s, &reason, &st);
    CHECK_EQ(r.client_err, QC_ERR_VERIFY);
    CHECK(reason != NULL && strcmp(reason, "expired") == 0);
    CHECK_U64(st, ST_INVALID | ST_EXPIRED);
    o.cert = future_pem;
    o.key = future_key;
    r = handshake_with(&o, &c, &s, &reason, &st);
    CHECK_EQ(r.client_err, QC_ERR_VERIFY);
    CHECK(reason != NULL && strcmp(reason, "not yet valid") == 0);
    CHECK_U64(st, ST_INVALID | ST_NOT_ACTIVATED);
}

static void test_verify_disabled(void) {
    static side c, s;
    opts o = default_opts();
    o.cert = expired_pem;
    o.key = expired_key;
    o.ca_file = other_ca_pem;
    o.no_verify = true;
    o.server_name = "wrong.example";
    const char *reason = "x";
    unsigned st = 1;
    result r = handshake_with(&o, &c, &s, &reason, &st);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(r.server_err, 0);
    CHECK(reason == NULL);
    CHECK_EQ(st, 0);
}

/* SSL_CERT_FILE / SSL_CERT_DIR replace the system trust store when ca_file is NULL. */
static void test_env_trust(void) {
    static side c, s;
    opts o = default_opts();
    o.ca_file = NULL;
    const char *reason = NULL;
    unsigned st = 0;
    unsetenv("SSL_CERT_DIR");
    setenv("SSL_CERT_FILE", ca_pem, 1);
    result r = handshake_with(&o, &c, &s, &reason, &st);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(r.server_err, 0);
    setenv("SSL_CERT_FILE", other_ca_pem, 1);
    r = handshake_with(&o, &c, &s, &reason, &st);
    CHECK_EQ(r.client_err, QC_ERR_VERIFY);
    CHECK(reason != NULL && strcmp(reason, "untrusted issuer") == 0);
    /* A missing SSL_CERT_FILE is a configuration error. */
    char missing[160];
    snprintf(missing, sizeof(missing), "%s/nope.pem", tmpdir);
    setenv("SSL_CERT_FILE", missing, 1);
    qc_tls_ctx_config cfg = {.alpn = CLIENT_ALPN, .alpn_count = 2, .verify_peer = true};
    char err[256] = "";
    CHECK(qc_tls_ctx_new(&cfg, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "SSL_CERT_FILE") != NULL);
    /* An explicit ca_file wins over the environment. */
    o.ca_file = ca_pem;
    r = handshake_with(&o, &c, &s, &reason, &st);
    CHECK_EQ(r.client_err, 0);
    o.ca_file = NULL;
    unsetenv("SSL_CERT_FILE");
    setenv("SSL_CERT_DIR", certdir, 1);
    r = handshake_with(&o, &c, &s, &reason, &st);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(r.server_err, 0);
    unsetenv("SSL_CERT_DIR");
}

/* The server sends a ticket after the handshake; a second connection resumes with it. */
static void test_resumption(void) {
    static side c, s;
    opts o = default_opts();
    qc_tls_ctx *cc = make_client_ctx(&o), *sc = make_server_ctx(&o);
    CHECK(cc && sc);
    if (!cc || !sc) return;
    CHECK_EQ(side_init(&c, cc, "localhost", CLIENT_TP, sizeof(CLIENT_TP)), 0);
    CHECK_EQ(side_init(&s, sc, NULL, SERVER_TP, sizeof(SERVER_TP)), 0);
    size_t len = 5;
    CHECK_EQ(qc_tls_get_session(&c.hs, NULL, 0, &len), QC_ERR_AGAIN);
    CHECK_EQ(len, 0);
    result r = run(&c, &s);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(r.server_err, 0);
    CHECK(s.sent_total[QC_EPOCH_1RTT] > 0); /* NewSessionTicket */
    size_t full_flight = s.sent_total[QC_EPOCH_HANDSHAKE];
    CHECK(qc_tls_session_count(&c.hs) >= 1);
    CHECK_EQ(qc_tls_get_session(&c.hs, NULL, 0, &len), QC_ERR_NOBUF);
    CHECK(len > 0);
    static uint8_t ticket[8192];
    size_t tlen = 0;
    CHECK(len <= sizeof(ticket));
    uint8_t small[4];
    size_t need = 0;
    CHECK_EQ(qc_tls_get_session(&c.hs, small, sizeof(small), &need), QC_ERR_NOBUF);
    CHECK_EQ(need, len);
    CHECK_EQ(qc_tls_get_session(&c.hs, ticket, sizeof(ticket), &tlen), 0);
    CHECK_EQ(tlen, len);
    /* A server has no session to hand out. */
    CHECK_EQ(qc_tls_get_session(&s.hs, ticket, sizeof(ticket), &need), QC_ERR_AGAIN);
    c.hs.ops->free(c.hs.impl);
    s.hs.ops->free(s.hs.impl);

    CHECK_EQ(side_init(&c, cc, "localhost", CLIENT_TP, sizeof(CLIENT_TP)), 0);
    CHECK_EQ(side_init(&s, sc, NULL, SERVER_TP, sizeof(SERVER_TP)), 0);
    CHECK_EQ(qc_tls_set_session(&s.hs, ticket, tlen), QC_ERR_INVAL); /* server side */
    uint8_t junk[16] = {1, 2, 3};
    CHECK_EQ(qc_tls_set_session(&c.hs, junk, 0), QC_ERR_INVAL);
    CHECK_EQ(qc_tls_set_session(&c.hs, ticket, tlen), 0);
    r = run(&c, &s);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(r.server_err, 0);
    CHECK(qc_tls_is_resumed(&c.hs));
    CHECK(qc_tls_is_resumed(&s.hs));
    check_alpn(&c, "hq-interop");
    CHECK_EQ(c.peer_tp_len, sizeof(SERVER_TP));
    CHECK_MEM(c.peer_tp, SERVER_TP, sizeof(SERVER_TP));
    CHECK_MEM(c.secret[QC_EPOCH_1RTT][1], s.secret[QC_EPOCH_1RTT][0],
              c.secret_len[QC_EPOCH_1RTT][1]);
    CHECK(c.secret_len[QC_EPOCH_1RTT][1] > 0);
    /* Resumed: the server sent no certificate, so its handshake flight is smaller. */
    CHECK(s.sent_total[QC_EPOCH_HANDSHAKE] + 300 < full_flight);
    CHECK_EQ(qc_tls_set_session(&c.hs, ticket, tlen), QC_ERR_INVAL); /* already started */
    c.hs.ops->free(c.hs.impl);
    s.hs.ops->free(s.hs.impl);
    qc_tls_ctx_free(cc);
    qc_tls_ctx_free(sc);
}

/* Finds "LABEL <client_random> <secret>" in the key log and compares the secret. */
static bool keylog_has(const char *text, const char *label, const uint8_t *secret, size_t len) {
    char want[200];
    size_t n = (size_t)snprintf(want, sizeof(want), "%s ", label);
    const char *p = text;
    while ((p = strstr(p, want)) != NULL) {
        if (p == text || p[-1] == '\n') {
            const char *q = p + n + 64;
            if (*q != ' ') return false;
            q++;
            char hex[2 * QC_MAX_SECRET_LEN + 1];
            for (size_t i = 0; i < len; i++)
                snprintf(hex + 2 * i, 3, "%02x", secret[i]);
            return strncmp(q, hex, 2 * len) == 0 && q[2 * len] == '\n';
        }
        p++;
    }
    return false;
}

static void test_keylog(void) {
    static side c, s;
    unlink(keylog_path);
    opts o = default_opts();
    o.client_keylog = keylog_path;
    qc_tls_ctx *cc = make_client_ctx(&o), *sc = make_server_ctx(&o);
    CHECK(cc && sc);
    if (!cc || !sc) return;
    CHECK_EQ(side_init(&c, cc, "localhost", CLIENT_TP, sizeof(CLIENT_TP)), 0);
    CHECK_EQ(side_init(&s, sc, NULL, SERVER_TP, sizeof(SERVER_TP)), 0);
    result r = run(&c, &s);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(r.server_err, 0);
    static char text[8192];
    FILE *f = fopen(keylog_path, "rb");
    CHECK(f != NULL);
    size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
    if (f) fclose(f);
    text[n] = '\0';
    size_t sl = c.secret_len[QC_EPOCH_HANDSHAKE][1];
    CHECK(keylog_has(text, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", c.secret[QC_EPOCH_HANDSHAKE][1], sl));
    CHECK(keylog_has(text, "SERVER_HANDSHAKE_TRAFFIC_SECRET", c.secret[QC_EPOCH_HANDSHAKE][0], sl));
    CHECK(keylog_has(text, "CLIENT_TRAFFIC_SECRET_0", c.secret[QC_EPOCH_1RTT][1], sl));
    CHECK(keylog_has(text, "SERVER_TRAFFIC_SECRET_0", c.secret[QC_EPOCH_1RTT][0], sl));
    /* Appends: a second connection adds lines. */
    c.hs.ops->free(c.hs.impl);
    s.hs.ops->free(s.hs.impl);
    CHECK_EQ(side_init(&c, cc, "localhost", CLIENT_TP, sizeof(CLIENT_TP)), 0);
    CHECK_EQ(side_init(&s, sc, NULL, SERVER_TP, sizeof(SERVER_TP)), 0);
    r = run(&c, &s);
    CHECK_EQ(r.client_err, 0);
    f = fopen(keylog_path, "rb");
    size_t n2 = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
    if (f) fclose(f);
    text[n2] = '\0';
    CHECK(n2 > n);
    CHECK(keylog_has(text + n, "CLIENT_TRAFFIC_SECRET_0", c.secret[QC_EPOCH_1RTT][1], sl));
    c.hs.ops->free(c.hs.impl);
    s.hs.ops->free(s.hs.impl);
    qc_tls_ctx_free(cc);
    qc_tls_ctx_free(sc);
}

/* Transport parameters are mandatory, and the engine's verdict on them is passed through. */
static void test_tparams_errors(void) {
    static side c, s;
    opts o = default_opts();
    o.server_no_tp = true;
    result r = handshake_with(&o, &c, &s, NULL, NULL);
    CHECK_EQ(r.client_err, QC_ERR_TLS);
    CHECK_EQ(r.client_alert, 109); /* missing_extension */
    CHECK_EQ(c.peer_tp_calls, 0);
    CHECK_EQ(c.secret_len[QC_EPOCH_1RTT][1], 0);

    o = default_opts();
    qc_tls_ctx *cc = make_client_ctx(&o), *sc = make_server_ctx(&o);
    CHECK(cc && sc);
    if (!cc || !sc) return;
    /* Client without local tparams cannot start. */
    CHECK_EQ(side_init(&c, cc, "localhost", NULL, 0), 0);
    CHECK_EQ(c.hs.ops->start(c.hs.impl), QC_ERR_INVAL);
    uint8_t alert = 0;
    CHECK_EQ(c.hs.ops->recv_crypto(c.hs.impl, QC_EPOCH_INITIAL, CLIENT_TP, 4, &alert),
             QC_ERR_INVAL);
    c.hs.ops->free(c.hs.impl);
    /* The server's engine rejects the client's parameters. */
    CHECK_EQ(side_init(&c, cc, "localhost", CLIENT_TP, sizeof(CLIENT_TP)), 0);
    CHECK_EQ(side_init(&s, sc, NULL, SERVER_TP, sizeof(SERVER_TP)), 0);
    s.peer_tp_result = QC_ERR_TPARAM;
    r = run(&c, &s);
    CHECK_EQ(r.server_err, QC_ERR_TPARAM);
    CHECK_EQ(s.peer_tp_calls, 1);
    CHECK_EQ(s.sent_total[QC_EPOCH_INITIAL], 0);
    /* Sticky: the same error again. */
    alert = 0;
    CHECK_EQ(s.hs.ops->recv_crypto(s.hs.impl, QC_EPOCH_INITIAL, CLIENT_TP, 4, &alert),
             QC_ERR_TPARAM);
    CHECK_EQ(alert, r.server_alert);
    c.hs.ops->free(c.hs.impl);
    s.hs.ops->free(s.hs.impl);
    qc_tls_ctx_free(cc);
    qc_tls_ctx_free(sc);
}

/* Garbage and misplaced handshake bytes are TLS errors with an alert, never crashes. */
static void test_bad_input(void) {
    static side s;
    opts o = default_opts();
    qc_tls_ctx *sc = make_server_ctx(&o);
    CHECK(sc != NULL);
    if (!sc) return;
    /* A handshake message of an unexpected type (ServerHello to a server). */
    static const uint8_t bogus[] = {0x02, 0x00, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04};
    CHECK_EQ(side_init(&s, sc, NULL, SERVER_TP, sizeof(SERVER_TP)), 0);
    uint8_t alert = 0;
    int rv = s.hs.ops->recv_crypto(s.hs.impl, QC_EPOCH_INITIAL, bogus, sizeof(bogus), &alert);
    CHECK_EQ(rv, QC_ERR_TLS);
    CHECK_EQ(alert, 10); /* unexpected_message */
    uint8_t alert2 = 0;
    CHECK_EQ(s.hs.ops->recv_crypto(s.hs.impl, QC_EPOCH_INITIAL, bogus, 1, &alert2), QC_ERR_TLS);
    CHECK_EQ(alert2, alert);
    CHECK_EQ(s.sent_total[QC_EPOCH_INITIAL], 0);
    s.hs.ops->free(s.hs.impl);
    /* A truncated ClientHello body. */
    static const uint8_t trunc[] = {0x01, 0x00, 0x00, 0x05, 0x03, 0x03, 0x00, 0x00, 0x00};
    CHECK_EQ(side_init(&s, sc, NULL, SERVER_TP, sizeof(SERVER_TP)), 0);
    rv = s.hs.ops->recv_crypto(s.hs.impl, QC_EPOCH_INITIAL, trunc, sizeof(trunc), &alert);
    CHECK_EQ(rv, QC_ERR_TLS);
    CHECK_EQ(alert, 50); /* decode_error */
    s.hs.ops->free(s.hs.impl);
    /* Handshake-epoch data before any Initial data. */
    CHECK_EQ(side_init(&s, sc, NULL, SERVER_TP, sizeof(SERVER_TP)), 0);
    rv = s.hs.ops->recv_crypto(s.hs.impl, QC_EPOCH_HANDSHAKE, bogus, sizeof(bogus), &alert);
    CHECK_EQ(rv, QC_ERR_TLS);
    s.hs.ops->free(s.hs.impl);
    /* Partial message: waits for more without error. */
    CHECK_EQ(side_init(&s, sc, NULL, SERVER_TP, sizeof(SERVER_TP)), 0);
    CHECK_EQ(s.hs.ops->recv_crypto(s.hs.impl, QC_EPOCH_INITIAL, bogus, 3, &alert), 0);
    CHECK_EQ(s.hs.ops->recv_crypto(s.hs.impl, QC_EPOCH_0RTT, bogus, 3, &alert), QC_ERR_PROTO);
    s.hs.ops->free(s.hs.impl);
    qc_tls_ctx_free(sc);
}

static void test_ctx_errors(void) {
    char err[256];
    qc_tls_ctx_config cfg = {.is_server = false, .verify_peer = true, .ca_file = ca_pem};
    /* A client context may leave ALPN to its sessions; a session then needs a list. */
    qc_tls_ctx *noalpn = qc_tls_ctx_new(&cfg, err, sizeof(err));
    CHECK(noalpn != NULL);
    if (noalpn) {
        qc_hs hs0 = {0};
        qc_hs_callbacks cb0 = {NULL, cb_set_secret, cb_send_crypto, cb_peer_tparams};
        CHECK_EQ(qc_tls_new(noalpn, "localhost", &cb0, &hs0), QC_ERR_INVAL);
        static const uint8_t bad_wire[] = {5, 'h', '3'}; /* length runs past the end */
        qc_tls_session_config bad_sc = {.alpn_wire = bad_wire, .alpn_wire_len = sizeof(bad_wire)};
        CHECK_EQ(qc_tls_new_ex(noalpn, &bad_sc, &cb0, &hs0), QC_ERR_INVAL);
        static const uint8_t zero_wire[] = {0};
        bad_sc.alpn_wire = zero_wire;
        bad_sc.alpn_wire_len = 1;
        CHECK_EQ(qc_tls_new_ex(noalpn, &bad_sc, &cb0, &hs0), QC_ERR_INVAL);
        qc_tls_ctx_free(noalpn);
    }
    qc_tls_ctx_config sv0 = {.is_server = true, .cert_file = leaf_pem, .key_file = leaf_key};
    err[0] = '\0';
    CHECK(qc_tls_ctx_new(&sv0, err, sizeof(err)) == NULL); /* a server needs ALPN */
    CHECK(strstr(err, "ALPN") != NULL);
    char missing_dir[160];
    snprintf(missing_dir, sizeof(missing_dir), "%s/nodir", tmpdir);
    cfg.ca_file = NULL;
    cfg.ca_dir = missing_dir;
    err[0] = '\0';
    qc_tls_ctx *nodir = qc_tls_ctx_new(&cfg, err, sizeof(err));
    /* GnuTLS may accept a missing directory as empty; either way nothing is trusted. */
    CHECK(nodir == NULL ? strstr(err, "nodir") != NULL : true);
    qc_tls_ctx_free(nodir);
    cfg.ca_file = ca_pem;
    cfg.ca_dir = NULL;
    static const char *const empty[] = {""};
    cfg.alpn = empty;
    cfg.alpn_count = 1;
    CHECK(qc_tls_ctx_new(&cfg, err, sizeof(err)) == NULL);
    cfg.alpn = CLIENT_ALPN;
    cfg.alpn_count = 2;
    char missing[160];
    snprintf(missing, sizeof(missing), "%s/nope.pem", tmpdir);
    cfg.ca_file = missing;
    err[0] = '\0';
    CHECK(qc_tls_ctx_new(&cfg, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "nope.pem") != NULL);
    CHECK(qc_tls_ctx_new(NULL, NULL, 0) == NULL);
    qc_tls_ctx_config sv = {.is_server = true, .alpn = SERVER_ALPN, .alpn_count = 2};
    CHECK(qc_tls_ctx_new(&sv, err, sizeof(err)) == NULL); /* no certificate */
    sv.cert_file = leaf_pem;
    sv.key_file = other_ca_key; /* key does not match the certificate */
    err[0] = '\0';
    CHECK(qc_tls_ctx_new(&sv, err, sizeof(err)) == NULL);
    CHECK(err[0] != '\0');
    sv.key_file = missing;
    CHECK(qc_tls_ctx_new(&sv, err, sizeof(err)) == NULL);
    qc_tls_ctx_free(NULL);

    /* qc_tls_new argument checks; extras on a foreign qc_hs. */
    sv.key_file = leaf_key;
    qc_tls_ctx *sc = qc_tls_ctx_new(&sv, err, sizeof(err));
    CHECK(sc != NULL);
    qc_hs hs = {0};
    qc_hs_callbacks bad = {NULL, NULL, cb_send_crypto, cb_peer_tparams};
    CHECK_EQ(qc_tls_new(sc, NULL, &bad, &hs), QC_ERR_INVAL);
    CHECK_EQ(qc_tls_new(sc, NULL, NULL, &hs), QC_ERR_INVAL);
    CHECK(qc_tls_verify_error(&hs) == NULL);
    CHECK_EQ(qc_tls_verify_status(&hs), 0);
    CHECK(!qc_tls_is_resumed(&hs));
    size_t len;
    CHECK_EQ(qc_tls_get_session(&hs, NULL, 0, &len), QC_ERR_INVAL);
    qc_tls_ctx_free(sc);
}

/* A handshake keeps its context alive after the creator drops its reference. */
static void test_ctx_refcount(void) {
    static side c, s;
    opts o = default_opts();
    qc_tls_ctx *cc = make_client_ctx(&o), *sc = make_server_ctx(&o);
    CHECK(cc && sc);
    if (!cc || !sc) return;
    CHECK_EQ(side_init(&c, cc, "localhost", CLIENT_TP, sizeof(CLIENT_TP)), 0);
    CHECK_EQ(side_init(&s, sc, NULL, SERVER_TP, sizeof(SERVER_TP)), 0);
    CHECK(qc_tls_ctx_ref(cc) == cc);
    qc_tls_ctx_free(cc);
    qc_tls_ctx_free(cc);
    qc_tls_ctx_free(sc);
    result r = run(&c, &s);
    CHECK_EQ(r.client_err, 0);
    CHECK_EQ(r.server_err, 0);
    c.hs.ops->free(c.hs.impl);
    s.hs.ops->free(s.hs.impl);
}

static void test_certgen_errors(void) {
    char err[256] = "";
    char cp[160], kp[160];
    snprintf(cp, sizeof(cp), "%s/x.pem", tmpdir);
    snprintf(kp, sizeof(kp), "%s/x.key", tmpdir);
    const char *dns[] = {"a.example"};
    const char *badip[] = {"300.1.2.3"};
    CHECK_EQ(qc_tls_generate_selfsigned(cp, kp, dns, 1, badip, 1, 0, 100, err, sizeof(err)),
             QC_ERR_INVAL);
    CHECK(strstr(err, "IP") != NULL);
    CHECK_EQ(qc_tls_generate_selfsigned(cp, kp, dns, 1, NULL, 0, 100, 0, err, sizeof(err)),
             QC_ERR_INVAL);
    CHECK_EQ(qc_tls_generate_selfsigned("/nonexistent/dir/x.pem", kp, dns, 1, NULL, 0, 0, 100, err,
                                        sizeof(err)),
             QC_ERR_INTERNAL);
    CHECK_EQ(qc_tls_generate_ca_signed(cp, kp, dns, 1, NULL, 0, 0, 100, cp, "/nonexistent", err,
                                       sizeof(err)),
             QC_ERR_INTERNAL);
    CHECK_EQ(qc_tls_generate_ca_signed(cp, kp, dns, 1, NULL, 0, 0, 100, ca_key, ca_key, err,
                                       sizeof(err)),
             QC_ERR_INVAL); /* a key is not a certificate */
    CHECK_EQ(qc_tls_generate_ca(cp, kp, "", 0, 100, err, sizeof(err)), QC_ERR_INVAL);
    /* The key file is private. */
    struct stat st;
    CHECK_EQ(stat(leaf_key, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
}

int main(void) {
    if (!setup_certs()) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    TEST_RUN(test_handshake_basic);
    TEST_RUN(test_alpn_rules);
    TEST_RUN(test_suites);
    TEST_RUN(test_verify_untrusted);
    TEST_RUN(test_verify_name_mismatch);
    TEST_RUN(test_verify_dates);
    TEST_RUN(test_verify_disabled);
    TEST_RUN(test_verify_host_not_sni);
    TEST_RUN(test_session_alpn_and_ca_dir);
    TEST_RUN(test_client_certificates);
    TEST_RUN(test_verify_callback);
    TEST_RUN(test_env_trust);
    TEST_RUN(test_resumption);
    TEST_RUN(test_keylog);
    TEST_RUN(test_tparams_errors);
    TEST_RUN(test_bad_input);
    TEST_RUN(test_ctx_errors);
    TEST_RUN(test_ctx_refcount);
    TEST_RUN(test_certgen_errors);
    cleanup_certs();
    return test_summary();
}
