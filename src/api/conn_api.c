/*
 * conn_api.c: contexts, connection objects, the handshake and the event
 * loop of the public API (include/quicc.h). Streams, reads and writes are in
 * stream_api.c.
 *
 * Every call on a connection (or one of its streams) holds the
 * connection's mutex; blocking waits release it while in poll().
 */
#include "api/api_internal.h"
#include "core/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- context ---- */

quicc_ctx *quicc_ctx_new(enum quicc_method method) {
    if (method != QUICC_CLIENT && method != QUICC_CLIENT_THREAD && method != QUICC_SERVER) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "unknown method %d", (int)method);
        return NULL;
    }
    quicc_ctx *ctx = qc_calloc(1, sizeof(*ctx));
    if (!ctx) return NULL;
    ctx->refs = 1;
    ctx->method = method;
    ctx->verify_mode = method == QUICC_SERVER ? QUICC_VERIFY_NONE : QUICC_VERIFY_PEER;
    pthread_mutex_init(&ctx->lock, NULL);
    return ctx;
}

static void ctx_unref(quicc_ctx *ctx) {
    if (!ctx) return;
    pthread_mutex_lock(&ctx->lock);
    int refs = --ctx->refs;
    pthread_mutex_unlock(&ctx->lock);
    if (refs > 0) return;
    pthread_mutex_destroy(&ctx->lock);
    qc_tls_ctx_free(ctx->client_tls);
    qc_api_sessions_free(ctx);
    qc_free(ctx->ca_file);
    qc_free(ctx->ca_dir);
    qc_free(ctx->keylog_file);
    qc_free(ctx->qlog_dir);
    qc_free(ctx->cert_file);
    qc_free(ctx->key_file);
    qc_free(ctx);
}

void quicc_ctx_free(quicc_ctx *ctx) {
    ctx_unref(ctx);
}

/* A trust, key-log or suite setting changed: connections made from now on get a new TLS
 * context (those already made keep theirs). */
static void ctx_tls_changed(quicc_ctx *ctx) {
    pthread_mutex_lock(&ctx->lock);
    qc_tls_ctx_free(ctx->client_tls);
    ctx->client_tls = NULL;
    pthread_mutex_unlock(&ctx->lock);
}

qc_tls_ctx *qc_api_ctx_client_tls(quicc_ctx *ctx, char *err, size_t err_len) {
    pthread_mutex_lock(&ctx->lock);
    if (!ctx->client_tls) {
        qc_tls_ctx_config tcfg = {
            .is_server = false,
            .verify_peer = ctx->verify_mode != QUICC_VERIFY_NONE,
            .ca_file = ctx->ca_file,
            .ca_dir = ctx->ca_dir,
            .keylog_file = ctx->keylog_file ? ctx->keylog_file : getenv("SSLKEYLOGFILE"),
            .suites = ctx->suites,
            .cert_file = ctx->cert_file, /* a client certificate, if the server asks */
            .key_file = ctx->key_file,
            .verify_cb = ctx->verify_cb ? qc_api_verify_trampoline : NULL,
            .verify_user = ctx,
            .early_data = true, /* offered when a resumed session allows 0-RTT */
        };
        ctx->client_tls = qc_tls_ctx_new(&tcfg, err, err_len);
    }
    qc_tls_ctx *t = ctx->client_tls ? qc_tls_ctx_ref(ctx->client_tls) : NULL;
    pthread_mutex_unlock(&ctx->lock);
    return t;
}

void quicc_ctx_set_verify(quicc_ctx *ctx, int mode) {
    ctx->verify_mode = mode;
    ctx_tls_changed(ctx);
}

int quicc_ctx_set_default_verify_paths(quicc_ctx *ctx) {
    ctx->use_default_paths = true;
    return 1;
}

static int set_str(char **dst, const char *src) {
    char *d = src ? qc_strdup(src) : NULL;
    if (src && !d) return 0;
    qc_free(*dst);
    *dst = d;
    return 1;
}

int quicc_ctx_load_verify_file(quicc_ctx *ctx, const char *pem_file) {
    if (!pem_file || access(pem_file, R_OK) != 0) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "cannot read CA file %s",
                        pem_file ? pem_file : "(null)");
        return 0;
    }
    ctx_tls_changed(ctx);
    return set_str(&ctx->ca_file, pem_file);
}

int quicc_ctx_load_verify_dir(quicc_ctx *ctx, const char *dir) {
    if (!ctx || !dir || access(dir, R_OK | X_OK) != 0) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "cannot read CA directory %s",
                        dir ? dir : "(null)");
        return 0;
    }
    ctx_tls_changed(ctx);
    return set_str(&ctx->ca_dir, dir);
}

int quicc_ctx_load_verify_locations(quicc_ctx *ctx, const char *pem_file, const char *dir) {
    if (!pem_file && !dir) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "no CA file and no CA directory");
        return 0;
    }
    if (pem_file && !quicc_ctx_load_verify_file(ctx, pem_file)) return 0;
    return dir ? quicc_ctx_load_verify_dir(ctx, dir) : 1;
}

/* TLS 1.3 suite names as OpenSSL spells them (SSL_CTX_set_ciphersuites). */
static const struct {
    const char *name;
    enum qc_suite suite;
} suite_names[] = {
    {"TLS_AES_128_GCM_SHA256", QC_SUITE_AES_128_GCM_SHA256},
    {"TLS_AES_256_GCM_SHA384", QC_SUITE_AES_256_GCM_SHA384},
    {"TLS_CHACHA20_POLY1305_SHA256", QC_SUITE_CHACHA20_POLY1305_SHA256},
};

int quicc_ctx_set_ciphersuites(quicc_ctx *ctx, const char *list) {
    if (!ctx || !list) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_ctx_set_ciphersuites: NULL");
        return 0;
    }
    unsigned mask = 0;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ":");
        size_t i = 0;
        while (i < QC_ARRAY_LEN(suite_names) &&
               !(strlen(suite_names[i].name) == n && strncmp(p, suite_names[i].name, n) == 0))
            i++;
        if (i == QC_ARRAY_LEN(suite_names)) {
            qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "unknown TLS 1.3 cipher suite %.*s",
                            (int)n, p);
            return 0;
        }
        mask |= 1u << suite_names[i].suite;
        p += n;
        if (*p == ':') p++;
    }
    if (!mask) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "no cipher suite: QUIC needs one");
        return 0;
    }
    ctx->suites = mask;
    ctx_tls_changed(ctx);
    return 1;
}

int quicc_ctx_set_quic_versions(quicc_ctx *ctx, const uint32_t *versions, size_t n) {
    if (!ctx || !versions || n == 0 || n > QC_MAX_VERSIONS) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT,
                        "quicc_ctx_set_quic_versions: 1 to %d versions", QC_MAX_VERSIONS);
        return 0;
    }
    qc_version_list l = {.n = 0};
    for (size_t i = 0; i < n; i++) {
        if (!qc_version_find(versions[i]) || qc_version_list_has(&l, versions[i])) {
            qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "QUIC version 0x%08x: %s",
                            (unsigned)versions[i],
                            qc_version_find(versions[i]) ? "listed twice" : "not supported");
            return 0;
        }
        l.v[l.n++] = versions[i];
    }
    pthread_mutex_lock(&ctx->lock);
    ctx->versions = l;
    pthread_mutex_unlock(&ctx->lock);
    return 1;
}

uint32_t quicc_get_quic_version(const quicc *s) {
    if (!s || !s->c) return 0;
    qc_api_conn *c = s->c;
    pthread_mutex_lock(c->lock);
    uint32_t v = c->engine ? qc_conn_version(c->engine) : 0;
    pthread_mutex_unlock(c->lock);
    return v;
}

int quicc_ctx_use_certificate_chain_file(quicc_ctx *ctx, const char *file) {
    if (!file || access(file, R_OK) != 0) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "cannot read certificate file %s",
                        file ? file : "(null)");
        return 0;
    }
    ctx_tls_changed(ctx);
    return set_str(&ctx->cert_file, file);
}

int quicc_ctx_use_PrivateKey_file(quicc_ctx *ctx, const char *file) {
    if (!file || access(file, R_OK) != 0) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "cannot read key file %s",
                        file ? file : "(null)");
        return 0;
    }
    ctx_tls_changed(ctx);
    return set_str(&ctx->key_file, file);
}

/* A well-formed ALPN wire list: non-empty length-prefixed names, at most cap bytes. */
static bool alpn_valid(const unsigned char *protos, unsigned len, size_t cap) {
    unsigned i = 0;
    while (protos && i < len && protos[i] != 0 && i + 1 + protos[i] <= len)
        i += 1 + protos[i];
    return len > 0 && i == len && len <= cap;
}

/* Returns 0 on success and 1 on failure, as OpenSSL's SSL_CTX_set_alpn_protos does. */
int quicc_ctx_set_alpn_protos(quicc_ctx *ctx, const unsigned char *protos, unsigned int len) {
    if (!ctx || !alpn_valid(protos, len, sizeof(ctx->alpn))) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "malformed ALPN list");
        return 1;
    }
    memcpy(ctx->alpn, protos, len);
    ctx->alpn_len = len;
    return 0;
}

int quicc_ctx_set_keylog_file(quicc_ctx *ctx, const char *path) {
    if (path) {
        /* Opened now too, so that a path that cannot be written fails here, not silently
         * at each handshake. */
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "cannot open key log %s: %s", path,
                            strerror(errno));
            return 0;
        }
        close(fd);
    }
    ctx_tls_changed(ctx);
    return set_str(&ctx->keylog_file, path);
}

/* ---- connection objects ---- */

/* ---- thread-assisted mode: a thread that keeps ticking the connection ---- */

static void *assist_main(void *arg) {
    qc_api_conn *c = arg;
    pthread_mutex_lock(c->lock);
    while (!c->thread_stop && qc_conn_state(c->engine) != QC_CONN_CLOSED && !c->port->net_error)
        qc_api_port_wait(c->port, qc_api_now() + 50 * QC_MS);
    pthread_mutex_unlock(c->lock);
    return NULL;
}

static void thread_start(qc_api_conn *c) {
    if (c->thread_running) return;
    c->thread_stop = false;
    if (pthread_create(&c->thread, NULL, assist_main, c) == 0) c->thread_running = true;
}

static void thread_stop(qc_api_conn *c) {
    if (!c->thread_running) return;
    pthread_mutex_lock(c->lock);
    c->thread_stop = true;
    pthread_mutex_unlock(c->lock);
    pthread_join(c->thread, NULL);
    c->thread_running = false;
}

static void client_conn_free(quicc *s);
static const qc_api_obj_ops client_conn_ops = {.free = client_conn_free};

quicc *quicc_new(quicc_ctx *ctx) {
    if (!ctx) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "NULL context");
        return NULL;
    }
    quicc *s = qc_calloc(1, sizeof(*s));
    qc_api_conn *c = qc_calloc(1, sizeof(*c));
    if (!s || !c) {
        qc_free(s);
        qc_free(c);
        return NULL;
    }
    if (ctx->method == QUICC_SERVER) {
        qc_free(s);
        qc_free(c);
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT,
                        "quicc_new: a server context makes listeners (quicc_new_listener)");
        return NULL;
    }
    c->port = qc_api_port_new();
    if (!c->port) {
        qc_free(s);
        qc_free(c);
        return NULL;
    }
    c->lock = &c->port->lock;
    pthread_mutex_lock(&ctx->lock);
    ctx->refs++;
    pthread_mutex_unlock(&ctx->lock);
    c->ctx = ctx;
    c->obj = s;
    c->idle_timeout_ms = 30000;
    c->default_stream_mode = QUICC_DEFAULT_STREAM_MODE_AUTO_BIDI;
    c->incoming_policy = QUICC_INCOMING_STREAM_POLICY_AUTO;
    c->default_sid = UINT64_MAX;
    c->thread_assisted = ctx->method == QUICC_CLIENT_THREAD;
    s->ops = &client_conn_ops;
    s->kind = QC_OBJ_CONN;
    s->conn_obj = s;
    s->c = c;
    s->sid = UINT64_MAX;
    s->blocking = true;
    return s;
}

void quicc_free(quicc *s) {
    if (s) s->ops->free(s);
}

bool qc_api_conn_close_on_free(qc_api_conn *c) {
    thread_stop(c);
    pthread_mutex_lock(c->lock);
    if (c->engine && qc_conn_state(c->engine) < QC_CONN_CLOSING && c->port->fd >= 0) {
        /* Tell the peer, once, rather than leaving it to time out. */
        qc_ts now = qc_api_now();
        qc_conn_close(c->engine, true, 0, "", now);
        qc_api_conn_flush(c, now);
    }
    bool last = c->nstream_objs == 0;
    if (!last) c->obj_freed = true;
    pthread_mutex_unlock(c->lock);
    return last;
}

/* A client connection object: its port, engine and socket go with it; the server's token
 * stays in the context for the next connection to the same address. */
static void client_conn_free(quicc *s) {
    qc_api_conn *c = s->c;
    if (!qc_api_conn_close_on_free(c)) return; /* streams still live */
    size_t tlen = 0;
    const uint8_t *tok = c->engine ? qc_conn_new_token(c->engine, &tlen) : NULL;
    if (tok && tlen <= sizeof(c->ctx->tokens[0].token)) {
        /* Keep the server's token for the next connection to the same address. */
        quicc_ctx *ctx = c->ctx;
        pthread_mutex_lock(&ctx->lock);
        size_t i = 0;
        while (i < ctx->ntokens && !(ctx->tokens[i].peer.len == c->peer.len &&
                                     !memcmp(&ctx->tokens[i].peer.ss, &c->peer.ss, c->peer.len)))
            i++;
        if (i == ctx->ntokens) {
            if (ctx->ntokens < QC_ARRAY_LEN(ctx->tokens)) ctx->ntokens++;
            i = ctx->ntokens - 1;
        }
        memmove(&ctx->tokens[1], &ctx->tokens[0], i * sizeof(ctx->tokens[0]));
        ctx->tokens[0].peer = c->peer;
        memcpy(ctx->tokens[0].token, tok, tlen);
        ctx->tokens[0].len = tlen;
        ctx->tokens[0].version = qc_conn_version(c->engine);
        pthread_mutex_unlock(&ctx->lock);
    }
    qc_api_port_remove(c->port, c);
    qc_conn_free(c->engine);
    qc_api_qlog_close(c);
    if (c->tls_ctx) qc_tls_ctx_free(c->tls_ctx);
    qc_free(c->sni);
    for (size_t i = 0; i < c->nhosts; i++)
        qc_free(c->hosts[i]);
    qc_free(c->hosts);
    qc_free(c->session);
    ctx_unref(c->ctx);
    qc_api_port_unref(c->port);
    qc_free(c);
    qc_free(s);
}

bool qc_api_need_conn(const quicc *s, const char *fn) {
    if (!s) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "%s: NULL object", fn);
        return false;
    }
    if (s->kind != QC_OBJ_CONN) {
        qc_api_err_push(QUICC_R_CONN_USE_ONLY, "%s: needs a connection object", fn);
        return false;
    }
    return true;
}

bool qc_api_before_connect(quicc *s, const char *fn) {
    if (!qc_api_need_conn(s, fn)) return false;
    if (s->c->started) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "%s: only before connecting", fn);
        return false;
    }
    return true;
}

int quicc_set_fd(quicc *s, int fd) {
    if (quicc_is_listener(s) && fd >= 0 && !s->c->port->listening) {
        s->c->port->fd = fd;
        s->c->port->own_fd = false;
        return 1;
    }
    if (!qc_api_before_connect(s, "quicc_set_fd") || fd < 0) return 0;
    s->c->port->fd = fd;
    s->c->port->own_fd = false;
    return 1;
}

int quicc_get_peer_addr(quicc *s, struct sockaddr_storage *addr, socklen_t *len) {
    if (!s || !addr || !len || !s->c->has_peer) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "no peer address");
        return 0;
    }
    memcpy(addr, &s->c->peer.ss, s->c->peer.len);
    *len = s->c->peer.len;
    return 1;
}

int quicc_set_transport(quicc *s, const quicc_transport *t) {
    if (!s || !t || !t->send || !t->recv || t->fd < 0) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT,
                        "quicc_set_transport: send, recv and a descriptor are needed");
        return 0;
    }
    bool listener = quicc_is_listener(s);
    if (listener ? s->c->port->listening : !qc_api_before_connect(s, "quicc_set_transport")) {
        if (listener)
            qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT,
                            "quicc_set_transport: the listener is listening");
        return 0;
    }
    qc_api_port *p = s->c->port;
    if (p->own_fd && p->fd >= 0) qc_udp_close(p->fd);
    p->transport = *t;
    p->has_transport = true;
    p->fd = t->fd;
    p->own_fd = false;
    return 1;
}

int quicc_get_fd(const quicc *s) {
    return s ? s->c->port->fd : -1;
}

int quicc_set1_initial_peer_addr(quicc *s, const struct sockaddr *addr, socklen_t len) {
    if (!qc_api_before_connect(s, "quicc_set1_initial_peer_addr")) return 0;
    if (!addr || len > sizeof(s->c->peer.ss) ||
        (addr->sa_family != AF_INET && addr->sa_family != AF_INET6)) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "bad peer address");
        return 0;
    }
    memcpy(&s->c->peer.ss, addr, len);
    s->c->peer.len = len;
    s->c->has_peer = true;
    return 1;
}

int quicc_set_tlsext_host_name(quicc *s, const char *name) {
    return qc_api_before_connect(s, "quicc_set_tlsext_host_name") && set_str(&s->c->sni, name);
}

int quicc_add1_host(quicc *s, const char *name) {
    if (!qc_api_before_connect(s, "quicc_add1_host")) return 0;
    qc_api_conn *c = s->c;
    if (!name || !*name || c->nhosts == 16) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT,
                        name && *name ? "at most 16 host names" : "empty host name");
        return 0;
    }
    char **h = qc_realloc(c->hosts, (c->nhosts + 1) * sizeof(*h));
    if (!h) return 0;
    c->hosts = h;
    if (!(c->hosts[c->nhosts] = qc_strdup(name))) return 0;
    c->nhosts++;
    return 1;
}

int quicc_set1_host(quicc *s, const char *name) {
    if (!qc_api_before_connect(s, "quicc_set1_host")) return 0;
    qc_api_conn *c = s->c;
    for (size_t i = 0; i < c->nhosts; i++)
        qc_free(c->hosts[i]);
    c->nhosts = 0;
    return name == NULL || quicc_add1_host(s, name);
}

/* Returns 0 on success and 1 on failure, as OpenSSL's SSL_set_alpn_protos does. */
int quicc_set_alpn_protos(quicc *s, const unsigned char *protos, unsigned int len) {
    if (!qc_api_before_connect(s, "quicc_set_alpn_protos")) return 1;
    if (!alpn_valid(protos, len, sizeof(s->c->alpn))) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "malformed ALPN list");
        return 1;
    }
    memcpy(s->c->alpn, protos, len);
    s->c->alpn_len = len;
    return 0;
}

void quicc_get0_alpn_selected(const quicc *s, const unsigned char **data, unsigned int *len) {
    *data = NULL;
    *len = 0;
    if (!s || !s->c->engine) return;
    const qc_hs *hs = qc_conn_hs(s->c->engine);
    if (!hs) return;
    size_t n = 0;
    const uint8_t *a = hs->ops->alpn(hs->impl, &n);
    *data = a;
    *len = a ? (unsigned)n : 0;
}

int quicc_set_idle_timeout(quicc *s, uint64_t ms) {
    if (!qc_api_before_connect(s, "quicc_set_idle_timeout")) return 0;
    s->c->idle_timeout_ms = ms;
    return 1;
}

int quicc_set_blocking_mode(quicc *s, int blocking) {
    if (!s) return 0;
    s->blocking = blocking != 0;
    return 1;
}

int quicc_get_blocking_mode(const quicc *s) {
    return s ? s->blocking : -1;
}

/* ---- the event loop: the client port's side (port.c runs it) ---- */

static bool addr_eq(const qc_addr *a, const qc_addr *b) {
    if (a->ss.ss_family != b->ss.ss_family) return false;
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)&a->ss, *y = (const void *)&b->ss;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)&a->ss, *y = (const void *)&b->ss;
    return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

/* Applies the incoming-stream policy to streams the peer opened. Lock held. */
void qc_api_apply_incoming_policy(qc_api_conn *c) {
    int policy = c->incoming_policy;
    if (policy == QUICC_INCOMING_STREAM_POLICY_AUTO)
        policy = (c->default_stream_mode == QUICC_DEFAULT_STREAM_MODE_NONE || c->detached_ever)
                     ? QUICC_INCOMING_STREAM_POLICY_ACCEPT
                     : (c->default_sid == UINT64_MAX ? QUICC_INCOMING_STREAM_POLICY_ACCEPT
                                                     : QUICC_INCOMING_STREAM_POLICY_REJECT);
    if (policy != QUICC_INCOMING_STREAM_POLICY_REJECT) return;
    uint64_t sid;
    while (qc_conn_stream_accept(c->engine, &sid)) {
        qc_conn_stream_stop_sending(c->engine, sid, c->incoming_aec);
        if (!qc_sid_is_uni(sid)) qc_conn_stream_reset(c->engine, sid, c->incoming_aec);
        qc_conn_stream_release(c->engine, sid);
    }
}

void qc_api_conn_run(qc_api_conn *c, qc_ts now) {
    if (c->connected) qc_api_apply_incoming_policy(c); /* reject streams as they arrive */
    qc_api_conn_flush(c, now);
}

int quicc_handle_events(quicc *s) {
    if (!s) return 0;
    qc_api_conn *c = s->c;
    pthread_mutex_lock(c->lock);
    qc_api_port_turn(c->port);
    pthread_mutex_unlock(c->lock);
    return 1;
}

int quicc_net_read_desired(const quicc *s) {
    if (!s) return 0;
    pthread_mutex_lock(s->c->lock);
    int r = s->kind == QC_OBJ_LISTENER
                ? s->c->port->listening
                : (s->c->engine && qc_conn_state(s->c->engine) != QC_CONN_CLOSED);
    pthread_mutex_unlock(s->c->lock);
    return r;
}

int quicc_net_write_desired(const quicc *s) {
    if (!s) return 0;
    pthread_mutex_lock(s->c->lock);
    int r = s->c->port->tx_blocked;
    pthread_mutex_unlock(s->c->lock);
    return r;
}

int quicc_inject_net_dgram(quicc *s, const void *buf, size_t len, const struct sockaddr *peer,
                           socklen_t peer_len) {
    if (!s || !buf || len == 0 || len > 65527 ||
        (peer && peer_len > sizeof(struct sockaddr_storage))) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_inject_net_dgram: bad arguments");
        return 0;
    }
    qc_api_conn *c = s->c;
    uint8_t *copy = qc_malloc(len); /* packets are decrypted in place */
    if (!copy) {
        qc_api_err_push(QUICC_R_INTERNAL_ERROR, "out of memory");
        return 0;
    }
    memcpy(copy, buf, len);
    int ok = 1;
    pthread_mutex_lock(c->lock);
    qc_addr from = c->peer;
    if (peer) {
        memset(&from, 0, sizeof(from));
        memcpy(&from.ss, peer, peer_len);
        from.len = peer_len;
    }
    if (!c->port->ops || (c->port->is_server && !c->port->listening))
        ok = 0; /* not started, or a listener not listening */
    else
        qc_api_port_inject(c->port, copy, len, &from);
    pthread_mutex_unlock(c->lock);
    qc_free(copy);
    if (!ok) qc_api_err_push(QUICC_R_NOT_CONNECTED, "nothing to inject into: not started");
    return ok;
}

uint64_t quicc_set_mode(quicc *s, uint64_t mode) {
    if (!s) return 0;
    return s->mode |=
           mode & (QUICC_MODE_ACCEPT_MOVING_WRITE_BUFFER | QUICC_MODE_ENABLE_PARTIAL_WRITE);
}

uint64_t quicc_clear_mode(quicc *s, uint64_t mode) {
    if (!s) return 0;
    return s->mode &= ~mode;
}

uint64_t quicc_get_mode(const quicc *s) {
    return s ? s->mode : 0;
}

int quicc_key_update(quicc *s, int type) {
    if (!qc_api_need_conn(s, "quicc_key_update")) return 0;
    if (type != QUICC_KEY_UPDATE_NOT_REQUESTED && type != QUICC_KEY_UPDATE_REQUESTED) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_key_update: bad arguments");
        return 0;
    }
    qc_api_conn *c = s->c;
    pthread_mutex_lock(c->lock);
    int rv = QC_ERR_AGAIN;
    bool confirmed = c->engine && c->connected && qc_conn_is_confirmed(c->engine) &&
                     qc_conn_state(c->engine) < QC_CONN_CLOSING;
    if (confirmed) rv = qc_conn_initiate_key_update(c->engine);
    if (rv == 0) qc_api_touch(c);
    if (rv == 0 && (s->blocking || !c->explicit_events)) qc_api_port_turn(c->port);
    pthread_mutex_unlock(c->lock);
    if (rv == 0) return 1;
    s->last_error = QUICC_ERROR_SSL;
    if (!confirmed)
        qc_api_err_push(QUICC_R_NOT_CONNECTED, "key update needs a confirmed handshake");
    else
        qc_api_err_push(QUICC_R_KEY_UPDATE_PENDING,
                        "the previous key update is not yet acknowledged by the peer");
    return 0;
}

int quicc_get_event_timeout(quicc *s, struct timeval *tv, int *is_infinite) {
    if (!s || !tv || !is_infinite) return 0;
    qc_api_conn *c = s->c;
    pthread_mutex_lock(c->lock);
    qc_ts t = qc_api_port_next_timeout(c->port);
    pthread_mutex_unlock(c->lock);
    if (t == QC_TS_NONE) {
        *is_infinite = 1;
        tv->tv_sec = tv->tv_usec = 0;
        return 1;
    }
    *is_infinite = 0;
    qc_ts now = qc_api_now();
    qc_ts d = t > now ? t - now : 0;
    tv->tv_sec = (time_t)(d / QC_SEC);
    tv->tv_usec = (suseconds_t)((d % QC_SEC) / QC_US);
    return 1;
}

/* ---- connecting ---- */

/* What an attempt starts with: the session to resume (the application's, or the context's
 * cache) and the server's token for this address. Each is good for the QUIC version it came
 * from only (RFC 9369 §5), so the attempt starts in that version when it is still ours; the
 * session also holds the parameters 0-RTT may rely on. Returns false for a session that
 * does not parse. */
typedef struct start_choice {
    qc_api_session_view sv;
    uint8_t token[sizeof(((quicc_ctx *)0)->tokens[0].token)];
    size_t token_len;
} start_choice;

static bool choose_start(qc_api_conn *c, uint32_t after_vn, qc_conn_config *cfg, start_choice *ch) {
    quicc_ctx *ctx = c->ctx;
    memset(ch, 0, sizeof(*ch));
    pthread_mutex_lock(&ctx->lock);
    bool cache = ctx->sess_cache_mode != 0;
    pthread_mutex_unlock(&ctx->lock);
    if (!c->session && cache)
        c->session =
            qc_api_session_lookup(ctx, qc_api_conn_server_name(c), &c->peer, &c->session_len);
    if (c->session && !qc_api_session_parse(c->session, c->session_len, &ch->sv)) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "the session to resume is not valid");
        return false;
    }
    const qc_api_session_view *sv = &ch->sv;
    pthread_mutex_lock(&ctx->lock);
    if (ctx->versions.n) cfg->versions = ctx->versions;
    cfg->version = after_vn ? after_vn : cfg->versions.v[0];
    if (!after_vn && sv->version && qc_version_list_has(&cfg->versions, sv->version))
        cfg->version = sv->version;
    for (size_t i = 0; !after_vn && i < ctx->ntokens; i++) {
        if (ctx->tokens[i].peer.len == c->peer.len &&
            memcmp(&ctx->tokens[i].peer.ss, &c->peer.ss, c->peer.len) == 0) {
            if (ctx->tokens[i].version == cfg->version ||
                (!sv->version && qc_version_list_has(&cfg->versions, ctx->tokens[i].version))) {
                cfg->version = ctx->tokens[i].version;
                ch->token_len = ctx->tokens[i].len;
                memcpy(ch->token, ctx->tokens[i].token, ch->token_len);
            }
            break;
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    return true;
}

/*
 * The client's engine and TLS session, and its first flight. after_vn: this attempt follows
 * a Version Negotiation packet and uses that version (RFC 9368 §2.1; 0: the first attempt).
 * Lock held.
 */
static int client_engine_start(qc_api_conn *c, uint32_t after_vn) {
    quicc_ctx *ctx = c->ctx;
    qc_conn_config cfg;
    qc_conn_config_default(&cfg, false);
    cfg.crypto = &qc_gnutls_crypto;
    cfg.rand = qc_api_rand;
    cfg.idle_timeout_ms = c->idle_timeout_ms;
    cfg.keepalive_auto = true; /* like OpenSSL: a ticked connection stays alive */
    cfg.after_vn = after_vn != 0;
    start_choice ch;
    if (!choose_start(c, after_vn, &cfg, &ch)) return 0;
    const qc_api_session_view sv = ch.sv;
    if (qc_api_port_buffers(c->port, cfg.max_udp_payload) != 0) {
        qc_api_err_push(QUICC_R_INTERNAL_ERROR, "out of memory");
        return 0;
    }
    qc_cid dcid = {.len = 16}, scid = {.len = (uint8_t)cfg.scid_len};
    qc_api_rand(NULL, dcid.id, dcid.len);
    qc_api_rand(NULL, scid.id, scid.len);
    qc_ts now = qc_api_now();
    qc_api_qlog_open(c, &cfg, &dcid, false, now);
    int rv = qc_conn_new_client(&c->engine, &cfg, &dcid, &scid, now);
    if (rv) {
        qc_api_err_push(QUICC_R_INTERNAL_ERROR, "engine: %s", qc_strerror(rv));
        return 0;
    }
    qc_hs_callbacks cbs;
    qc_conn_hs_callbacks(c->engine, &cbs);
    /* The certificate is checked against the set1_host/add1_host names; without any, against
     * the SNI (OpenSSL would check no name at all). */
    qc_tls_session_config scfg = {
        .sni = c->sni ? c->sni : (c->nhosts ? c->hosts[0] : NULL),
        .verify_hosts = (const char *const *)c->hosts,
        .verify_host_count = c->nhosts,
        .alpn_wire = c->alpn_len ? c->alpn : ctx->alpn,
        .alpn_wire_len = c->alpn_len ? c->alpn_len : ctx->alpn_len,
    };
    qc_hs hs;
    rv = qc_tls_new_ex(c->tls_ctx, &scfg, &cbs, &hs);
    if (rv) {
        qc_api_err_push(QUICC_R_HANDSHAKE_FAILED, "TLS session: %s", qc_strerror(rv));
        return 0;
    }
    pthread_mutex_lock(&ctx->lock);
    bool watch_tickets = ctx->new_session_cb || ctx->sess_cache_mode;
    pthread_mutex_unlock(&ctx->lock);
    if (watch_tickets) qc_tls_set_ticket_cb(&hs, qc_api_on_ticket, c);
    /* A session from another QUIC version resumes nothing (RFC 9369 §5). */
    bool resume = c->session && (!sv.version || sv.version == cfg.version);
    if (resume && sv.tp) (void)qc_conn_set_remembered_tparams(c->engine, sv.tp, sv.tp_len);
    if (resume && qc_tls_set_session(&hs, sv.tls, sv.tls_len) != 0) {
        hs.ops->free(hs.impl);
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "the session to resume is not valid");
        return 0;
    }
    if (ch.token_len) qc_conn_set_token(c->engine, ch.token, ch.token_len);
    rv = qc_conn_set_hs(c->engine, hs);
    if (rv) {
        qc_api_err_push(QUICC_R_INTERNAL_ERROR, "transport parameters: %s", qc_strerror(rv));
        return 0;
    }
    rv = qc_conn_start(c->engine, now);
    if (rv) {
        qc_api_err_push(QUICC_R_HANDSHAKE_FAILED, "TLS start: %s", qc_strerror(rv));
        return 0;
    }
    return 1;
}

/* A Version Negotiation packet listed a version we offer but did not start in: the
 * connection starts again in it (incompatible version negotiation, RFC 9368 §2.1), once,
 * before any stream exists. If that cannot be done the first attempt's failure stands. */
static void client_after_vn(qc_api_conn *c) {
    uint32_t v = qc_conn_vn_retry_version(c->engine);
    if (!v || c->vn_restarted || c->nstream_objs) return;
    c->vn_restarted = true;
    qc_conn *old = c->engine;
    struct qc_api_qlog *old_qlog = c->qlog; /* the first attempt's log goes with it */
    c->engine = NULL;
    c->qlog = NULL;
    bool ok = client_engine_start(c, v) != 0;
    qc_conn_free(ok ? old : c->engine);
    struct qc_api_qlog *keep = ok ? c->qlog : old_qlog;
    c->qlog = ok ? old_qlog : c->qlog;
    qc_api_qlog_close(c);
    c->qlog = keep;
    if (!ok) c->engine = old;
}

/* A client port has one connection: datagrams from its peer go to it (on an unconnected
 * socket others are dropped). */
static qc_api_conn *client_route(qc_api_port *p, qc_udp_dgram *d, qc_ts now) {
    qc_api_conn *c = p->conns;
    if (!c || (!p->connected && !addr_eq(&d->peer, &c->peer))) return NULL;
    qc_conn_recv_ecn(c->engine, d->data, d->len, d->ecn, qc_api_rx_time(p, now, d));
    client_after_vn(c);
    return c;
}

static void client_run(qc_api_port *p, qc_api_conn *c, qc_ts now) {
    (void)p;
    qc_api_conn_run(c, now);
}

/*
 * An ICMP error on the client's connected socket before any packet from the server was
 * accepted: nobody listens there (port unreachable) or the host or network cannot be
 * reached, so the connection attempt fails at once (SYSCALL, errno, QUICC_R_NETWORK_ERROR)
 * rather than at the handshake timeout. Once the server has answered, ICMP errors are
 * ignored: they are unauthenticated, and a forged one must not end a connection.
 */
static void client_unreachable(qc_api_port *p, int err) {
    qc_api_conn *c = p->conns;
    if (!c || !c->engine || !p->connected) return;
    qc_conn_stats st;
    qc_conn_get_stats(c->engine, &st);
    if (st.pkts_recv == 0) p->net_error = err;
}

static const qc_api_port_ops client_port_ops = {
    .route = client_route, .run = client_run, .unreachable = client_unreachable};

/* Creates TLS, socket and engine, and sends the first flight. Lock held. */
static int conn_start(quicc *s) {
    qc_api_conn *c = s->c;
    quicc_ctx *ctx = c->ctx;
    if (c->alpn_len == 0 && ctx->alpn_len == 0) {
        qc_api_err_push(QUICC_R_NO_ALPN, "ALPN must be set before connecting");
        return 0;
    }
    if (!c->has_peer && c->port->fd < 0) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "no peer address and no socket");
        return 0;
    }
    if (!c->has_peer && c->port->has_transport) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT,
                        "a connection over a transport needs quicc_set1_initial_peer_addr");
        return 0;
    }
    if (!c->has_peer) {
        /* A connected socket names its peer. */
        if (qc_udp_peer_addr(c->port->fd, &c->peer) != 0) {
            qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "socket has no peer address");
            return 0;
        }
        c->has_peer = true;
    }
    char err[256] = "";
    c->tls_ctx = qc_api_ctx_client_tls(ctx, err, sizeof(err));
    if (!c->tls_ctx) {
        qc_api_err_push(QUICC_R_HANDSHAKE_FAILED, "TLS setup: %s", err);
        return 0;
    }
    if (c->port->fd < 0) {
        int fd = qc_udp_open(&c->peer, NULL, true);
        if (fd < 0) {
            qc_api_err_push(QUICC_R_NETWORK_ERROR, "socket: %s", strerror(-fd));
            return 0;
        }
        c->port->fd = fd;
        c->port->own_fd = true;
        c->port->connected = true;
    }
    if (c->port->has_transport)
        c->port->connected = true; /* every datagram of the transport is the peer's */
    else
        c->port->udp_features = qc_udp_features(c->port->fd);
    if (!client_engine_start(c, 0)) return 0;
    c->started = true;
    c->port->ops = &client_port_ops;
    if (qc_api_port_add(c->port, c) != 0) {
        qc_api_err_push(QUICC_R_INTERNAL_ERROR, "out of memory");
        return 0;
    }
    /* In 0-RTT mode the ClientHello waits for the first write: they leave together. */
    if (!c->early_mode) qc_api_conn_flush(c, qc_api_now());
    return 1;
}

/* Records why a connection failed or ended, in the error queue. Lock held. */
void qc_api_conn_failure(quicc *s) {
    qc_api_conn *c = s->c;
    if (c->port->net_error) {
        s->last_error = QUICC_ERROR_SYSCALL;
        qc_api_err_push(QUICC_R_NETWORK_ERROR, "network error: %s", strerror(c->port->net_error));
        errno = c->port->net_error; /* as OpenSSL's SSL_ERROR_SYSCALL: errno tells */
        return;
    }
    s->last_error = QUICC_ERROR_SSL;
    const qc_close_info *ci = c->engine ? qc_conn_close_info(c->engine) : NULL;
    if (!ci || !ci->set) {
        qc_api_err_push(QUICC_R_PROTOCOL_IS_SHUTDOWN, "connection is shut down");
        return;
    }
    if (ci->lib_error == QC_ERR_VERIFY) {
        const qc_hs *hs = qc_conn_hs(c->engine);
        const char *why = hs ? qc_tls_verify_error(hs) : NULL;
        c->verify_result = qc_api_verify_code(why);
        qc_api_err_push(QUICC_R_VERIFY_FAILED, "certificate verification failed: %s",
                        quicc_verify_result_string(c->verify_result));
        return;
    }
    if (ci->idle) {
        qc_api_err_push(c->connected ? QUICC_R_PROTOCOL_IS_SHUTDOWN : QUICC_R_IDLE_TIMEOUT,
                        "idle timeout");
        return;
    }
    if (!c->connected) {
        const char *alert = ci->app ? NULL : qc_tls_alert_name(ci->error_code);
        qc_api_err_push(QUICC_R_HANDSHAKE_FAILED, "handshake failed: %s%s%s%s (error 0x%llx%s%.*s)",
                        ci->local ? "" : "peer closed: ",
                        ci->app ? "application close" : qc_transport_error_name(ci->error_code),
                        alert ? ", TLS alert " : "", alert ? alert : "",
                        (unsigned long long)ci->error_code, ci->reason_len ? ": " : "",
                        (int)ci->reason_len, ci->reason);
        return;
    }
    /* After the handshake, a closed connection makes every call fail as shut down (OpenSSL's
     * reason); the text and quicc_get_conn_close_info tell why it closed. */
    qc_api_err_push(QUICC_R_PROTOCOL_IS_SHUTDOWN,
                    "connection closed by %s: %s (error 0x%llx%s%.*s)", ci->local ? "us" : "peer",
                    ci->app ? "application" : qc_transport_error_name(ci->error_code),
                    (unsigned long long)ci->error_code, ci->reason_len ? ": " : "",
                    (int)ci->reason_len, ci->reason);
}

/* The connection is closing, closed or its socket failed. */
static bool conn_over(const qc_api_conn *c) {
    return qc_conn_state(c->engine) >= QC_CONN_CLOSING || c->port->net_error;
}

static bool handshake_over(quicc *s, void *arg) {
    (void)arg;
    return qc_conn_is_established(s->c->engine) || conn_over(s->c);
}

/* Drives the handshake. Lock held. Returns 1 done, 0 failed/would block (last_error set). */
int qc_api_connect_locked(quicc *s) {
    qc_api_conn *c = s->c;
    if (c->connected) return 1;
    if (c->failed) {
        s->last_error = QUICC_ERROR_SSL;
        qc_api_err_push(QUICC_R_PROTOCOL_IS_SHUTDOWN, "connection failed earlier");
        return 0;
    }
    if (!c->started && !conn_start(s)) {
        c->failed = c->started;
        s->last_error = QUICC_ERROR_SSL;
        return 0;
    }
    qc_api_block_until(s, QC_API_WAIT_TURN, handshake_over, NULL, QC_TS_NONE);
    if (qc_conn_is_established(c->engine)) {
        c->connected = true;
        qc_api_conn_established(c);
        if (c->thread_assisted) thread_start(c);
        return 1;
    }
    if (conn_over(c)) {
        c->failed = true;
        qc_api_conn_failure(s);
        return 0;
    }
    s->last_error = QUICC_ERROR_WANT_READ;
    return 0;
}

int quicc_write_early_data(quicc *s, const void *buf, size_t num, size_t *written) {
    if (written) *written = 0;
    if (!qc_api_need_conn(s, "quicc_write_early_data")) return 0;
    if (!buf && num) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_write_early_data: no buffer");
        return 0;
    }
    qc_api_conn *c = s->c;
    pthread_mutex_lock(c->lock);
    bool ok = false;
    if (c->port->is_server || c->connected) {
        qc_api_err_push(QUICC_R_NO_EARLY_DATA,
                        c->connected ? "the handshake is done already" : "0-RTT is the client's");
    } else {
        bool starting = !c->started;
        c->early_mode = true; /* a ClientHello made now waits for the first write */
        if (starting && !conn_start(s)) {
            c->early_mode = false;
            c->failed = c->started;
            s->last_error = QUICC_ERROR_SSL;
        } else if (!c->engine || !qc_conn_early_possible(c->engine)) {
            c->early_mode = false;
            if (starting) qc_api_conn_flush(c, qc_api_now()); /* the ClientHello alone */
            qc_api_err_push(QUICC_R_NO_EARLY_DATA,
                            "0-RTT is not possible: no resumed session that allows it");
        } else {
            ok = true;
        }
    }
    pthread_mutex_unlock(c->lock);
    if (!ok) return 0;
    return num == 0 ? 1 : quicc_write_ex(s, buf, num, written);
}

int quicc_get_early_data_status(const quicc *s) {
    if (!s || s->kind == QC_OBJ_LISTENER || !s->c->engine) return QUICC_EARLY_DATA_NOT_SENT;
    pthread_mutex_lock(s->c->lock);
    qc_conn_stats st;
    qc_conn_get_stats(s->c->engine, &st);
    pthread_mutex_unlock(s->c->lock);
    return st.early_data == QC_EARLY_ACCEPTED   ? QUICC_EARLY_DATA_ACCEPTED
           : st.early_data == QC_EARLY_REJECTED ? QUICC_EARLY_DATA_REJECTED
                                                : QUICC_EARLY_DATA_NOT_SENT;
}

int quicc_ctx_set_max_early_data(quicc_ctx *ctx, uint32_t max_early_data) {
    if (!ctx) return 0;
    pthread_mutex_lock(&ctx->lock);
    ctx->max_early_data = max_early_data;
    pthread_mutex_unlock(&ctx->lock);
    return 1;
}

uint32_t quicc_ctx_get_max_early_data(const quicc_ctx *ctx) {
    return ctx ? ctx->max_early_data : 0;
}

int quicc_connect(quicc *s) {
    if (!qc_api_need_conn(s, "quicc_connect")) return 0;
    pthread_mutex_lock(s->c->lock);
    int r = qc_api_connect_locked(s);
    pthread_mutex_unlock(s->c->lock);
    return r == 1 ? 1 : (s->last_error == QUICC_ERROR_WANT_READ ? -1 : 0);
}

const char *qc_api_conn_server_name(const qc_api_conn *c) {
    return c->sni ? c->sni : c->nhosts ? c->hosts[0] : "";
}

void qc_api_conn_established(qc_api_conn *c) {
    qc_conn_stats st;
    qc_conn_get_stats(c->engine, &st);
    c->handshake_rtt_us = (st.min_rtt ? st.min_rtt : st.srtt) / QC_US;
}

int quicc_do_handshake(quicc *s) {
    return quicc_connect(s);
}

int quicc_want(const quicc *s) {
    if (!s) return QUICC_NOTHING;
    return s->last_error == QUICC_ERROR_WANT_READ    ? QUICC_READING
           : s->last_error == QUICC_ERROR_WANT_WRITE ? QUICC_WRITING
                                                     : QUICC_NOTHING;
}

int quicc_want_read(const quicc *s) {
    return quicc_want(s) == QUICC_READING;
}

int quicc_want_write(const quicc *s) {
    return quicc_want(s) == QUICC_WRITING;
}

int quicc_get_shutdown(const quicc *s) {
    if (!s || s->kind == QC_OBJ_LISTENER) return 0;
    pthread_mutex_lock(s->c->lock);
    const qc_close_info *ci = s->c->engine ? qc_conn_close_info(s->c->engine) : NULL;
    int r = 0;
    if (ci && ci->set) {
        if (ci->idle || ci->stateless_reset)
            r = QUICC_SENT_SHUTDOWN | QUICC_RECEIVED_SHUTDOWN; /* nothing more either way */
        else
            r = ci->local ? QUICC_SENT_SHUTDOWN : QUICC_RECEIVED_SHUTDOWN;
        if (qc_conn_state(s->c->engine) == QC_CONN_DRAINING && ci->local)
            r |= QUICC_RECEIVED_SHUTDOWN; /* the peer's close crossed ours */
    }
    pthread_mutex_unlock(s->c->lock);
    return r;
}

int quicc_get_handshake_rtt(const quicc *s, uint64_t *rtt_us) {
    if (!s || !rtt_us || s->kind == QC_OBJ_LISTENER) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_get_handshake_rtt: bad arguments");
        return 0;
    }
    pthread_mutex_lock(s->c->lock);
    int ok = s->c->connected;
    if (ok) *rtt_us = s->c->handshake_rtt_us;
    pthread_mutex_unlock(s->c->lock);
    return ok;
}

int quicc_get_key_update_type(const quicc *s) {
    if (!s || s->kind == QC_OBJ_LISTENER) return QUICC_KEY_UPDATE_NONE;
    pthread_mutex_lock(s->c->lock);
    bool pending = s->c->engine && qc_conn_key_update_pending(s->c->engine);
    pthread_mutex_unlock(s->c->lock);
    return pending ? QUICC_KEY_UPDATE_REQUESTED : QUICC_KEY_UPDATE_NONE;
}

int quicc_get_error(const quicc *s, int ret) {
    if (ret > 0 || !s) return QUICC_ERROR_NONE;
    return s->last_error ? s->last_error : QUICC_ERROR_SSL;
}

/* ---- close information and shutdown ---- */

/* 1 with the information once the connection terminated, 0 before; -1 on a stream or
 * listener object (CONN_USE_ONLY), as OpenSSL's. */
int quicc_get_conn_close_info(quicc *s, quicc_conn_close_info *info) {
    if (!qc_api_need_conn(s, "quicc_get_conn_close_info")) return -1;
    if (!info) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_get_conn_close_info: NULL info");
        return -1;
    }
    qc_api_conn *c = s->c;
    pthread_mutex_lock(c->lock);
    const qc_close_info *ci = c->engine ? qc_conn_close_info(c->engine) : NULL;
    int ok = ci && ci->set;
    if (ok) {
        info->error_code = ci->error_code;
        info->frame_type = ci->frame_type;
        info->reason = ci->reason;
        info->reason_len = ci->reason_len;
        info->flags = (ci->local ? QUICC_CONN_CLOSE_FLAG_LOCAL : 0) |
                      (ci->app ? 0 : QUICC_CONN_CLOSE_FLAG_TRANSPORT);
    }
    pthread_mutex_unlock(c->lock);
    return ok;
}

/* Flushed: every stream's data acknowledged and the handshake confirmed (a client that
 * closes before HANDSHAKE_DONE would lose the server's NEW_TOKEN, which usually comes with
 * it, and would have to send its close in Handshake packets too: RFC 9000 §10.2.3). */
static bool flushed_or_closing(quicc *s, void *arg) {
    (void)arg;
    const qc_conn *e = s->c->engine;
    return (qc_conn_send_flushed(e) && qc_conn_is_confirmed(e)) ||
           qc_conn_state(e) >= QC_CONN_CLOSING;
}

static bool peer_closing(quicc *s, void *arg) {
    (void)arg;
    return qc_conn_state(s->c->engine) >= QC_CONN_CLOSING;
}

static bool closed(quicc *s, void *arg) {
    (void)arg;
    return qc_conn_state(s->c->engine) == QC_CONN_CLOSED;
}

/*
 * Flushes the streams (unless RAPID or NO_STREAM_FLUSH), waits for the peer to close first
 * (WAIT_PEER), closes, and waits out the closing period. Nonblocking, it returns 0 while
 * any of these is in progress (RAPID too: 0 until the closing period ends), the event
 * timeout saying when to call again; blocking with RAPID it returns 1 once the close is
 * sent. A failed socket ends the wait: nothing more can be sent or received.
 */
int quicc_shutdown_ex(quicc *s, uint64_t flags, const quicc_shutdown_ex_args *args) {
    if (!qc_api_need_conn(s, "quicc_shutdown_ex")) return -1;
    qc_api_conn *c = s->c;
    pthread_mutex_lock(c->lock);
    if (!c->engine || qc_conn_state(c->engine) == QC_CONN_CLOSED) {
        pthread_mutex_unlock(c->lock);
        return 1;
    }
    unsigned wf =
        QC_API_WAIT_TURN | (flags & QUICC_SHUTDOWN_FLAG_NO_BLOCK ? QC_API_WAIT_NO_BLOCK : 0);
    bool block = s->blocking && !(flags & QUICC_SHUTDOWN_FLAG_NO_BLOCK);
    bool flush = !(flags & (QUICC_SHUTDOWN_FLAG_NO_STREAM_FLUSH | QUICC_SHUTDOWN_FLAG_RAPID));
    int ret = 0;
    if (qc_conn_state(c->engine) < QC_CONN_CLOSING) {
        if (flush && c->connected &&
            !qc_api_block_until(s, wf, flushed_or_closing, NULL, qc_api_now() + 10 * QC_SEC) &&
            !block && !c->port->net_error)
            goto out; /* still flushing (blocking: gave up after 10 s) */
        if ((flags & QUICC_SHUTDOWN_FLAG_WAIT_PEER) &&
            !qc_api_block_until(s, wf, peer_closing, NULL, QC_TS_NONE) && !c->port->net_error)
            goto out;
        qc_conn_close(c->engine, true, args ? args->quic_error_code : 0,
                      args && args->quic_reason ? args->quic_reason : "", qc_api_now());
        qc_api_conn_flush(c, qc_api_now());
    }
    if ((flags & QUICC_SHUTDOWN_FLAG_RAPID) && block) {
        ret = 1;
        goto out;
    }
    ret = qc_api_block_until(s, wf, closed, NULL, QC_TS_NONE) || c->port->net_error;
out:
    pthread_mutex_unlock(c->lock);
    return ret;
}

int quicc_shutdown(quicc *s) {
    return quicc_shutdown_ex(s, 0, NULL);
}

_Static_assert(QUICC_QUIC_VERSION_1 == QC_VERSION_1 && QUICC_QUIC_VERSION_2 == QC_VERSION_2 &&
                   QUICC_QUIC_VERSION_2_DRAFT == QC_VERSION_2_DRAFT,
               "public and engine version numbers agree");
