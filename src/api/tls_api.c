/*
 * tls_api.c: what the public API tells about a connection's TLS session:
 * resumption (sessions, the new-session callback), the peer's certificates,
 * the cipher suite, exported keying material.
 */
#include "api/api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- verification ---- */

static const char *verify_text(long r) {
    switch (r) {
    case QUICC_VERIFY_OK:
        return "ok";
    case QUICC_VERIFY_ERR_UNTRUSTED:
        return "untrusted issuer";
    case QUICC_VERIFY_ERR_NAME_MISMATCH:
        return "name mismatch";
    case QUICC_VERIFY_ERR_EXPIRED:
        return "expired";
    case QUICC_VERIFY_ERR_NOT_YET_VALID:
        return "not yet valid";
    case QUICC_VERIFY_ERR_REVOKED:
        return "revoked";
    default:
        return "invalid certificate";
    }
}

const char *quicc_verify_result_string(long result) {
    return verify_text(result);
}

long quicc_get_verify_result(const quicc *s) {
    return s ? s->c->verify_result : -1;
}

long qc_api_verify_code(const char *text) {
    static const long codes[] = {QUICC_VERIFY_ERR_UNTRUSTED, QUICC_VERIFY_ERR_NAME_MISMATCH,
                                 QUICC_VERIFY_ERR_EXPIRED, QUICC_VERIFY_ERR_NOT_YET_VALID,
                                 QUICC_VERIFY_ERR_REVOKED};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (text && strcmp(text, verify_text(codes[i])) == 0) return codes[i];
    return QUICC_VERIFY_ERR_INVALID;
}

int qc_api_verify_trampoline(void *user, int ok, const char *reason, size_t n,
                             const uint8_t *const *der, const size_t *len) {
    quicc_ctx *ctx = user;
    quicc_verify_info info = {
        .result = ok ? QUICC_VERIFY_OK : qc_api_verify_code(reason),
        .chain_len = n,
        .der = der,
        .der_len = len,
    };
    return ctx->verify_cb(ok, &info, ctx->verify_arg) ? 1 : 0;
}

void quicc_ctx_set_verify_callback(quicc_ctx *ctx, quicc_verify_cb cb, void *arg) {
    if (!ctx) return;
    pthread_mutex_lock(&ctx->lock);
    ctx->verify_cb = cb;
    ctx->verify_arg = arg;
    qc_tls_ctx_free(ctx->client_tls); /* the next connection's context calls it */
    ctx->client_tls = NULL;
    pthread_mutex_unlock(&ctx->lock);
}

/* ---- sessions and certificates ---- */

uint8_t *qc_api_session_make(qc_api_conn *c, size_t *len) {
    const qc_hs *hs = c->engine ? qc_conn_hs(c->engine) : NULL;
    size_t tls_len = 0;
    if (!hs || qc_tls_get_session(hs, NULL, 0, &tls_len) != QC_ERR_NOBUF) return NULL;
    uint8_t tp[512];
    int tp_len = qc_conn_remembered_tparams(c->engine, tp, sizeof(tp));
    if (tp_len < 0) tp_len = 0;
    size_t total = 4 + 4 + 2 + (size_t)tp_len + tls_len;
    uint8_t *out = qc_malloc(total);
    if (!out) return NULL;
    uint32_t v = qc_conn_version(c->engine);
    memcpy(out, "QCS1", 4);
    for (int i = 0; i < 4; i++)
        out[4 + i] = (uint8_t)(v >> (24 - 8 * i));
    out[8] = (uint8_t)(tp_len >> 8), out[9] = (uint8_t)tp_len;
    memcpy(out + 10, tp, (size_t)tp_len);
    if (qc_tls_get_session(hs, out + 10 + tp_len, tls_len, &tls_len) != 0) {
        qc_free(out);
        return NULL;
    }
    *len = total;
    return out;
}

bool qc_api_session_parse(const uint8_t *d, size_t len, qc_api_session_view *v) {
    memset(v, 0, sizeof(*v));
    if (len < 10 || memcmp(d, "QCS1", 4) != 0) {
        v->tls = d; /* a bare TLS session (older session files) */
        v->tls_len = len;
        return len > 0;
    }
    v->version = (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 | (uint32_t)d[6] << 8 | d[7];
    v->tp_len = (size_t)d[8] << 8 | d[9];
    if (10 + v->tp_len >= len) return false;
    v->tp = v->tp_len ? d + 10 : NULL;
    v->tls = d + 10 + v->tp_len;
    v->tls_len = len - 10 - v->tp_len;
    return true;
}

int quicc_get_session(quicc *s, unsigned char *buf, size_t *len) {
    if (!s || !len || s->kind == QC_OBJ_LISTENER) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_get_session: bad arguments");
        return 0;
    }
    qc_api_conn *c = s->c;
    pthread_mutex_lock(c->lock);
    size_t need = 0;
    uint8_t *blob = qc_api_session_make(c, &need);
    pthread_mutex_unlock(c->lock);
    if (!blob) {
        qc_api_err_push(QUICC_R_NO_SESSION, "no session ticket from the server yet");
        return 0;
    }
    int ok = buf && *len >= need;
    if (ok) memcpy(buf, blob, need);
    if (buf && !ok) qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "session buffer too small");
    *len = need;
    qc_free(blob);
    return ok;
}

int quicc_set_session(quicc *s, const unsigned char *data, size_t len) {
    if (!qc_api_before_connect(s, "quicc_set_session")) return 0;
    if (!data || len == 0 || len > 65536) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_set_session: bad arguments");
        return 0;
    }
    uint8_t *copy = qc_malloc(len);
    if (!copy) return 0;
    memcpy(copy, data, len);
    qc_free(s->c->session);
    s->c->session = copy;
    s->c->session_len = len;
    return 1;
}

int quicc_session_reused(const quicc *s) {
    if (!s || !s->c->engine) return 0;
    pthread_mutex_lock(s->c->lock);
    const qc_hs *hs = qc_conn_hs(s->c->engine);
    int r = hs && qc_tls_is_resumed(hs);
    pthread_mutex_unlock(s->c->lock);
    return r;
}

struct quicc_cert {
    unsigned char *der;
    size_t len;
    char *subject, *issuer;
};

/* A copy of a DER certificate with its names, or NULL. */
static quicc_cert *cert_copy(const uint8_t *der, size_t len) {
    quicc_cert *cert = qc_calloc(1, sizeof(*cert));
    if (!cert || !(cert->der = qc_malloc(len))) {
        qc_free(cert);
        return NULL;
    }
    memcpy(cert->der, der, len);
    cert->len = len;
    if (qc_tls_cert_names(der, len, &cert->subject, &cert->issuer) != 0) {
        quicc_cert_free(cert);
        return NULL;
    }
    return cert;
}

quicc_cert *quicc_get1_peer_certificate(quicc *s) {
    return quicc_get1_peer_cert_at(s, 0);
}

const unsigned char *quicc_cert_get0_der(const quicc_cert *cert, size_t *len) {
    if (len) *len = cert ? cert->len : 0;
    return cert ? cert->der : NULL;
}

const char *quicc_cert_get0_subject(const quicc_cert *cert) {
    return cert ? cert->subject : NULL;
}

const char *quicc_cert_get0_issuer(const quicc_cert *cert) {
    return cert ? cert->issuer : NULL;
}

void quicc_cert_free(quicc_cert *cert) {
    if (!cert) return;
    qc_free(cert->der);
    qc_free(cert->subject);
    qc_free(cert->issuer);
    qc_free(cert);
}

size_t quicc_get_peer_cert_chain_len(quicc *s) {
    if (!s || s->kind != QC_OBJ_CONN) return 0;
    pthread_mutex_lock(s->c->lock);
    const qc_hs *hs = s->c->engine ? qc_conn_hs(s->c->engine) : NULL;
    size_t n = hs ? qc_tls_peer_chain_len(hs) : 0;
    pthread_mutex_unlock(s->c->lock);
    return n;
}

quicc_cert *quicc_get1_peer_cert_at(quicc *s, size_t i) {
    if (!s || s->kind != QC_OBJ_CONN) return NULL;
    qc_api_conn *c = s->c;
    quicc_cert *cert = NULL;
    pthread_mutex_lock(c->lock);
    const qc_hs *hs = c->engine ? qc_conn_hs(c->engine) : NULL;
    const uint8_t *der;
    size_t len;
    if (hs && qc_tls_peer_cert_at(hs, i, &der, &len) == 0) cert = cert_copy(der, len);
    pthread_mutex_unlock(c->lock);
    return cert;
}

const char *quicc_get_current_cipher_name(const quicc *s) {
    if (!s || s->kind == QC_OBJ_LISTENER) return NULL;
    pthread_mutex_lock(s->c->lock);
    const qc_hs *hs = s->c->engine ? qc_conn_hs(s->c->engine) : NULL;
    const char *name = hs && s->c->connected ? qc_tls_cipher_name(hs) : NULL;
    pthread_mutex_unlock(s->c->lock);
    return name;
}

const char *quicc_get_version(const quicc *s) {
    if (!s || s->kind == QC_OBJ_LISTENER) return NULL;
    switch (quicc_get_quic_version(s)) {
    case QUICC_QUIC_VERSION_2:
        return "QUICv2";
    case QUICC_QUIC_VERSION_2_DRAFT:
        return "QUICv2draft";
    default:
        return "QUICv1"; /* OpenSSL's answer for every QUIC object */
    }
}

int quicc_export_keying_material(quicc *s, unsigned char *out, size_t olen, const char *label,
                                 size_t llen, const unsigned char *context, size_t contextlen,
                                 int use_context) {
    if (!s || s->kind == QC_OBJ_LISTENER || !out || olen == 0 || !label ||
        (use_context && contextlen && !context)) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT,
                        "quicc_export_keying_material: bad arguments");
        return 0;
    }
    pthread_mutex_lock(s->c->lock);
    const qc_hs *hs = s->c->engine ? qc_conn_hs(s->c->engine) : NULL;
    int rv = hs ? qc_tls_export(hs, label, llen, use_context ? context : NULL,
                                use_context ? contextlen : 0, out, olen)
                : QC_ERR_AGAIN;
    pthread_mutex_unlock(s->c->lock);
    if (rv == QC_ERR_AGAIN)
        qc_api_err_push(QUICC_R_NOT_CONNECTED, "the handshake is not done");
    else if (rv)
        qc_api_err_push(QUICC_R_INTERNAL_ERROR, "keying material export failed");
    return rv == 0;
}

void quicc_ctx_sess_set_new_cb(quicc_ctx *ctx, quicc_new_session_cb cb, void *arg) {
    if (!ctx) return;
    pthread_mutex_lock(&ctx->lock);
    ctx->new_session_cb = cb;
    ctx->new_session_arg = arg;
    pthread_mutex_unlock(&ctx->lock);
}

static bool same_addr(const qc_addr *a, const qc_addr *b) {
    return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

/* Files a session under the connection's server name and address. Context lock held. */
static void session_store(quicc_ctx *ctx, const char *name, const qc_addr *peer,
                          const uint8_t *data, size_t len) {
    uint8_t *copy = qc_malloc(len);
    if (!copy || strlen(name) >= sizeof(ctx->sessions[0].name)) {
        qc_free(copy);
        return;
    }
    memcpy(copy, data, len);
    size_t i = 0;
    while (i < ctx->nsessions &&
           !(strcmp(ctx->sessions[i].name, name) == 0 && same_addr(&ctx->sessions[i].peer, peer)))
        i++;
    if (i == ctx->nsessions) {
        if (ctx->nsessions < QC_ARRAY_LEN(ctx->sessions)) ctx->nsessions++;
        i = ctx->nsessions - 1; /* full: the oldest makes room */
    }
    qc_free(ctx->sessions[i].data);
    memmove(&ctx->sessions[1], &ctx->sessions[0], i * sizeof(ctx->sessions[0]));
    snprintf(ctx->sessions[0].name, sizeof(ctx->sessions[0].name), "%s", name);
    ctx->sessions[0].peer = *peer;
    ctx->sessions[0].data = copy;
    ctx->sessions[0].len = len;
}

uint8_t *qc_api_session_lookup(quicc_ctx *ctx, const char *name, const qc_addr *peer, size_t *len) {
    uint8_t *copy = NULL;
    pthread_mutex_lock(&ctx->lock);
    for (size_t i = 0; i < ctx->nsessions && !copy; i++) {
        if (strcmp(ctx->sessions[i].name, name) != 0 || !same_addr(&ctx->sessions[i].peer, peer))
            continue;
        if ((copy = qc_malloc(ctx->sessions[i].len))) {
            memcpy(copy, ctx->sessions[i].data, ctx->sessions[i].len);
            *len = ctx->sessions[i].len;
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    return copy;
}

void qc_api_sessions_free(quicc_ctx *ctx) {
    for (size_t i = 0; i < ctx->nsessions; i++)
        qc_free(ctx->sessions[i].data);
    ctx->nsessions = 0;
}

long quicc_ctx_set_session_cache_mode(quicc_ctx *ctx, long mode) {
    if (!ctx) return 0;
    pthread_mutex_lock(&ctx->lock);
    long old = ctx->sess_cache_mode;
    ctx->sess_cache_mode = mode & QUICC_SESS_CACHE_CLIENT;
    if (!ctx->sess_cache_mode) qc_api_sessions_free(ctx);
    pthread_mutex_unlock(&ctx->lock);
    return old;
}

long quicc_ctx_get_session_cache_mode(const quicc_ctx *ctx) {
    return ctx ? ctx->sess_cache_mode : 0;
}

void qc_api_on_ticket(void *user) {
    qc_api_conn *c = user;
    quicc_ctx *ctx = c->ctx;
    size_t need = 0;
    uint8_t *buf = qc_api_session_make(c, &need);
    if (buf) {
        pthread_mutex_lock(&ctx->lock);
        quicc_new_session_cb cb = ctx->new_session_cb;
        void *arg = ctx->new_session_arg;
        if (ctx->sess_cache_mode & QUICC_SESS_CACHE_CLIENT)
            session_store(ctx, qc_api_conn_server_name(c), &c->peer, buf, need);
        pthread_mutex_unlock(&ctx->lock);
        if (cb) cb(c->obj, buf, need, arg);
    }
    qc_free(buf);
}
