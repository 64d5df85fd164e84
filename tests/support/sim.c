/* sim.c: the in-process network simulator (see sim.h). */
#include "support/sim.h"

#include "core/ecn.h"

#include "core/conn_internal.h"
#include "core/crypto.h"
#include "core/packet.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t xorshift(uint64_t *x) {
    uint64_t v = *x;
    v ^= v << 13;
    v ^= v >> 7;
    v ^= v << 17;
    *x = v;
    return v;
}

uint64_t sim_rand64(sim *s) {
    return xorshift(&s->rng);
}
double sim_rand01(sim *s) {
    return (double)(sim_rand64(s) >> 11) / (double)(1ull << 53);
}

static void sim_engine_rand(void *user, uint8_t *buf, size_t len) {
    sim *s = user;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(sim_rand64(s) >> 32);
}

static void trace_mix(sim *s, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        s->trace ^= (v >> (8 * i)) & 0xff;
        s->trace *= 0x100000001b3ull;
    }
}

/* ---- heap of pending datagrams ---- */

static bool before(const sim_dgram *a, const sim_dgram *b) {
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void heap_push(sim *s, sim_dgram *d) {
    if (s->qn == s->qcap) {
        s->qcap = s->qcap ? s->qcap * 2 : 256;
        s->q = realloc(s->q, s->qcap * sizeof(*s->q));
    }
    size_t i = s->qn++;
    s->q[i] = d;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(s->q[i], s->q[p])) break;
        sim_dgram *t = s->q[i];
        s->q[i] = s->q[p];
        s->q[p] = t;
        i = p;
    }
}

static sim_dgram *heap_pop(sim *s) {
    sim_dgram *top = s->q[0];
    s->q[0] = s->q[--s->qn];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->qn && before(s->q[l], s->q[m])) m = l;
        if (r < s->qn && before(s->q[r], s->q[m])) m = r;
        if (m == i) break;
        sim_dgram *t = s->q[i];
        s->q[i] = s->q[m];
        s->q[m] = t;
        i = m;
    }
    return top;
}

/* ---- setup ---- */

/* The two TLS contexts, with the certificate in s->dir. */
static int make_tls(sim *s, bool early_data) {
    char cert[300], key[300], err[256];
    snprintf(cert, sizeof(cert), "%s/cert.pem", s->dir);
    snprintf(key, sizeof(key), "%s/key.pem", s->dir);
    const char *alpns[] = {s->alpn};
    qc_tls_ctx_config sc = {.is_server = true,
                            .alpn = alpns,
                            .alpn_count = 1,
                            .cert_file = cert,
                            .key_file = key,
                            .early_data = early_data};
    qc_tls_ctx_config cc = {.is_server = false,
                            .alpn = alpns,
                            .alpn_count = 1,
                            .verify_peer = true,
                            .ca_file = cert,
                            .early_data = early_data};
    if (s->tls_server) qc_tls_ctx_free(s->tls_server);
    if (s->tls_client) qc_tls_ctx_free(s->tls_client);
    s->tls_server = qc_tls_ctx_new(&sc, err, sizeof(err));
    s->tls_client = qc_tls_ctx_new(&cc, err, sizeof(err));
    if (!s->tls_server || !s->tls_client) {
        fprintf(stderr, "sim: TLS context: %s\n", err);
        return -1;
    }
    return 0;
}

int sim_enable_early_data(sim *s) {
    return make_tls(s, true);
}

int sim_init(sim *s, uint64_t seed, const char *alpn) {
    memset(s, 0, sizeof(*s));
    s->rng = seed ? seed : 1;
    s->trace = 0xcbf29ce484222325ull;
    s->now = 1 * QC_SEC;
    for (int i = 0; i < 2; i++)
        s->link[i].delay = 10 * QC_MS;
    s->client_addr = (qc_path_addr){.ip = {10, 0, 0, 1}, .ip_len = 4, .port = 12345};
    snprintf(s->dir, sizeof(s->dir), "/tmp/quicc-sim-XXXXXX");
    if (!mkdtemp(s->dir)) return -1;
    char cert[300], key[300], err[256];
    snprintf(cert, sizeof(cert), "%s/cert.pem", s->dir);
    snprintf(key, sizeof(key), "%s/key.pem", s->dir);
    const char *names[] = {"localhost"};
    const char *ips[] = {"127.0.0.1"};
    int64_t nowt = (int64_t)time(NULL);
    if (qc_tls_generate_selfsigned_ed25519(cert, key, names, 1, ips, 1, nowt - 3600, nowt + 86400,
                                           err, sizeof(err)) != 0) {
        fprintf(stderr, "sim: certificate: %s\n", err);
        return -1;
    }
    snprintf(s->alpn, sizeof(s->alpn), "%s", alpn);
    if (make_tls(s, false) != 0) return -1;
    qc_conn_config_default(&s->ccfg, false);
    qc_conn_config_default(&s->scfg, true);
    s->ccfg.crypto = s->scfg.crypto = &qc_gnutls_crypto;
    s->ccfg.rand = s->scfg.rand = sim_engine_rand;
    s->ccfg.rand_user = s->scfg.rand_user = s;
    qc_endpoint_config_default(&s->epcfg);
    s->epcfg.cp = &qc_gnutls_crypto;
    s->epcfg.rand = sim_engine_rand;
    s->epcfg.rand_user = s;
    for (int i = 0; i < 32; i++)
        s->epcfg.secret[i] = (uint8_t)(i * 7 + 1);
    return 0;
}

void sim_free(sim *s) {
    qc_conn_free(s->client);
    qc_conn_free(s->server);
    if (s->ep_ready) qc_endpoint_free(&s->ep);
    if (s->tls_client) qc_tls_ctx_free(s->tls_client);
    if (s->tls_server) qc_tls_ctx_free(s->tls_server);
    while (s->qn)
        free(heap_pop(s));
    free(s->q);
    char path[300];
    snprintf(path, sizeof(path), "%s/cert.pem", s->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/key.pem", s->dir);
    unlink(path);
    rmdir(s->dir);
}

void sim_reset(sim *s, uint64_t seed) {
    qc_conn_free(s->client);
    qc_conn_free(s->server);
    s->client = s->server = NULL;
    if (s->ep_ready) qc_endpoint_free(&s->ep);
    s->ep_ready = false;
    while (s->qn)
        free(heap_pop(s));
    s->rng = seed ? seed : 1;
    s->trace = 0xcbf29ce484222325ull;
    s->now = 1 * QC_SEC;
    s->seq = 0;
    s->retry_sent = false;
    memset(s->link_free, 0, sizeof(s->link_free));
    memset(s->dgrams, 0, sizeof(s->dgrams));
    memset(s->dropped, 0, sizeof(s->dropped));
    memset(&s->binding, 0, sizeof(s->binding));
}

size_t sim_seal(qc_conn *from, enum qc_epoch ep, const uint8_t *frames, size_t n, uint8_t *out,
                size_t cap) {
    return sim_seal_bits(from, ep, 0, frames, n, out, cap);
}

size_t sim_seal_bits(qc_conn *from, enum qc_epoch ep, uint8_t first_or, const uint8_t *frames,
                     size_t n, uint8_t *out, size_t cap) {
    if (ep >= QC_EPOCH_COUNT || !from->keys.has_tx[ep]) return 0;
    if (ep == QC_EPOCH_0RTT) return 0;
    enum qc_pn_space sp = qc_epoch_space(ep);
    enum qc_pkt_type pt = ep == QC_EPOCH_INITIAL
                              ? QC_PT_INITIAL
                              : (ep == QC_EPOCH_HANDSHAKE ? QC_PT_HANDSHAKE : QC_PT_1RTT);
    qc_pkt_out po = {.type = pt,
                     .version = from->version,
                     .dcid = qc_cids_peer_current(&from->cids),
                     .scid = &from->cids.local[0].cid,
                     .pn = from->spaces[sp].next_pn++,
                     .pn_len = 4,
                     .key_phase = from->keys.tx_phase};
    if (pt == QC_PT_INITIAL && !from->is_server) {
        po.token = from->ids.token;
        po.token_len = from->ids.token_len;
    }
    size_t pn_off, hl = qc_pkt_write_hdr(out, cap, &po, &pn_off);
    if (!hl) return 0;
    size_t payload = n; /* with a 4-byte packet number the tag completes the sample */
    if (pt == QC_PT_INITIAL && !from->is_server && hl + payload + QC_AEAD_TAG_LEN < 1200)
        payload = 1200 - hl - QC_AEAD_TAG_LEN;
    if (hl + payload + QC_AEAD_TAG_LEN > cap) return 0;
    memcpy(out + hl, frames, n);
    memset(out + hl + n, 0, payload - n); /* PADDING */
    if (qc_pkt_is_long(pt)) qc_pkt_set_length(out, pn_off, 4 + payload + QC_AEAD_TAG_LEN);
    out[0] |= first_or;
    qc_keys *k = ep == QC_EPOCH_1RTT ? &from->keys.tx[QC_EPOCH_1RTT] : &from->keys.tx[ep];
    if (qc_packet_protect(from->cp, k, out, pn_off, 4, po.pn, payload)) return 0;
    /* from's recovery records the packet (not in flight), so that the victim may acknowledge
     * it without from taking that for an ACK of a packet never sent */
    qc_sent_pkt *rec = qc_recovery_next(&from->rec, sp);
    if (rec) {
        rec->pn = po.pn;
        rec->size = (uint32_t)(hl + payload + QC_AEAD_TAG_LEN);
        rec->ack_eliciting = 0;
        rec->in_flight = 0;
        rec->nframes = 0;
        qc_recovery_on_sent(&from->rec, sp, rec, from->timers.last_activity);
    }
    return hl + payload + QC_AEAD_TAG_LEN;
}

int sim_listen(sim *s) {
    if (s->ep_ready) return 0;
    if (s->retry)
        s->epcfg.retry = QC_RETRY_ALWAYS;
    else if (s->epcfg.retry == QC_RETRY_AUTO)
        s->epcfg.retry = QC_RETRY_NEVER;
    if (qc_endpoint_init(&s->ep, &s->epcfg) != 0) return -1;
    s->ep_ready = true;
    return 0;
}

int sim_start_resumed(sim *s, const uint8_t *session, size_t len, const uint8_t *tp,
                      size_t tp_len) {
    if (sim_listen(s) != 0) return -1;
    qc_cid dcid = {.len = 16}, scid = {.len = (uint8_t)s->ccfg.scid_len};
    sim_engine_rand(s, dcid.id, dcid.len);
    sim_engine_rand(s, scid.id, scid.len);
    s->client_odcid = dcid;
    if (qc_conn_new_client(&s->client, &s->ccfg, &dcid, &scid, s->now)) return -1;
    if (tp && qc_conn_set_remembered_tparams(s->client, tp, tp_len)) return -1;
    qc_hs_callbacks cbs;
    qc_conn_hs_callbacks(s->client, &cbs);
    qc_hs hs;
    if (qc_tls_new(s->tls_client, "localhost", &cbs, &hs)) return -1;
    if (session && qc_tls_set_session(&hs, session, len)) {
        hs.ops->free(hs.impl);
        return -1;
    }
    if (qc_conn_set_hs(s->client, hs)) return -1;
    return qc_conn_start(s->client, s->now);
}

int sim_start(sim *s) {
    return sim_start_resumed(s, NULL, 0, NULL, 0);
}

/* ---- the listener role for the server side: the endpoint decides ---- */

static void enqueue(sim *s, int to_server, const uint8_t *data, size_t len, unsigned ecn);

static const uint8_t sim_client_addr[] = {2, 10, 0, 0, 1, 0x30, 0x39};

static bool reply_is_retry(const uint8_t *out, size_t len) {
    qc_pkt_hdr h;
    return qc_pkt_parse(out, len, 0, &h) == 0 && h.type == QC_PT_RETRY;
}

/* Returns the connection the datagram goes to (NULL: handled or dropped). */
static qc_conn *server_dispatch(sim *s, uint8_t *data, size_t len) {
    uint8_t out[1500];
    qc_ep_decision d;
    qc_endpoint_decide(&s->ep, data, len, sim_client_addr, sizeof(sim_client_addr), s->now, out,
                       sizeof(out), &d);
    switch (d.action) {
    case QC_EP_ROUTE:
        return d.conn;
    case QC_EP_REPLY:
        if (reply_is_retry(out, d.reply_len)) s->retry_sent = true;
        s->enqueue_addr = s->client_addr;
        enqueue(s, 0, out, d.reply_len, QC_ECN_NOT_ECT);
        return NULL;
    case QC_EP_ACCEPT:
        break;
    default:
        return NULL;
    }
    if (s->server) {
        qc_endpoint_closed(&s->ep, true, sim_client_addr, sizeof(sim_client_addr)); /* one only */
        return NULL;
    }
    s->binding.ep = &s->ep;
    s->scfg.cid_hooks = qc_endpoint_bind(&s->binding);
    if (qc_conn_new_server(&s->server, &s->scfg, &d.hdr, &d.scid, d.has_odcid ? &d.odcid : NULL,
                           d.has_odcid ? &d.retry_scid : NULL, d.validated, s->now))
        return NULL;
    s->binding.conn = s->server;
    qc_hs_callbacks cbs;
    qc_conn_hs_callbacks(s->server, &cbs);
    qc_hs hs;
    if (qc_tls_new(s->tls_server, NULL, &cbs, &hs) || qc_conn_set_hs(s->server, hs) ||
        qc_endpoint_add(&s->ep, &d.scid, s->server) ||
        qc_endpoint_add(&s->ep, &d.hdr.dcid, s->server)) {
        qc_endpoint_remove_conn(&s->ep, s->server);
        qc_endpoint_closed(&s->ep, true, sim_client_addr, sizeof(sim_client_addr));
        qc_conn_free(s->server);
        s->server = NULL;
        return NULL;
    }
    if (d.bad_token) {
        /* An invalid Retry token: read the Initial (for the keys and the amplification
         * budget), then close with INVALID_TOKEN. */
        qc_conn_recv(s->server, data, len, s->now);
        qc_conn_fail(s->server, QC_ERR_INVALID_TOKEN, 0, "invalid Retry token", s->now);
        return NULL;
    }
    return s->server;
}

/* ---- the links ---- */

static void enqueue(sim *s, int to_server, const uint8_t *data, size_t len, unsigned ecn) {
    int dir = to_server ? 0 : 1;
    sim_link *l = &s->link[dir];
    s->dgrams[dir]++;
    uint64_t fate = 0;
    if (l->burst_left) {
        l->burst_left--;
        s->dropped[dir]++;
        fate = 1;
    } else if (len > sizeof(((sim_dgram *)0)->data) || sim_rand01(s) < l->loss) {
        if (l->burst > 1) l->burst_left = (unsigned)(sim_rand64(s) % l->burst);
        s->dropped[dir]++;
        fate = 1;
    }
    qc_ts at = s->now;
    if (!fate && l->rate_bps) {
        /* Serialize at the bottleneck: the link is busy until link_free. */
        qc_ts start = QC_MAX(s->now, s->link_free[dir]);
        size_t qlimit = l->queue_bytes ? l->queue_bytes : (1u << 20);
        qc_ts backlog = start - s->now;
        if ((double)backlog * (double)l->rate_bps / 8e9 > (double)qlimit) {
            s->dropped[dir]++;
            fate = 2;
        } else {
            qc_ts tx = (qc_ts)((double)len * 8e9 / (double)l->rate_bps);
            s->link_free[dir] = start + tx;
            at = start + tx;
        }
    }
    if (getenv("SIM_TRACE"))
        printf("%8.3f send %s %4zu first=%02x%s\n", (double)s->now / 1e9 - 1,
               to_server ? "c->s" : "s->c", len, data[0], fate ? " LOST" : "");
    trace_mix(s, s->now);
    trace_mix(s, ((uint64_t)dir << 32) | len);
    trace_mix(s, fate);
    if (fate) return;
    at += l->delay;
    if (l->bleach) ecn = QC_ECN_NOT_ECT;
    if ((ecn == QC_ECN_ECT0 || ecn == QC_ECN_ECT1) && l->ce > 0 && sim_rand01(s) < l->ce) {
        ecn = QC_ECN_CE;
        s->ce_marked[dir]++;
    }
    int copies = sim_rand01(s) < l->dup ? 2 : 1;
    for (int i = 0; i < copies; i++) {
        sim_dgram *d = malloc(sizeof(*d));
        d->at = at + (sim_rand01(s) < l->reorder ? l->reorder_delay : 0) + (qc_ts)i * QC_US;
        d->seq = s->seq++;
        d->to_server = to_server;
        d->ecn = (uint8_t)ecn;
        d->addr = s->enqueue_addr;
        d->len = len;
        memcpy(d->data, data, len);
        heap_push(s, d);
    }
}

static void flush(sim *s, qc_conn *c, int to_server) {
    uint8_t buf[1500];
    if (s->paths && !to_server) {
        qc_path_addr to;
        int n = qc_conn_send_probe(c, buf, sizeof(buf), &to, s->now);
        if (n > 0) {
            s->enqueue_addr = to;
            enqueue(s, 0, buf, (size_t)n, QC_ECN_NOT_ECT);
        }
    }
    for (int i = 0; i < 10000; i++) {
        unsigned ecn = qc_conn_ecn_mark(c);
        unsigned challenges = c->path.val.challenges;
        int n = qc_conn_send(c, buf, sizeof(buf), s->now);
        if (n <= 0) break;
        /* The server sends to its active path; the client from its current address. */
        s->enqueue_addr = to_server ? s->client_addr : *qc_conn_peer_addr(c);
        if (!to_server && s->paths) {
            if (s->server_last_dst.ip_len &&
                !qc_path_addr_eq(&s->server_last_dst, &s->enqueue_addr)) {
                s->new_path_first++;
                if (c->path.val.challenges != challenges) s->new_path_first_challenged++;
            }
            s->server_last_dst = s->enqueue_addr;
        }
        enqueue(s, to_server, buf, (size_t)n, ecn);
    }
}

static void deliver(sim *s, sim_dgram *d) {
    size_t len = d->len;
    if (s->tap && !s->tap(s, d->to_server, d->data, &len, s->tap_user)) return;
    if (d->to_server) {
        qc_conn *c = server_dispatch(s, d->data, len);
        if (c && s->paths)
            qc_conn_recv_from(c, d->data, len, d->ecn, &d->addr, s->now);
        else if (c)
            qc_conn_recv_ecn(c, d->data, len, d->ecn, s->now);
    } else if (s->client) {
        bool reaches = !s->paths || !d->addr.ip_len || qc_path_addr_eq(&d->addr, &s->client_addr) ||
                       (s->recv_also.ip_len && qc_path_addr_eq(&d->addr, &s->recv_also));
        if (!reaches) {
            s->sent_to_other[0]++;
            return; /* the NAT no longer maps that address */
        }
        qc_conn_recv_ecn(s->client, d->data, len, d->ecn, s->now);
    }
}

void sim_inject_from(sim *s, uint8_t *data, size_t len, const qc_path_addr *addr) {
    qc_conn *c = server_dispatch(s, data, len);
    if (c) qc_conn_recv_from(c, data, len, QC_ECN_NOT_ECT, addr, s->now);
}

void sim_inject(sim *s, int to_server, uint8_t *data, size_t len) {
    if (to_server) {
        qc_conn *c = server_dispatch(s, data, len);
        if (c) qc_conn_recv(c, data, len, s->now);
    } else if (s->client) {
        qc_conn_recv(s->client, data, len, s->now);
    }
}

bool sim_run(sim *s, qc_ts limit, bool (*cond)(sim *s, void *user), void *user) {
    for (long iter = 0; iter < 50000000; iter++) {
        if (cond && cond(s, user)) return true;
        if (s->client) flush(s, s->client, 1);
        if (s->server) flush(s, s->server, 0);
        qc_ts next = QC_TS_NONE;
        if (s->qn) next = s->q[0]->at;
        if (s->client) next = QC_MIN(next, qc_conn_next_timeout(s->client));
        if (s->server) next = QC_MIN(next, qc_conn_next_timeout(s->server));
        if (next == QC_TS_NONE || next > limit) {
            /* Nothing happens before the limit: the clock moves to it. */
            if (limit != QC_TS_NONE && limit > s->now) s->now = limit;
            return cond ? cond(s, user) : false;
        }
        if (next > s->now) s->now = next;
        while (s->qn && s->q[0]->at <= s->now) {
            sim_dgram *d = heap_pop(s);
            deliver(s, d);
            free(d);
        }
        if (s->client && qc_conn_next_timeout(s->client) <= s->now)
            qc_conn_on_timeout(s->client, s->now);
        if (s->server && qc_conn_next_timeout(s->server) <= s->now)
            qc_conn_on_timeout(s->server, s->now);
    }
    return false;
}

bool sim_cond_established(sim *s, void *user) {
    (void)user;
    return s->client && s->server && qc_conn_is_confirmed(s->client) &&
           qc_conn_is_confirmed(s->server);
}

bool sim_cond_both_closed(sim *s, void *user) {
    (void)user;
    return (!s->client || qc_conn_state(s->client) == QC_CONN_CLOSED) &&
           (!s->server || qc_conn_state(s->server) == QC_CONN_CLOSED);
}

/* ---- hashing and data patterns ---- */

void sim_hash_init(sim_hash *h) {
    gnutls_hash_hd_t hd;
    gnutls_hash_init(&hd, GNUTLS_DIG_SHA256);
    h->h = hd;
}

void sim_hash_update(sim_hash *h, const void *data, size_t len) {
    gnutls_hash((gnutls_hash_hd_t)h->h, data, len);
}

void sim_hash_final(sim_hash *h, uint8_t out[32]) {
    gnutls_hash_deinit((gnutls_hash_hd_t)h->h, out);
    h->h = NULL;
}

void sim_pattern(uint8_t *buf, size_t len, uint64_t offset, uint64_t key) {
    for (size_t i = 0; i < len; i++) {
        uint64_t x = (offset + i) / 8 * 0x9e3779b97f4a7c15ull ^ key;
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ull;
        x ^= x >> 32;
        buf[i] = (uint8_t)(x >> (8 * ((offset + i) % 8)));
    }
}

/* ---- the request/response application ---- */

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}
static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

void sim_app_init(sim_app *a, size_t n, uint64_t size, size_t max_parallel) {
    memset(a, 0, sizeof(*a));
    a->reqs = calloc(n, sizeof(*a->reqs));
    a->n = n;
    a->max_parallel = max_parallel ? max_parallel : n;
    uint8_t chunk[4096];
    for (size_t i = 0; i < n; i++) {
        sim_req *r = &a->reqs[i];
        r->size = size;
        r->key = 0x1234 + i;
        sim_hash h;
        sim_hash_init(&h);
        for (uint64_t off = 0; off < size; off += sizeof(chunk)) {
            size_t len = (size_t)QC_MIN(sizeof(chunk), size - off);
            sim_pattern(chunk, len, off, r->key);
            sim_hash_update(&h, chunk, len);
        }
        sim_hash_final(&h, r->expect);
    }
}

void sim_app_free(sim_app *a) {
    for (size_t i = 0; i < a->n; i++)
        if (a->reqs[i].h.h) {
            uint8_t tmp[32];
            sim_hash_final(&a->reqs[i].h, tmp);
        }
    free(a->reqs);
    free(a->srv);
}

static void client_pump(sim *s, sim_app *a) {
    qc_conn *c = s->client;
    if (!c || (!qc_conn_is_established(c) && !a->early)) return;
    for (size_t i = 0; i < a->n && a->open_now < a->max_parallel; i++) {
        sim_req *r = &a->reqs[i];
        if (r->opened) continue;
        if (qc_conn_stream_open(c, false, false, &r->sid) != 0) break;
        uint8_t req[16];
        put64(req, r->size);
        put64(req + 8, r->key);
        if (qc_conn_stream_write(c, r->sid, req, 16, true) != 16) {
            r->failed = r->done = true;
            a->failed++;
            a->completed++;
            continue;
        }
        r->opened = true;
        sim_hash_init(&r->h);
        a->open_now++;
    }
    uint8_t buf[16384];
    for (size_t i = 0; i < a->n; i++) {
        sim_req *r = &a->reqs[i];
        if (!r->opened || r->done) continue;
        for (;;) {
            bool fin = false;
            int64_t n = qc_conn_stream_read(c, r->sid, buf, sizeof(buf), &fin);
            if (n < 0) {
                r->failed = true;
                break;
            }
            if (n > 0) {
                sim_hash_update(&r->h, buf, (size_t)n);
                r->got += (uint64_t)n;
            }
            if (fin) {
                uint8_t got[32];
                sim_hash_final(&r->h, got);
                r->failed = r->got != r->size || memcmp(got, r->expect, 32) != 0;
                r->corrupt = r->failed;
                r->done = true;
                break;
            }
            if (n == 0) break;
        }
        if (r->done || r->failed) {
            r->done = true;
            a->completed++;
            a->failed += r->failed;
            a->open_now--;
            qc_conn_stream_release(c, r->sid);
        }
    }
}

static void server_pump(sim *s, sim_app *a) {
    qc_conn *c = s->server;
    if (!c) return;
    uint64_t sid;
    while (qc_conn_stream_accept(c, &sid)) {
        if (a->nsrv == a->capsrv) {
            a->capsrv = a->capsrv ? 2 * a->capsrv : 64;
            a->srv = realloc(a->srv, a->capsrv * sizeof(*a->srv));
        }
        sim_srv_stream *st = &a->srv[a->nsrv++];
        memset(st, 0, sizeof(*st));
        st->sid = sid;
    }
    uint8_t buf[16384];
    for (size_t i = 0; i < a->nsrv; i++) {
        sim_srv_stream *st = &a->srv[i];
        if (st->finished) continue;
        if (!st->responding) {
            bool fin = false;
            int64_t n = qc_conn_stream_read(c, st->sid, st->req + st->reqlen,
                                            sizeof(st->req) - st->reqlen, &fin);
            if (n > 0) st->reqlen += (size_t)n;
            if (fin && st->reqlen == 16) {
                st->size = get64(st->req);
                st->key = get64(st->req + 8);
                st->responding = true;
            } else if (n < 0 || (fin && st->reqlen != 16)) {
                qc_conn_stream_reset(c, st->sid, 1);
                st->finished = true;
                qc_conn_stream_release(c, st->sid);
                continue;
            }
        }
        while (st->responding && !st->finished) {
            size_t len = (size_t)QC_MIN(sizeof(buf), st->size - st->sent);
            sim_pattern(buf, len, st->sent, st->key);
            bool fin = st->sent + len == st->size;
            int64_t n = qc_conn_stream_write(c, st->sid, buf, len, fin);
            if (n < 0) {
                st->finished = true;
                break;
            }
            st->sent += (uint64_t)n;
            if ((size_t)n == len && fin) {
                st->finished = true;
                qc_conn_stream_release(c, st->sid);
            }
            if ((size_t)n < len || n == 0) break;
        }
    }
}

bool sim_app_step(sim *s, void *user) {
    sim_app *a = user;
    server_pump(s, a);
    client_pump(s, a);
    return a->completed == a->n;
}
