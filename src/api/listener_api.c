/*
 * listener_api.c: the server side of the API. A listener owns a server
 * port: one UDP socket shared by all its connections, the endpoint that
 * routes datagrams by connection ID and answers statelessly (Version
 * Negotiation, Retry, stateless reset), and the queue of connections whose
 * handshake completed, popped by quicc_accept_connection().
 *
 * Connection records (qc_api_conn) on a server port belong to the port: it
 * frees one once the connection is closed and the application has either
 * released it or never accepted it.
 */
#include "api/api_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void ctx_ref(quicc_ctx *ctx) {
    pthread_mutex_lock(&ctx->lock);
    ctx->refs++;
    pthread_mutex_unlock(&ctx->lock);
}

/* The bytes that identify a client's address in tokens: family and IP, not the port (a
 * returning client comes from a new port). */
static size_t addr_key(const qc_addr *a, uint8_t *out) {
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const void *)&a->ss;
        out[0] = 4;
        memcpy(out + 1, &sin->sin_addr, 4);
        return 5;
    }
    const struct sockaddr_in6 *sin6 = (const void *)&a->ss;
    out[0] = 6;
    memcpy(out + 1, &sin6->sin6_addr, 16);
    return 17;
}

static void server_conn_free(quicc *s);
static void listener_free(quicc *l);
static const qc_api_obj_ops server_conn_ops = {.free = server_conn_free};
static const qc_api_obj_ops listener_ops = {.free = listener_free};

/* ---- server connections ---- */

/* The handshakes in progress, oldest first: the first to go when every slot is taken. */
static void pending_push(qc_api_port *p, qc_api_conn *c) {
    c->pend_next = NULL;
    c->pend_prev = p->pend_tail;
    if (p->pend_tail)
        p->pend_tail->pend_next = c;
    else
        p->pend_head = c;
    p->pend_tail = c;
    c->on_pend = true;
}

static void pending_unlink(qc_api_port *p, qc_api_conn *c) {
    if (!c->on_pend) return;
    c->on_pend = false;
    if (c->pend_prev)
        c->pend_prev->pend_next = c->pend_next;
    else
        p->pend_head = c->pend_next;
    if (c->pend_next)
        c->pend_next->pend_prev = c->pend_prev;
    else
        p->pend_tail = c->pend_prev;
}

/* Frees a server connection record. Lock held; the port keeps at least one other reference. */
static void server_conn_destroy(qc_api_port *p, qc_api_conn *c) {
    qc_api_port_remove(p, c);
    for (size_t i = 0; i < p->accept_len; i++)
        if (p->accept_q[i] == c) {
            memmove(&p->accept_q[i], &p->accept_q[i + 1],
                    (p->accept_len - i - 1) * sizeof(*p->accept_q));
            p->accept_len--;
            break;
        }
    qc_endpoint_remove_conn(&p->ep, c);
    qc_endpoint_closed(&p->ep, c->pending, c->addr_key, c->addr_key_len);
    pending_unlink(p, c);
    qc_conn_free(c->engine);
    qc_api_qlog_close(c);
    if (!c->accepted && c->obj) qc_free(c->obj);
    pthread_mutex_lock(&c->ctx->lock);
    c->ctx->refs--;
    pthread_mutex_unlock(&c->ctx->lock);
    p->refs--;
    qc_free(c);
}

static qc_api_conn *server_conn_new(qc_api_port *p, const qc_ep_decision *d, const qc_addr *peer,
                                    qc_ts now) {
    quicc *lobj = p->listener;
    qc_api_conn *lc = lobj->c;
    qc_api_conn *c = qc_calloc(1, sizeof(*c));
    quicc *obj = qc_calloc(1, sizeof(*obj));
    if (!c || !obj) {
        qc_free(c);
        qc_free(obj);
        return NULL;
    }
    ctx_ref(lc->ctx);
    c->ctx = lc->ctx;
    c->port = p;
    p->refs++;
    c->lock = &p->lock;
    c->peer = *peer;
    c->has_peer = true;
    c->addr_key_len = addr_key(peer, c->addr_key);
    c->idle_timeout_ms = lc->idle_timeout_ms;
    c->default_stream_mode = QUICC_DEFAULT_STREAM_MODE_AUTO_BIDI;
    c->incoming_policy = QUICC_INCOMING_STREAM_POLICY_AUTO;
    c->default_sid = UINT64_MAX;
    c->started = true;
    c->pending = true;
    c->binding.ep = &p->ep;
    c->binding.conn = c;
    qc_conn_config cfg;
    qc_conn_config_default(&cfg, true);
    cfg.crypto = &qc_gnutls_crypto;
    cfg.rand = qc_api_rand;
    cfg.versions = p->ep.cfg.versions; /* the listener's: accepted and negotiated alike */
    cfg.idle_timeout_ms = c->idle_timeout_ms;
    /* Half-open handshakes go before the idle timeout (they hold a slot each), but not
     * before a live client's next probe: after four unanswered probes a client waits 16 s
     * (PTO backoff from about 1 s), which 30 % loss each way produces now and then; 10 s
     * cut such a handshake off, and the client's later packets met no one. */
    cfg.handshake_timeout_ms =
        c->idle_timeout_ms && c->idle_timeout_ms < 20000 ? c->idle_timeout_ms : 20000;
    cfg.cid_hooks = qc_endpoint_bind(&c->binding);
    qc_api_qlog_open(c, &cfg, d->has_odcid ? &d->odcid : &d->hdr.dcid, true, now);
    int rv =
        qc_conn_new_server(&c->engine, &cfg, &d->hdr, &d->scid, d->has_odcid ? &d->odcid : NULL,
                           d->has_odcid ? &d->retry_scid : NULL, d->validated, now);
    qc_hs_callbacks cbs;
    qc_hs hs;
    if (rv == 0) {
        qc_conn_hs_callbacks(c->engine, &cbs);
        rv = qc_tls_new(p->tls_ctx, NULL, &cbs, &hs);
        if (rv == 0) rv = qc_conn_set_hs(c->engine, hs); /* takes hs, even when it fails */
        if (rv == 0) rv = qc_endpoint_add(&p->ep, &d->scid, c);
        if (rv == 0) rv = qc_endpoint_add(&p->ep, &d->hdr.dcid, c);
    }
    if (rv) {
        qc_endpoint_remove_conn(&p->ep, c);
        qc_conn_free(c->engine);
        qc_api_qlog_close(c);
        p->refs--;
        pthread_mutex_lock(&c->ctx->lock);
        c->ctx->refs--; /* the listener holds the context, so this never drops to zero */
        pthread_mutex_unlock(&c->ctx->lock);
        qc_endpoint_closed(&p->ep, true, c->addr_key, c->addr_key_len);
        qc_free(c);
        qc_free(obj);
        return NULL;
    }
    obj->ops = &server_conn_ops;
    obj->kind = QC_OBJ_CONN;
    obj->conn_obj = obj;
    obj->c = c;
    obj->sid = UINT64_MAX;
    obj->blocking = lobj->blocking;
    c->obj = obj;
    pending_push(p, c);
    if (qc_api_port_add(p, c) != 0) {
        c->released = true;
        server_conn_destroy(p, c);
        return NULL;
    }
    return c;
}

/* A server connection object: the application is done with it; the port frees the record
 * once the connection is closed. */
static void server_conn_free(quicc *s) {
    qc_api_conn *c = s->c;
    if (!qc_api_conn_close_on_free(c)) return; /* streams still live */
    qc_api_port *p = c->port;
    pthread_mutex_lock(&p->lock);
    c->released = true;
    c->obj = NULL;
    qc_api_touch(c); /* the port frees it once closed */
    pthread_mutex_unlock(&p->lock);
    qc_free(s);
}

/* ---- the server port's side of the event loop (port.c runs it) ---- */

/* Routes one datagram that arrived on a server port: to its connection, to a new
 * connection, or to a stateless reply. Returns the connection that has work. */
static qc_api_conn *server_route(qc_api_port *p, qc_udp_dgram *dg, qc_ts now) {
    uint8_t reply[1500];
    qc_ep_decision d;
    uint8_t key[17];
    size_t klen = addr_key(&dg->peer, key);
    now = qc_api_rx_time(p, now, dg);
    qc_endpoint_decide(&p->ep, dg->data, dg->len, key, klen, now, reply, sizeof(reply), &d);
    qc_api_conn *c = NULL;
    if (d.action == QC_EP_ROUTE) {
        c = d.conn;
    } else if (d.action == QC_EP_REPLY) {
        qc_api_port_reply(p, reply, d.reply_len, &dg->peer);
    } else if (d.action == QC_EP_ACCEPT && !p->listener) {
        qc_endpoint_closed(&p->ep, true, key, klen); /* no listener left to accept it */
    } else if (d.action == QC_EP_ACCEPT) {
        /* Every handshake slot is taken: the oldest half-open connection gives way. */
        if (d.shed_oldest && p->pend_head) server_conn_destroy(p, p->pend_head);
        c = server_conn_new(p, &d, &dg->peer, now);
        if (c && d.bad_token) {
            qc_conn_recv_ecn(c->engine, dg->data, dg->len, dg->ecn, now);
            qc_conn_close(c->engine, false, QC_TE_INVALID_TOKEN, "invalid token", now);
            return c;
        }
    }
    if (!c) return NULL;
    /* With the address it came from: the engine follows a client that moved (NAT
     * rebinding, migration) and says where to send from then on (qc_api_conn_flush). */
    qc_path_addr from;
    qc_addr_to_path(&dg->peer, &from);
    qc_conn_recv_from(c->engine, dg->data, dg->len, dg->ecn, &from, now);
    qc_conn_stats st;
    qc_conn_get_stats(c->engine, &st);
    if (d.action == QC_EP_ACCEPT && st.pkts_recv == 0) {
        /* Its first Initial did not decrypt: a forged or corrupt packet. */
        server_conn_destroy(p, c);
        return NULL;
    }
    return c;
}

/* A server connection whose handshake completed: a token for the client's next connection
 * (it skips address validation), and a place in the accept queue. */
static void server_established(qc_api_port *p, qc_api_conn *c, qc_ts now) {
    c->pending = false;
    c->connected = true;
    qc_api_conn_established(c);
    qc_endpoint_established(&p->ep, c->addr_key, c->addr_key_len);
    pending_unlink(p, c);
    uint8_t key[17], tok[QC_TOKEN_MAX_LEN];
    size_t klen = addr_key(&c->peer, key);
    int tl =
        qc_endpoint_new_token(&p->ep, key, klen, qc_conn_version(c->engine), now, tok, sizeof(tok));
    if (tl > 0) qc_conn_send_new_token(c->engine, tok, (size_t)tl);
    if (c->queued || c->released) return;
    if (p->accept_len == p->accept_cap) {
        size_t ncap = p->accept_cap ? 2 * p->accept_cap : 16;
        qc_api_conn **q = qc_realloc(p->accept_q, ncap * sizeof(*q));
        if (q) {
            p->accept_q = q;
            p->accept_cap = ncap;
        }
    }
    if (p->accept_len < p->accept_cap) {
        p->accept_q[p->accept_len++] = c;
        c->queued = true;
    }
}

static void server_run(qc_api_port *p, qc_api_conn *c, qc_ts now) {
    if (c->pending && qc_conn_is_established(c->engine)) server_established(p, c, now);
    qc_api_conn_run(c, now);
    if (qc_conn_state(c->engine) == QC_CONN_CLOSED && (c->released || !c->accepted))
        server_conn_destroy(p, c);
}

static const qc_api_port_ops server_port_ops = {.route = server_route, .run = server_run};

/* ---- listener objects ---- */

quicc *quicc_new_listener(quicc_ctx *ctx, uint64_t flags) {
    if (!ctx || ctx->method != QUICC_SERVER) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT,
                        "quicc_new_listener needs a QUICC_SERVER context");
        return NULL;
    }
    quicc *l = qc_calloc(1, sizeof(*l));
    qc_api_conn *c = qc_calloc(1, sizeof(*c));
    qc_api_port *p = qc_api_port_new();
    if (!l || !c || !p) {
        qc_free(l);
        qc_free(c);
        qc_free(p);
        return NULL;
    }
    ctx_ref(ctx);
    c->ctx = ctx;
    c->port = p;
    c->lock = &p->lock;
    c->idle_timeout_ms = 30000;
    c->default_sid = UINT64_MAX;
    p->is_server = true;
    p->listener = l;
    qc_endpoint_config_default(&p->ep.cfg);
    pthread_mutex_lock(&ctx->lock);
    if (ctx->versions.n) p->ep.cfg.versions = ctx->versions;
    pthread_mutex_unlock(&ctx->lock);
    p->ep.cfg.retry = (flags & QUICC_LISTENER_FLAG_RETRY)      ? QC_RETRY_ALWAYS
                      : (flags & QUICC_LISTENER_FLAG_NO_RETRY) ? QC_RETRY_NEVER
                                                               : QC_RETRY_AUTO;
    l->ops = &listener_ops;
    l->kind = QC_OBJ_LISTENER;
    l->conn_obj = l;
    l->c = c;
    l->sid = UINT64_MAX;
    l->blocking = true;
    return l;
}

int quicc_is_listener(const quicc *s) {
    return s && s->kind == QC_OBJ_LISTENER;
}

quicc *quicc_get0_listener(quicc *s) {
    if (!s) return NULL;
    return s->c->port->is_server ? s->c->port->listener : NULL;
}

int quicc_listen(quicc *l) {
    if (!quicc_is_listener(l)) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_listen needs a listener");
        return 0;
    }
    qc_api_conn *lc = l->c;
    qc_api_port *p = lc->port;
    quicc_ctx *ctx = lc->ctx;
    if (p->listening) return 1;
    if (p->fd < 0) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "no socket: use quicc_set_fd first");
        return 0;
    }
    if (!ctx->cert_file || !ctx->key_file || !ctx->alpn_len) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT,
                        "a server needs a certificate, a key and ALPN protocols");
        return 0;
    }
    const char *alpns[32];
    char names[32][256];
    size_t n = 0;
    for (size_t i = 0; i < ctx->alpn_len && n < 32; i += 1 + ctx->alpn[i]) {
        memcpy(names[n], ctx->alpn + i + 1, ctx->alpn[i]);
        names[n][ctx->alpn[i]] = 0;
        alpns[n] = names[n];
        n++;
    }
    qc_tls_ctx_config tc = {.is_server = true,
                            .early_data = ctx->max_early_data != 0,
                            .alpn = alpns,
                            .alpn_count = n,
                            .cert_file = ctx->cert_file,
                            .key_file = ctx->key_file,
                            .keylog_file = ctx->keylog_file,
                            /* Client certificates: asked for with QUICC_VERIFY_PEER, required
                             * with FAIL_IF_NO_PEER_CERT, checked against the trust store. */
                            .request_peer_cert = ctx->verify_mode & QUICC_VERIFY_PEER,
                            .require_peer_cert =
                                (ctx->verify_mode & QUICC_VERIFY_PEER) &&
                                (ctx->verify_mode & QUICC_VERIFY_FAIL_IF_NO_PEER_CERT),
                            .ca_file = ctx->ca_file,
                            .ca_dir = ctx->ca_dir,
                            .verify_cb = ctx->verify_cb ? qc_api_verify_trampoline : NULL,
                            .verify_user = ctx};
    char err[256] = "";
    p->tls_ctx = qc_tls_ctx_new(&tc, err, sizeof(err));
    if (!p->tls_ctx) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "TLS setup: %s", err);
        return 0;
    }
    qc_endpoint_config ecfg = p->ep.cfg;
    ecfg.cp = &qc_gnutls_crypto;
    ecfg.rand = qc_api_rand;
    qc_api_rand(NULL, ecfg.secret, sizeof(ecfg.secret));
    if (qc_endpoint_init(&p->ep, &ecfg) != 0 || qc_api_port_buffers(p, 1452) != 0) {
        qc_api_err_push(QUICC_R_INTERNAL_ERROR, "listener setup failed");
        return 0;
    }
    p->ep_ready = true;
    if (!p->has_transport) p->udp_features = qc_udp_features(p->fd);
    p->ops = &server_port_ops;
    p->listening = true;
    return 1;
}

static bool can_accept(quicc *l, void *arg) {
    (void)arg;
    return l->c->port->accept_len > 0 || l->c->port->net_error;
}

quicc *quicc_accept_connection(quicc *l, uint64_t flags) {
    if (!quicc_is_listener(l)) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT,
                        "quicc_accept_connection needs a listener");
        return NULL;
    }
    qc_api_port *p = l->c->port;
    pthread_mutex_lock(&p->lock);
    quicc *ret = NULL;
    if (!p->listening) {
        l->last_error = QUICC_ERROR_SSL;
        qc_api_err_push(QUICC_R_NOT_CONNECTED, "the listener is not listening");
        goto out;
    }
    qc_api_block_until(l, flags & QUICC_ACCEPT_CONNECTION_NO_BLOCK ? QC_API_WAIT_NO_BLOCK : 0,
                       can_accept, NULL, QC_TS_NONE);
    if (p->accept_len > 0) {
        qc_api_conn *c = p->accept_q[0];
        memmove(&p->accept_q[0], &p->accept_q[1], (p->accept_len - 1) * sizeof(*p->accept_q));
        p->accept_len--;
        c->accepted = true;
        ret = c->obj;
    } else if (p->net_error) {
        l->last_error = QUICC_ERROR_SYSCALL;
        qc_api_err_push(QUICC_R_NETWORK_ERROR, "listener socket: %s", strerror(p->net_error));
    } else {
        l->last_error = QUICC_ERROR_WANT_READ;
    }
out:
    pthread_mutex_unlock(&p->lock);
    return ret;
}

size_t quicc_get_accept_connection_queue_len(quicc *l) {
    if (!quicc_is_listener(l)) return 0;
    pthread_mutex_lock(&l->c->port->lock);
    size_t n = l->c->port->accept_len;
    pthread_mutex_unlock(&l->c->port->lock);
    return n;
}

static void listener_free(quicc *l) {
    qc_api_conn *lc = l->c;
    qc_api_port *p = lc->port;
    pthread_mutex_lock(&p->lock);
    /* Connections never handed out go now (with a CONNECTION_CLOSE); accepted ones live on
     * until the application frees them. */
    qc_ts now = qc_api_now();
    qc_api_conn *next;
    for (qc_api_conn *c = p->conns; c; c = next) {
        next = c->port_next;
        if (c->accepted && !c->released) continue;
        qc_conn_close(c->engine, true, 0, "", now);
        qc_api_conn_flush(c, now);
        server_conn_destroy(p, c);
    }
    p->listening = p->conns != NULL;
    p->listener = NULL;
    pthread_mutex_unlock(&p->lock);
    quicc_ctx_free(lc->ctx);
    qc_free(lc);
    qc_free(l);
    qc_api_port_unref(p);
}
