/*
 * tls_gnutls.c: the TLS 1.3 handshake for QUIC (RFC 9001 §4) on top of
 * GnuTLS's QUIC hooks (3.7.2+). GnuTLS never touches the network here:
 * handshake messages it wants to send come out of the handshake read
 * hook and go to the engine's send_crypto at the matching epoch; CRYPTO
 * data the engine receives is pushed in with gnutls_handshake_write and
 * the state machine advanced with gnutls_handshake. Traffic secrets come
 * out of the secret hook, alerts GnuTLS would send out of the alert hook,
 * and the quic_transport_parameters extension (0x39) is a session-local
 * custom extension.
 *
 * Thread safety: a qc_tls_ctx is immutable after qc_tls_ctx_new (GnuTLS
 * credentials are read-only once set up, the priority string is applied
 * per session) and its reference count is atomic, so connections on
 * different threads may share it. A qc_tls handshake belongs to one
 * connection and is driven by one thread at a time.
 */
#include "tls/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* TLS 1.3 only, the three AEADs QUIC uses with GnuTLS (no CCM), no middlebox compat. */
#define QC_TLS_PRIORITY_HEAD "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL"
#define QC_TLS_PRIORITY_TAIL ":%DISABLE_TLS13_COMPAT_MODE"
#define QC_SUITES_ALL                                                                              \
    ((1u << QC_SUITE_AES_128_GCM_SHA256) | (1u << QC_SUITE_AES_256_GCM_SHA384) |                   \
     (1u << QC_SUITE_CHACHA20_POLY1305_SHA256))

#define QC_TLS_EXT_TRANSPORT_PARAMS 0x39
#define QC_ALERT_UNEXPECTED_MESSAGE 10
#define QC_ALERT_BAD_CERTIFICATE 42
#define QC_ALERT_INTERNAL_ERROR 80
#define QC_ALERT_MISSING_EXTENSION 109
#define QC_ALERT_NO_APPLICATION_PROTOCOL 120

struct qc_tls_ctx {
    atomic_uint refs;
    bool is_server;
    bool verify_peer;
    bool request_peer_cert, require_peer_cert; /* server */
    int (*verify_cb)(void *user, int ok, const char *reason, size_t n, const uint8_t *const *der,
                     const size_t *len);
    void *verify_user;
    gnutls_certificate_credentials_t cred;
    gnutls_datum_t *alpn; /* alpn_count entries pointing into alpn_buf */
    size_t alpn_count;
    uint8_t *alpn_buf;
    gnutls_datum_t ticket_key; /* server: session ticket encryption key */
    /* 0-RTT: attempt (client) or accept (server); the server's anti-replay state and the
     * ClientHellos seen within its window (hashes and expiry times, open addressing) */
    bool early_data;
    gnutls_anti_replay_t anti_replay;
    pthread_mutex_t replay_lock;
    struct replay_entry {
        uint64_t hash;
        time_t expires;
    } * replay;
    size_t replay_cap;
    char *keylog_file;
    char priority[192]; /* GnuTLS priority string applied to every session */
};

typedef struct qc_tls {
    qc_tls_ctx *ctx;
    gnutls_session_t s;
    qc_hs_callbacks cbs;
    uint8_t *local_tp;
    size_t local_tp_len;
    bool local_tp_set;
    bool local_tp_sent; /* in the ClientHello or EncryptedExtensions: no more changes */
    bool peer_tp_seen;
    bool early_keys; /* 0-RTT keys were handed to the engine */
    bool started;
    bool complete;
    int failed;     /* sticky error returned by recv_crypto once failed */
    int own_err;    /* error decided by us (callback failure, missing peer data) */
    int own_alert;  /* alert to go with own_err, -1 if none */
    int sent_alert; /* last alert GnuTLS asked to send, -1 if none */
    uint8_t alert;  /* alert reported with failed */
    uint8_t alpn[255];
    size_t alpn_len;
    bool verify_failed;
    unsigned verify_status;
    uint8_t *ticket; /* client: latest resumable session data */
    size_t ticket_len;
    unsigned ticket_count;
    char **verify_hosts; /* client: the certificate must match one of these (none: chain only) */
    size_t verify_host_count;
    void (*ticket_cb)(void *user); /* client: a new session ticket arrived */
    void *ticket_cb_user;
    /* Framing of the post-handshake messages (1-RTT CRYPTO data): the header collected so
     * far, and the body bytes still to come of the current message. */
    uint8_t ph_hdr[4];
    size_t ph_hdr_len;
    uint32_t ph_left;
} qc_tls;

static void set_err(char *err, size_t err_len, const char *fmt, ...) {
    if (err == NULL || err_len == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

/* ---- context ---- */

static void ctx_destroy(qc_tls_ctx *ctx) {
    if (ctx->anti_replay) gnutls_anti_replay_deinit(ctx->anti_replay);
    if (ctx->replay) pthread_mutex_destroy(&ctx->replay_lock);
    qc_free(ctx->replay);
    if (ctx->cred) gnutls_certificate_free_credentials(ctx->cred);
    if (ctx->ticket_key.data) {
        gnutls_memset(ctx->ticket_key.data, 0, ctx->ticket_key.size);
        gnutls_free(ctx->ticket_key.data);
    }
    qc_free(ctx->alpn);
    qc_free(ctx->alpn_buf);
    qc_free(ctx->keylog_file);
    qc_free(ctx);
}

/* Loads the client trust store: ca_file and/or ca_dir, else SSL_CERT_FILE/SSL_CERT_DIR, else
 * the system's. */
static int load_trust(qc_tls_ctx *ctx, const char *ca_file, const char *ca_dir, char *err,
                      size_t err_len) {
    int rv;
    if (ca_file != NULL) {
        rv = gnutls_certificate_set_x509_trust_file(ctx->cred, ca_file, GNUTLS_X509_FMT_PEM);
        if (rv < 0) {
            set_err(err, err_len, "cannot load CA file %s: %s", ca_file, gnutls_strerror(rv));
            return QC_ERR_INVAL;
        }
    }
    if (ca_dir != NULL) {
        rv = gnutls_certificate_set_x509_trust_dir(ctx->cred, ca_dir, GNUTLS_X509_FMT_PEM);
        if (rv < 0) {
            set_err(err, err_len, "cannot load CA directory %s: %s", ca_dir, gnutls_strerror(rv));
            return QC_ERR_INVAL;
        }
    }
    if (ca_file != NULL || ca_dir != NULL) return 0;
    const char *env_file = getenv("SSL_CERT_FILE");
    const char *env_dir = getenv("SSL_CERT_DIR");
    if (env_file != NULL && *env_file == '\0') env_file = NULL;
    if (env_dir != NULL && *env_dir == '\0') env_dir = NULL;
    if (env_file == NULL && env_dir == NULL) {
        rv = gnutls_certificate_set_x509_system_trust(ctx->cred);
        if (rv < 0) {
            set_err(err, err_len, "cannot load system trust store: %s", gnutls_strerror(rv));
            return QC_ERR_INVAL;
        }
        return 0;
    }
    if (env_file != NULL) {
        rv = gnutls_certificate_set_x509_trust_file(ctx->cred, env_file, GNUTLS_X509_FMT_PEM);
        if (rv < 0) {
            set_err(err, err_len, "cannot load SSL_CERT_FILE %s: %s", env_file,
                    gnutls_strerror(rv));
            return QC_ERR_INVAL;
        }
    }
    if (env_dir != NULL) {
        rv = gnutls_certificate_set_x509_trust_dir(ctx->cred, env_dir, GNUTLS_X509_FMT_PEM);
        if (rv < 0) {
            set_err(err, err_len, "cannot load SSL_CERT_DIR %s: %s", env_dir, gnutls_strerror(rv));
            return QC_ERR_INVAL;
        }
    }
    return 0;
}

/* True when the DER certificate matches one of the names (DNS names or IP literals). */
static bool cert_matches(const gnutls_datum_t *der, char *const *names, size_t n) {
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0) return false;
    bool ok = false;
    if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) >= 0)
        for (size_t i = 0; i < n && !ok; i++)
            ok = gnutls_x509_crt_check_hostname2(crt, names[i], 0) != 0;
    gnutls_x509_crt_deinit(crt);
    return ok;
}

/*
 * Client: checks the server's certificate when it arrives. The chain must lead to a trusted
 * CA; then the end-entity certificate must match one of the session's verify hosts (which
 * need not be the SNI). A failure is recorded for qc_tls_verify_error and aborts the handshake.
 */
static const char *status_reason(unsigned st);

/* Lets the application's verify callback have the last word on the verdict. */
static unsigned ask_callback(qc_tls *t, unsigned status, const gnutls_datum_t *list, unsigned n) {
    const uint8_t *der[16];
    size_t len[16];
    size_t m = n < 16 ? n : 16;
    for (size_t i = 0; i < m; i++) {
        der[i] = list[i].data;
        len[i] = list[i].size;
    }
    int ok =
        t->ctx->verify_cb(t->ctx->verify_user, status == 0, status_reason(status), m, der, len);
    if (!ok) return status ? status : GNUTLS_CERT_INVALID; /* rejected by the application */
    return 0;
}

static int verify_hook(gnutls_session_t s) {
    qc_tls *t = gnutls_session_get_ptr(s);
    unsigned n = 0;
    const gnutls_datum_t *list = gnutls_certificate_get_peers(s, &n);
    if (t->ctx->is_server && (list == NULL || n == 0)) {
        /* A client without a certificate: refused only when one is required. */
        if (!t->ctx->require_peer_cert) return 0;
        t->verify_failed = true;
        t->verify_status = GNUTLS_CERT_INVALID;
        return -1;
    }
    unsigned status = 0;
    if (gnutls_certificate_verify_peers2(s, &status) < 0) status |= GNUTLS_CERT_INVALID;
    if (status == 0 && t->verify_host_count > 0) {
        if (list == NULL || n == 0)
            status = GNUTLS_CERT_INVALID;
        else if (!cert_matches(&list[0], t->verify_hosts, t->verify_host_count))
            status = GNUTLS_CERT_INVALID | GNUTLS_CERT_UNEXPECTED_OWNER;
    }
    if (t->ctx->verify_cb != NULL) status = ask_callback(t, status, list, n);
    if (status == 0) return 0;
    t->verify_failed = true;
    t->verify_status = status;
    return -1;
}

/* ---- 0-RTT replay protection (server) ---- */

/* GnuTLS asks to remember a ClientHello's early-data key until exp: 0, or
 * GNUTLS_E_DB_ENTRY_EXISTS for one seen before (a replay: its 0-RTT is refused). A full
 * cache refuses too: 0-RTT is an optimisation, never worth a replay. */
static int replay_add(void *ptr, time_t exp, const gnutls_datum_t *key,
                      const gnutls_datum_t *data) {
    (void)data;
    qc_tls_ctx *ctx = ptr;
    uint64_t h = 1469598103934665603ull;
    for (unsigned i = 0; i < key->size; i++)
        h = (h ^ key->data[i]) * 1099511628211ull;
    h |= 1; /* 0 marks a free slot */
    time_t now = time(NULL);
    int rv = GNUTLS_E_DB_ENTRY_EXISTS;
    pthread_mutex_lock(&ctx->replay_lock);
    /* Linear probing; slots are never emptied (that would cut probe chains), expired
     * ones are reused once the whole chain is known not to hold this key. */
    size_t reuse = SIZE_MAX;
    bool seen = false;
    for (size_t n = 0, i = (size_t)(h % ctx->replay_cap); n < ctx->replay_cap;
         n++, i = (i + 1) % ctx->replay_cap) {
        struct replay_entry *e = &ctx->replay[i];
        if (e->hash == 0) {
            if (reuse == SIZE_MAX) reuse = i;
            break; /* the end of the chain */
        }
        if (e->hash == h && e->expires >= now) {
            seen = true;
            break;
        }
        if (e->expires < now && reuse == SIZE_MAX) reuse = i;
    }
    if (!seen && reuse != SIZE_MAX) {
        ctx->replay[reuse].hash = h;
        ctx->replay[reuse].expires = exp;
        rv = 0;
    }
    pthread_mutex_unlock(&ctx->replay_lock);
    return rv;
}

static int replay_init(qc_tls_ctx *ctx, size_t cap) {
    ctx->early_data = true;
    ctx->replay_cap = cap ? cap : 65536;
    ctx->replay = qc_calloc(ctx->replay_cap, sizeof(*ctx->replay));
    if (!ctx->replay) return QC_ERR_NOMEM;
    pthread_mutex_init(&ctx->replay_lock, NULL);
    if (gnutls_anti_replay_init(&ctx->anti_replay) < 0) return QC_ERR_CRYPTO;
    gnutls_anti_replay_set_add_function(ctx->anti_replay, replay_add);
    gnutls_anti_replay_set_ptr(ctx->anti_replay, ctx);
    return 0;
}

qc_tls_ctx *qc_tls_ctx_new(const qc_tls_ctx_config *cfg, char *err, size_t err_len) {
    if (cfg == NULL) {
        set_err(err, err_len, "no configuration");
        return NULL;
    }
    if (cfg->is_server && (cfg->alpn_count == 0 || cfg->alpn == NULL)) {
        set_err(err, err_len, "QUIC requires at least one ALPN protocol");
        return NULL;
    }
    size_t total = 0;
    for (size_t i = 0; i < cfg->alpn_count; i++) {
        size_t n = cfg->alpn[i] ? strlen(cfg->alpn[i]) : 0;
        if (n == 0 || n > 255) {
            set_err(err, err_len, "ALPN protocol %zu must be 1 to 255 bytes", i);
            return NULL;
        }
        total += n;
    }
    if (cfg->is_server && (cfg->cert_file == NULL || cfg->key_file == NULL)) {
        set_err(err, err_len, "a server needs a certificate and a key file");
        return NULL;
    }

    qc_tls_ctx *ctx = qc_calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        set_err(err, err_len, "out of memory");
        return NULL;
    }
    atomic_init(&ctx->refs, 1);
    ctx->is_server = cfg->is_server;
    ctx->verify_peer = cfg->verify_peer;
    ctx->request_peer_cert = cfg->is_server && (cfg->request_peer_cert || cfg->require_peer_cert);
    ctx->require_peer_cert = cfg->is_server && cfg->require_peer_cert;
    ctx->verify_cb = cfg->verify_cb;
    ctx->verify_user = cfg->verify_user;
    ctx->alpn = qc_calloc(cfg->alpn_count ? cfg->alpn_count : 1, sizeof(*ctx->alpn));
    ctx->alpn_buf = qc_malloc(total ? total : 1);
    if (ctx->alpn == NULL || ctx->alpn_buf == NULL) goto nomem;
    ctx->alpn_count = cfg->alpn_count;
    for (size_t i = 0, off = 0; i < cfg->alpn_count; i++) {
        size_t n = strlen(cfg->alpn[i]);
        memcpy(ctx->alpn_buf + off, cfg->alpn[i], n);
        ctx->alpn[i].data = ctx->alpn_buf + off;
        ctx->alpn[i].size = (unsigned)n;
        off += n;
    }
    if (cfg->keylog_file != NULL) {
        ctx->keylog_file = qc_strdup(cfg->keylog_file);
        if (ctx->keylog_file == NULL) goto nomem;
    }

    /* Build and check the priority string once; sessions apply it directly. */
    unsigned suites = cfg->suites ? cfg->suites : QC_SUITES_ALL;
    if (suites & ~QC_SUITES_ALL) {
        set_err(err, err_len, "unknown cipher suite in mask 0x%x", suites);
        goto fail;
    }
    snprintf(ctx->priority, sizeof(ctx->priority), "%s%s%s%s%s", QC_TLS_PRIORITY_HEAD,
             suites & (1u << QC_SUITE_AES_128_GCM_SHA256) ? ":+AES-128-GCM" : "",
             suites & (1u << QC_SUITE_AES_256_GCM_SHA384) ? ":+AES-256-GCM" : "",
             suites & (1u << QC_SUITE_CHACHA20_POLY1305_SHA256) ? ":+CHACHA20-POLY1305" : "",
             QC_TLS_PRIORITY_TAIL);
    gnutls_priority_t prio;
    const char *errpos = NULL;
    int rv = gnutls_priority_init(&prio, ctx->priority, &errpos);
    if (rv < 0) {
        set_err(err, err_len, "bad priority string at %s: %s", errpos ? errpos : "?",
                gnutls_strerror(rv));
        goto fail;
    }
    gnutls_priority_deinit(prio);

    rv = gnutls_certificate_allocate_credentials(&ctx->cred);
    if (rv < 0) {
        ctx->cred = NULL;
        set_err(err, err_len, "cannot allocate credentials: %s", gnutls_strerror(rv));
        goto fail;
    }
    ctx->early_data = cfg->early_data; /* a server also needs its replay cache, below */
    if (cfg->is_server) {
        rv = gnutls_certificate_set_x509_key_file(ctx->cred, cfg->cert_file, cfg->key_file,
                                                  GNUTLS_X509_FMT_PEM);
        if (rv < 0) {
            set_err(err, err_len, "cannot load certificate %s / key %s: %s", cfg->cert_file,
                    cfg->key_file, gnutls_strerror(rv));
            goto fail;
        }
        rv = gnutls_session_ticket_key_generate(&ctx->ticket_key);
        if (rv < 0) {
            ctx->ticket_key.data = NULL;
            set_err(err, err_len, "cannot create ticket key: %s", gnutls_strerror(rv));
            goto fail;
        }
        if (cfg->early_data && replay_init(ctx, cfg->early_data_replay_cap) != 0) {
            set_err(err, err_len, "cannot set up 0-RTT replay protection");
            goto fail;
        }
        if (ctx->request_peer_cert) {
            if (load_trust(ctx, cfg->ca_file, cfg->ca_dir, err, err_len) != 0) goto fail;
            gnutls_certificate_set_verify_function(ctx->cred, verify_hook);
        }
    } else {
        if (cfg->cert_file != NULL || cfg->key_file != NULL) {
            /* A client certificate, sent when the server asks for one. */
            rv = cfg->cert_file && cfg->key_file
                     ? gnutls_certificate_set_x509_key_file(ctx->cred, cfg->cert_file,
                                                            cfg->key_file, GNUTLS_X509_FMT_PEM)
                     : GNUTLS_E_INVALID_REQUEST;
            if (rv < 0) {
                set_err(err, err_len, "cannot load client certificate %s / key %s: %s",
                        cfg->cert_file ? cfg->cert_file : "(none)",
                        cfg->key_file ? cfg->key_file : "(none)", gnutls_strerror(rv));
                goto fail;
            }
        }
        if (cfg->verify_peer) {
            if (load_trust(ctx, cfg->ca_file, cfg->ca_dir, err, err_len) != 0) goto fail;
            gnutls_certificate_set_verify_function(ctx->cred, verify_hook);
        }
    }
    return ctx;

nomem:
    set_err(err, err_len, "out of memory");
fail:
    ctx_destroy(ctx);
    return NULL;
}

qc_tls_ctx *qc_tls_ctx_ref(qc_tls_ctx *ctx) {
    atomic_fetch_add_explicit(&ctx->refs, 1, memory_order_relaxed);
    return ctx;
}

void qc_tls_ctx_free(qc_tls_ctx *ctx) {
    if (ctx == NULL) return;
    if (atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel) == 1) ctx_destroy(ctx);
}

/* ---- GnuTLS hooks ---- */

static bool level_to_epoch(gnutls_record_encryption_level_t level, enum qc_epoch *epoch) {
    switch (level) {
    case GNUTLS_ENCRYPTION_LEVEL_INITIAL:
        *epoch = QC_EPOCH_INITIAL;
        return true;
    case GNUTLS_ENCRYPTION_LEVEL_EARLY:
        *epoch = QC_EPOCH_0RTT;
        return true;
    case GNUTLS_ENCRYPTION_LEVEL_HANDSHAKE:
        *epoch = QC_EPOCH_HANDSHAKE;
        return true;
    case GNUTLS_ENCRYPTION_LEVEL_APPLICATION:
        *epoch = QC_EPOCH_1RTT;
        return true;
    }
    return false;
}

static enum qc_suite cipher_to_suite(gnutls_cipher_algorithm_t c) {
    switch (c) {
    case GNUTLS_CIPHER_AES_128_GCM:
        return QC_SUITE_AES_128_GCM_SHA256;
    case GNUTLS_CIPHER_AES_256_GCM:
        return QC_SUITE_AES_256_GCM_SHA384;
    case GNUTLS_CIPHER_CHACHA20_POLY1305:
        return QC_SUITE_CHACHA20_POLY1305_SHA256;
    default:
        return QC_SUITE_NONE;
    }
}

/* Records the first error decided on our side; GnuTLS sees a non-zero return. */
static int fail_own(qc_tls *t, int err, int alert) {
    if (t->own_err == 0) {
        t->own_err = err;
        t->own_alert = alert;
    }
    return -1;
}

/*
 * QUIC requires the peer's transport parameters and an ALPN agreement;
 * checked once the peer's hello (server) or EncryptedExtensions (client)
 * has been processed.
 */
static int check_peer(qc_tls *t) {
    if (!t->peer_tp_seen) return fail_own(t, QC_ERR_TLS, QC_ALERT_MISSING_EXTENSION);
    gnutls_datum_t p;
    if (gnutls_alpn_get_selected_protocol(t->s, &p) < 0 || p.size == 0 || p.size > 255)
        return fail_own(t, QC_ERR_TLS, QC_ALERT_NO_APPLICATION_PROTOCOL);
    memcpy(t->alpn, p.data, p.size);
    t->alpn_len = p.size;
    return 0;
}

static int secret_hook(gnutls_session_t s, gnutls_record_encryption_level_t level,
                       const void *rsecret, const void *wsecret, size_t len) {
    qc_tls *t = gnutls_session_get_ptr(s);
    enum qc_epoch epoch;
    if (!level_to_epoch(level, &epoch) || len > QC_MAX_SECRET_LEN)
        return fail_own(t, QC_ERR_INTERNAL, QC_ALERT_INTERNAL_ERROR);
    /* The server has parsed the ClientHello before handshake keys; the
     * client has EncryptedExtensions before the application keys. */
    if ((t->ctx->is_server && level == GNUTLS_ENCRYPTION_LEVEL_HANDSHAKE) ||
        (!t->ctx->is_server && level == GNUTLS_ENCRYPTION_LEVEL_APPLICATION)) {
        if (check_peer(t) != 0) return -1;
    }
    gnutls_cipher_algorithm_t c =
        level == GNUTLS_ENCRYPTION_LEVEL_EARLY ? gnutls_early_cipher_get(s) : gnutls_cipher_get(s);
    enum qc_suite suite = cipher_to_suite(c);
    if (suite == QC_SUITE_NONE) return fail_own(t, QC_ERR_TLS, QC_ALERT_INTERNAL_ERROR);
    int rv;
    if (epoch == QC_EPOCH_0RTT) t->early_keys = true;
    if (rsecret != NULL) {
        rv = t->cbs.set_secret(t->cbs.user, epoch, false, suite, rsecret, len);
        if (rv != 0) return fail_own(t, rv, QC_ALERT_INTERNAL_ERROR);
    }
    if (wsecret != NULL) {
        rv = t->cbs.set_secret(t->cbs.user, epoch, true, suite, wsecret, len);
        if (rv != 0) return fail_own(t, rv, QC_ALERT_INTERNAL_ERROR);
    }
    return 0;
}

static int handshake_out_hook(gnutls_session_t s, gnutls_record_encryption_level_t level,
                              gnutls_handshake_description_t htype, const void *data, size_t len) {
    qc_tls *t = gnutls_session_get_ptr(s);
    if (htype == GNUTLS_HANDSHAKE_CHANGE_CIPHER_SPEC) return 0; /* not in QUIC */
    enum qc_epoch epoch;
    if (!level_to_epoch(level, &epoch) || epoch == QC_EPOCH_0RTT)
        return fail_own(t, QC_ERR_INTERNAL, QC_ALERT_INTERNAL_ERROR);
    int rv = t->cbs.send_crypto(t->cbs.user, epoch, data, len);
    if (rv != 0) return fail_own(t, rv, QC_ALERT_INTERNAL_ERROR);
    return 0;
}

static int alert_hook(gnutls_session_t s, gnutls_record_encryption_level_t level,
                      gnutls_alert_level_t alevel, gnutls_alert_description_t desc) {
    qc_tls *t = gnutls_session_get_ptr(s);
    t->sent_alert = (int)desc;
    return 0;
}

static int tp_send(gnutls_session_t s, gnutls_buffer_t buf) {
    qc_tls *t = gnutls_session_get_ptr(s);
    if (!t->local_tp_set) return 0;
    t->local_tp_sent = true;
    int rv = gnutls_buffer_append_data(buf, t->local_tp, t->local_tp_len);
    if (rv < 0) return rv;
    return (int)t->local_tp_len;
}

static int tp_recv(gnutls_session_t s, const unsigned char *data, size_t len) {
    qc_tls *t = gnutls_session_get_ptr(s);
    int rv = t->cbs.peer_tparams(t->cbs.user, data, len);
    if (rv != 0) {
        fail_own(t, rv, QC_ALERT_INTERNAL_ERROR);
        return GNUTLS_E_USER_ERROR;
    }
    t->peer_tp_seen = true;
    return 0;
}

/* Client: a NewSessionTicket arrived; keep the session data it makes resumable. */
static int ticket_hook(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming,
                       const gnutls_datum_t *msg) {
    qc_tls *t = gnutls_session_get_ptr(s);
    if (htype != GNUTLS_HANDSHAKE_NEW_SESSION_TICKET || !incoming || t->ctx->is_server) return 0;
    gnutls_datum_t d;
    if (gnutls_session_get_data2(s, &d) < 0) return 0; /* not fatal: just no ticket */
    uint8_t *copy = qc_malloc(d.size ? d.size : 1);
    if (copy != NULL) {
        memcpy(copy, d.data, d.size);
        qc_free(t->ticket);
        t->ticket = copy;
        t->ticket_len = d.size;
        t->ticket_count++;
    }
    gnutls_free(d.data);
    if (copy != NULL && t->ticket_cb != NULL) t->ticket_cb(t->ticket_cb_user);
    return 0;
}

static void hex(char *out, const uint8_t *in, size_t n) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Appends "LABEL <client_random> <secret>" (NSS key log format) in one write(). */
static int keylog_hook(gnutls_session_t s, const char *label, const gnutls_datum_t *secret) {
    qc_tls *t = gnutls_session_get_ptr(s);
    if (t->ctx->keylog_file == NULL || secret->size > 64) return 0;
    gnutls_datum_t cr, sr;
    gnutls_session_get_random(s, &cr, &sr);
    if (cr.size != 32) return 0;
    char crhex[65], sechex[129], line[256];
    hex(crhex, cr.data, cr.size);
    hex(sechex, secret->data, secret->size);
    int n = snprintf(line, sizeof(line), "%s %s %s\n", label, crhex, sechex);
    if (n <= 0 || (size_t)n >= sizeof(line)) return 0;
    int fd = open(t->ctx->keylog_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return 0; /* key logging is best effort */
    ssize_t w = write(fd, line, (size_t)n);
    (void)w;
    close(fd);
    return 0;
}

/* ---- handshake ops ---- */

static int op_set_local_tparams(void *impl, const uint8_t *data, size_t len) {
    qc_tls *t = impl;
    /* A server may still change them while reading the ClientHello (the version it
     * negotiates goes into them); once sent they are fixed. */
    if (t->local_tp_sent || (len > 0 && data == NULL) || len > 65535) return QC_ERR_INVAL;
    uint8_t *copy = qc_malloc(len ? len : 1);
    if (copy == NULL) return QC_ERR_NOMEM;
    if (len) memcpy(copy, data, len);
    qc_free(t->local_tp);
    t->local_tp = copy;
    t->local_tp_len = len;
    t->local_tp_set = true;
    return 0;
}

static const char *status_reason(unsigned st) {
    if (st == 0) return NULL;
    if (st & GNUTLS_CERT_REVOKED) return "revoked";
    if (st & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA)) return "untrusted issuer";
    if (st & GNUTLS_CERT_EXPIRED) return "expired";
    if (st & GNUTLS_CERT_NOT_ACTIVATED) return "not yet valid";
    if (st & GNUTLS_CERT_UNEXPECTED_OWNER) return "name mismatch";
    return "invalid certificate";
}

/* Turns a fatal GnuTLS error into the sticky error and alert of the handshake. */
static int fail(qc_tls *t, int grv, uint8_t *alert) {
    int err;
    int a = -1;
    if (t->own_err != 0) {
        err = t->own_err;
        a = t->own_alert;
    } else if (t->verify_failed) {
        err = QC_ERR_VERIFY; /* status recorded by verify_hook */
        a = QC_ALERT_BAD_CERTIFICATE;
    } else {
        err = QC_ERR_TLS;
    }
    if (a < 0) {
        t->sent_alert = -1;
        gnutls_alert_send_appropriate(t->s, grv);
        a = t->sent_alert;
    }
    if (a < 0) {
        int lvl;
        a = gnutls_error_to_alert(grv, &lvl);
    }
    if (a < 0 || a > 255)
        a = err == QC_ERR_VERIFY ? QC_ALERT_BAD_CERTIFICATE : QC_ALERT_INTERNAL_ERROR;
    t->failed = err;
    t->alert = (uint8_t)a;
    *alert = t->alert;
    return err;
}

/* Runs gnutls_handshake once; 0 when done or waiting for more data. */
static int advance(qc_tls *t, uint8_t *alert) {
    int rv = gnutls_handshake(t->s);
    if (rv == 0) {
        if (check_peer(t) != 0) return fail(t, GNUTLS_E_USER_ERROR, alert);
        t->complete = true;
        return 0;
    }
    if (rv == GNUTLS_E_AGAIN || rv == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(rv)) {
        if (t->own_err != 0) return fail(t, rv, alert);
        return 0;
    }
    return fail(t, rv, alert);
}

static int op_start(void *impl) {
    qc_tls *t = impl;
    if (t->started) return QC_ERR_INVAL;
    if (t->ctx->is_server) return 0;
    if (!t->local_tp_set) return QC_ERR_INVAL;
    t->started = true;
    uint8_t alert;
    int rv = advance(t, &alert);
    /* GnuTLS derives the 0-RTT keys one step after writing the ClientHello: take that step
     * now, so that 0-RTT goes with the first flight. */
    if (rv == 0 && t->ctx->early_data && !t->early_keys) rv = advance(t, &alert);
    return rv;
}

/*
 * Walks the post-handshake messages in 1-RTT CRYPTO data: QUIC has no TLS KeyUpdate, and
 * RFC 9001 §6 makes one a connection error 0x10a (unexpected_message). Returns false for one.
 */
static bool post_handshake_ok(qc_tls *t, const uint8_t *data, size_t len) {
    while (len > 0) {
        if (t->ph_left == 0) {
            t->ph_hdr[t->ph_hdr_len++] = *data++;
            len--;
            if (t->ph_hdr_len < 4) continue;
            t->ph_hdr_len = 0;
            if (t->ph_hdr[0] == 24) return false; /* key_update */
            t->ph_left = (uint32_t)t->ph_hdr[1] << 16 | (uint32_t)t->ph_hdr[2] << 8 | t->ph_hdr[3];
            continue;
        }
        size_t n = len < t->ph_left ? len : t->ph_left;
        t->ph_left -= (uint32_t)n;
        data += n;
        len -= n;
    }
    return true;
}

static int op_recv_crypto(void *impl, enum qc_epoch epoch, const uint8_t *data, size_t len,
                          uint8_t *alert) {
    qc_tls *t = impl;
    uint8_t dummy;
    if (alert == NULL) alert = &dummy;
    if (t->failed) {
        *alert = t->alert;
        return t->failed;
    }
    gnutls_record_encryption_level_t level;
    switch (epoch) {
    case QC_EPOCH_INITIAL:
        level = GNUTLS_ENCRYPTION_LEVEL_INITIAL;
        break;
    case QC_EPOCH_HANDSHAKE:
        level = GNUTLS_ENCRYPTION_LEVEL_HANDSHAKE;
        break;
    case QC_EPOCH_1RTT:
        level = GNUTLS_ENCRYPTION_LEVEL_APPLICATION;
        break;
    default:
        return QC_ERR_PROTO; /* no CRYPTO frames in 0-RTT */
    }
    if (len > 0 && data == NULL) return QC_ERR_INVAL;
    if (!t->ctx->is_server && !t->started) return QC_ERR_INVAL;
    t->started = true;
    if (epoch == QC_EPOCH_1RTT && !post_handshake_ok(t, data, len)) {
        fail_own(t, QC_ERR_TLS, QC_ALERT_UNEXPECTED_MESSAGE);
        return fail(t, GNUTLS_E_UNEXPECTED_PACKET, alert);
    }
    if (len > 0) {
        int rv = gnutls_handshake_write(t->s, level, data, len);
        if (rv < 0 && (gnutls_error_is_fatal(rv) || t->own_err != 0)) return fail(t, rv, alert);
    }
    if (!t->complete) return advance(t, alert);
    if (t->own_err != 0) return fail(t, GNUTLS_E_USER_ERROR, alert);
    return 0;
}

static bool op_is_complete(void *impl) {
    return ((qc_tls *)impl)->complete;
}

static int op_early_data(void *impl) {
    qc_tls *t = impl;
    if (!t->early_keys) return QC_EARLY_NONE;
    if (t->ctx->is_server) return QC_EARLY_ACCEPTED; /* GnuTLS gives the keys only then */
    if (!t->complete) return QC_EARLY_PENDING;
    return (gnutls_session_get_flags(t->s) & GNUTLS_SFLAGS_EARLY_DATA) ? QC_EARLY_ACCEPTED
                                                                       : QC_EARLY_REJECTED;
}

/* Server: the session tickets this handshake accepts and issues are those of one QUIC
 * version (RFC 9369 §5), under a key of that version's own, HMAC-SHA-512 of the context's
 * ticket key and the version number. A ticket of another version fails to decrypt and
 * GnuTLS goes on with a full handshake. GnuTLS takes a new key until the first ticket is
 * decrypted or issued: before the ClientHello, and from the transport parameters
 * extension, which it parses before pre_shared_key. */
static int op_set_version(void *impl, uint32_t version) {
    qc_tls *t = impl;
    if (!t->ctx->is_server) return 0;
    const gnutls_datum_t *master = &t->ctx->ticket_key;
    uint8_t key[64], label[20] = "quicc ticket key ";
    label[16] = (uint8_t)(version >> 24), label[17] = (uint8_t)(version >> 16);
    label[18] = (uint8_t)(version >> 8), label[19] = (uint8_t)version;
    if (master->size != sizeof(key) ||
        gnutls_hmac_fast(GNUTLS_MAC_SHA512, master->data, master->size, label, sizeof(label), key) <
            0)
        return QC_ERR_CRYPTO;
    gnutls_datum_t d = {key, sizeof(key)};
    int rv = gnutls_session_ticket_enable_server(t->s, &d);
    gnutls_memset(key, 0, sizeof(key));
    return rv < 0 ? QC_ERR_CRYPTO : 0;
}

static const uint8_t *op_alpn(void *impl, size_t *len) {
    qc_tls *t = impl;
    if (!t->complete || t->alpn_len == 0) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = t->alpn_len;
    return t->alpn;
}

static void op_free(void *impl) {
    qc_tls *t = impl;
    if (t == NULL) return;
    if (t->s) gnutls_deinit(t->s);
    qc_free(t->local_tp);
    qc_free(t->ticket);
    for (size_t i = 0; i < t->verify_host_count; i++)
        qc_free(t->verify_hosts[i]);
    qc_free(t->verify_hosts);
    qc_tls_ctx_free(t->ctx);
    qc_free(t);
}

static const qc_hs_ops qc_tls_ops = {
    .set_local_tparams = op_set_local_tparams,
    .start = op_start,
    .recv_crypto = op_recv_crypto,
    .is_complete = op_is_complete,
    .alpn = op_alpn,
    .early_data = op_early_data,
    .set_version = op_set_version,
    .free = op_free,
};

static bool is_ip_literal(const char *name) {
    uint8_t buf[16];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

/* Splits an ALPN wire list into at most max entries; the number, or 0 when malformed. */
static size_t alpn_split(const uint8_t *wire, size_t len, gnutls_datum_t *out, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < len; i += 1 + wire[i]) {
        if (wire[i] == 0 || i + 1 + wire[i] > len || n == max) return 0;
        out[n].data = (unsigned char *)wire + i + 1;
        out[n].size = wire[i];
        n++;
    }
    return n;
}

/* Copies the names the certificate is checked against into t. */
static int set_verify_hosts(qc_tls *t, const qc_tls_session_config *sc) {
    const char *const *names = sc->verify_hosts;
    size_t n = sc->verify_host_count;
    if (n == 0 && sc->sni != NULL && *sc->sni != '\0') {
        names = &sc->sni;
        n = 1;
    }
    if (n == 0) return 0;
    t->verify_hosts = qc_calloc(n, sizeof(*t->verify_hosts));
    if (t->verify_hosts == NULL) return QC_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (names[i] == NULL || *names[i] == '\0') return QC_ERR_INVAL;
        t->verify_hosts[i] = qc_strdup(names[i]);
        if (t->verify_hosts[i] == NULL) return QC_ERR_NOMEM;
        t->verify_host_count++;
    }
    return 0;
}

int qc_tls_new(qc_tls_ctx *ctx, const char *server_name, const qc_hs_callbacks *cbs, qc_hs *hs) {
    qc_tls_session_config sc = {.sni = server_name};
    return qc_tls_new_ex(ctx, &sc, cbs, hs);
}

int qc_tls_new_ex(qc_tls_ctx *ctx, const qc_tls_session_config *scfg, const qc_hs_callbacks *cbs,
                  qc_hs *hs) {
    static const qc_tls_session_config none = {0};
    if (scfg == NULL) scfg = &none;
    if (ctx == NULL || cbs == NULL || hs == NULL || cbs->set_secret == NULL ||
        cbs->send_crypto == NULL || cbs->peer_tparams == NULL)
        return QC_ERR_INVAL;
    gnutls_datum_t alpn_list[32];
    const gnutls_datum_t *alpn = ctx->alpn;
    size_t alpn_count = ctx->alpn_count;
    if (scfg->alpn_wire != NULL && !ctx->is_server) {
        alpn_count = alpn_split(scfg->alpn_wire, scfg->alpn_wire_len, alpn_list, 32);
        alpn = alpn_list;
    }
    if (alpn_count == 0) return QC_ERR_INVAL;
    const char *server_name = ctx->is_server ? NULL : scfg->sni;
    qc_tls *t = qc_calloc(1, sizeof(*t));
    if (t == NULL) return QC_ERR_NOMEM;
    t->ctx = qc_tls_ctx_ref(ctx);
    t->cbs = *cbs;
    t->own_alert = -1;
    t->sent_alert = -1;
    if (!ctx->is_server) {
        int vrv = set_verify_hosts(t, scfg);
        if (vrv != 0) {
            op_free(t);
            return vrv;
        }
    }

    /* No TLS 1.2 tickets: their extension would fix the ticket key before op_set_version. */
    unsigned flags = (ctx->is_server ? GNUTLS_SERVER : GNUTLS_CLIENT) |
                     GNUTLS_NO_END_OF_EARLY_DATA | GNUTLS_NO_TICKETS_TLS12;
    if (ctx->early_data) flags |= GNUTLS_ENABLE_EARLY_DATA;
    int rv = gnutls_init(&t->s, flags);
    if (rv < 0) {
        t->s = NULL;
        op_free(t);
        return rv == GNUTLS_E_MEMORY_ERROR ? QC_ERR_NOMEM : QC_ERR_CRYPTO;
    }
    gnutls_session_set_ptr(t->s, t);
    rv = gnutls_priority_set_direct(t->s, ctx->priority, NULL);
    if (rv == 0) rv = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, ctx->cred);
    if (rv == 0) {
        unsigned aflags = GNUTLS_ALPN_MANDATORY;
        if (ctx->is_server) aflags |= GNUTLS_ALPN_SERVER_PRECEDENCE;
        rv = gnutls_alpn_set_protocols(t->s, alpn, (unsigned)alpn_count, aflags);
    }
    if (rv == 0)
        rv = gnutls_session_ext_register(
            t->s, "quic_transport_parameters", QC_TLS_EXT_TRANSPORT_PARAMS, GNUTLS_EXT_TLS, tp_recv,
            tp_send, NULL, NULL, NULL,
            GNUTLS_EXT_FLAG_TLS | GNUTLS_EXT_FLAG_CLIENT_HELLO | GNUTLS_EXT_FLAG_EE);
    if (rv == 0 && ctx->is_server) rv = gnutls_session_ticket_enable_server(t->s, &ctx->ticket_key);
    if (rv == 0 && ctx->is_server && ctx->early_data) {
        /* QUIC's sentinel in tickets that allow 0-RTT (RFC 9001 §4.6.1). */
        rv = gnutls_record_set_max_early_data_size(t->s, 0xffffffffu);
        if (rv == 0) gnutls_anti_replay_enable(t->s, ctx->anti_replay);
    }
    if (rv == 0 && ctx->request_peer_cert)
        gnutls_certificate_server_set_request(t->s, ctx->require_peer_cert ? GNUTLS_CERT_REQUIRE
                                                                           : GNUTLS_CERT_REQUEST);
    if (rv == 0 && !ctx->is_server && server_name != NULL && *server_name != '\0') {
        if (!is_ip_literal(server_name))
            rv = gnutls_server_name_set(t->s, GNUTLS_NAME_DNS, server_name, strlen(server_name));
    }
    if (rv < 0) {
        op_free(t);
        return rv == GNUTLS_E_MEMORY_ERROR ? QC_ERR_NOMEM : QC_ERR_CRYPTO;
    }
    gnutls_handshake_set_secret_function(t->s, secret_hook);
    gnutls_handshake_set_read_function(t->s, handshake_out_hook);
    gnutls_alert_set_read_function(t->s, alert_hook);
    if (!ctx->is_server)
        gnutls_handshake_set_hook_function(t->s, GNUTLS_HANDSHAKE_NEW_SESSION_TICKET,
                                           GNUTLS_HOOK_POST, ticket_hook);
    if (ctx->keylog_file != NULL) gnutls_session_set_keylog_function(t->s, keylog_hook);

    hs->ops = &qc_tls_ops;
    hs->impl = t;
    return 0;
}

/* The transport GnuTLS would write TLS records to: QUIC has none; only the placeholder
 * early data byte (qc_tls_set_session) ever comes here. */
static ssize_t swallow_push(gnutls_transport_ptr_t ptr, const void *data, size_t len) {
    (void)ptr;
    (void)data;
    return (ssize_t)len;
}

/* ---- extras ---- */

static qc_tls *tls_of(const qc_hs *hs) {
    if (hs == NULL || hs->ops != &qc_tls_ops) return NULL;
    return hs->impl;
}

const char *qc_tls_verify_error(const qc_hs *hs) {
    qc_tls *t = tls_of(hs);
    if (t == NULL || !t->verify_failed) return NULL;
    return status_reason(t->verify_status);
}

unsigned qc_tls_verify_status(const qc_hs *hs) {
    qc_tls *t = tls_of(hs);
    return t != NULL && t->verify_failed ? t->verify_status : 0;
}

int qc_tls_get_session(const qc_hs *hs, uint8_t *buf, size_t cap, size_t *len) {
    qc_tls *t = tls_of(hs);
    if (t == NULL || len == NULL) return QC_ERR_INVAL;
    if (t->ticket == NULL) {
        *len = 0;
        return QC_ERR_AGAIN;
    }
    *len = t->ticket_len;
    if (buf == NULL || cap < t->ticket_len) return QC_ERR_NOBUF;
    memcpy(buf, t->ticket, t->ticket_len);
    return 0;
}

unsigned qc_tls_session_count(const qc_hs *hs) {
    qc_tls *t = tls_of(hs);
    return t ? t->ticket_count : 0;
}

int qc_tls_set_session(qc_hs *hs, const uint8_t *data, size_t len) {
    qc_tls *t = tls_of(hs);
    if (t == NULL || t->ctx->is_server || t->started || data == NULL || len == 0 ||
        len > UINT32_MAX)
        return QC_ERR_INVAL;
    if (gnutls_session_set_data(t->s, data, len) < 0) return QC_ERR_INVAL;
    /* GnuTLS offers early_data only with TLS early data queued; QUIC sends none (its 0-RTT
     * goes in 0-RTT packets), so one byte is queued and swallowed on its way out. */
    if (t->ctx->early_data && gnutls_record_get_max_early_data_size(t->s) == 0xffffffffu) {
        gnutls_transport_set_push_function(t->s, swallow_push);
        if (gnutls_record_send_early_data(t->s, "", 1) < 0) return QC_ERR_TLS;
    }
    return 0;
}

bool qc_tls_is_resumed(const qc_hs *hs) {
    qc_tls *t = tls_of(hs);
    return t != NULL && t->complete && gnutls_session_is_resumed(t->s) != 0;
}

int qc_tls_peer_cert(const qc_hs *hs, const uint8_t **der, size_t *len) {
    return qc_tls_peer_cert_at(hs, 0, der, len);
}

size_t qc_tls_peer_chain_len(const qc_hs *hs) {
    qc_tls *t = tls_of(hs);
    unsigned n = 0;
    if (t == NULL || gnutls_certificate_get_peers(t->s, &n) == NULL) return 0;
    return n;
}

int qc_tls_peer_cert_at(const qc_hs *hs, size_t i, const uint8_t **der, size_t *len) {
    qc_tls *t = tls_of(hs);
    if (t == NULL || der == NULL || len == NULL) return QC_ERR_INVAL;
    unsigned n = 0;
    const gnutls_datum_t *list = gnutls_certificate_get_peers(t->s, &n);
    if (list == NULL || i >= n) return QC_ERR_AGAIN;
    *der = list[i].data;
    *len = list[i].size;
    return 0;
}

const char *qc_tls_library_version(void) {
    return gnutls_check_version(NULL);
}

const char *qc_tls_cipher_name(const qc_hs *hs) {
    qc_tls *t = tls_of(hs);
    if (t == NULL || !t->started) return NULL;
    switch (cipher_to_suite(gnutls_cipher_get(t->s))) {
    case QC_SUITE_AES_128_GCM_SHA256:
        return "TLS_AES_128_GCM_SHA256";
    case QC_SUITE_AES_256_GCM_SHA384:
        return "TLS_AES_256_GCM_SHA384";
    case QC_SUITE_CHACHA20_POLY1305_SHA256:
        return "TLS_CHACHA20_POLY1305_SHA256";
    default:
        return NULL;
    }
}

int qc_tls_export(const qc_hs *hs, const char *label, size_t label_len, const uint8_t *context,
                  size_t context_len, uint8_t *out, size_t out_len) {
    qc_tls *t = tls_of(hs);
    if (t == NULL || label == NULL || out == NULL) return QC_ERR_INVAL;
    if (!t->complete) return QC_ERR_AGAIN;
    int rv = gnutls_prf_rfc5705(t->s, label_len, label, context_len, (const char *)context, out_len,
                                (char *)out);
    return rv < 0 ? QC_ERR_TLS : 0;
}

void qc_tls_set_ticket_cb(qc_hs *hs, void (*cb)(void *user), void *user) {
    qc_tls *t = tls_of(hs);
    if (t == NULL) return;
    t->ticket_cb = cb;
    t->ticket_cb_user = user;
}

int qc_tls_cert_names(const uint8_t *der, size_t len, char **subject, char **issuer) {
    *subject = *issuer = NULL;
    if (der == NULL || len == 0 || len > UINT32_MAX) return QC_ERR_INVAL;
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0) return QC_ERR_NOMEM;
    gnutls_datum_t d = {.data = (unsigned char *)der, .size = (unsigned)len};
    gnutls_datum_t s = {0}, i = {0};
    int rv = QC_ERR_INVAL;
    if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) >= 0 &&
        gnutls_x509_crt_get_dn3(crt, &s, 0) >= 0 &&
        gnutls_x509_crt_get_issuer_dn3(crt, &i, 0) >= 0) {
        *subject = qc_strndup((const char *)s.data, s.size);
        *issuer = qc_strndup((const char *)i.data, i.size);
        rv = *subject && *issuer ? 0 : QC_ERR_NOMEM;
    }
    gnutls_free(s.data);
    gnutls_free(i.data);
    gnutls_x509_crt_deinit(crt);
    if (rv) {
        qc_free(*subject);
        qc_free(*issuer);
        *subject = *issuer = NULL;
    }
    return rv;
}

int qc_tls_send_ticket(qc_hs *hs) {
    qc_tls *t = tls_of(hs);
    if (t == NULL || !t->ctx->is_server || !t->complete) return QC_ERR_INVAL;
    return gnutls_session_ticket_send(t->s, 1, 0) < 0 ? QC_ERR_TLS : 0;
}
