/* endpoint.c: server-side datagram dispatch, stateless replies and CID table (endpoint.h). */
#include "core/endpoint.h"

#include <stdlib.h>

void qc_endpoint_config_default(qc_endpoint_config *cfg) {
    memset(cfg, 0, sizeof(*cfg));
    cfg->scid_len = 8;
    cfg->retry = QC_RETRY_AUTO;
    cfg->retry_threshold = 64;
    cfg->max_pending = 256;
    cfg->max_pending_per_addr = 16;
    cfg->max_conns = 4096;
    cfg->retry_token_life = 10 * QC_SEC;
    cfg->new_token_life = 24 * 3600 * QC_SEC;
    cfg->versions = (qc_version_list){{QC_VERSION_2, QC_VERSION_1}, 2};
    cfg->grease_quic_bit = true;
}

int qc_endpoint_init(qc_endpoint *ep, const qc_endpoint_config *cfg) {
    memset(ep, 0, sizeof(*ep));
    if (!cfg->cp || !cfg->rand || cfg->scid_len < 4 || cfg->scid_len > QC_MAX_CID_LEN)
        return QC_ERR_INVAL;
    ep->cfg = *cfg;
    if (ep->cfg.versions.n == 0 || ep->cfg.versions.n > QC_MAX_VERSIONS) return QC_ERR_INVAL;
    for (size_t i = 0; i < ep->cfg.versions.n; i++)
        if (!qc_version_find(ep->cfg.versions.v[i])) return QC_ERR_INVAL;
    if (ep->cfg.max_pending == 0) ep->cfg.max_pending = 1;
    ep->tab_cap = 64;
    ep->tab = qc_calloc(ep->tab_cap, sizeof(*ep->tab));
    ep->addrs = qc_calloc(ep->cfg.max_pending + 1, sizeof(*ep->addrs));
    if (!ep->tab || !ep->addrs) {
        qc_free(ep->tab);
        qc_free(ep->addrs);
        ep->tab = NULL;
        ep->addrs = NULL;
        return QC_ERR_NOMEM;
    }
    return qc_token_key_init(&ep->tk, cfg->cp, cfg->secret);
}

void qc_endpoint_free(qc_endpoint *ep) {
    for (size_t i = 0; i < ep->tab_cap; i++) {
        qc_ep_entry *e = ep->tab[i];
        while (e) {
            qc_ep_entry *n = e->next;
            qc_free(e);
            e = n;
        }
    }
    qc_free(ep->tab);
    ep->tab = NULL;
    qc_free(ep->addrs);
    ep->addrs = NULL;
    qc_token_key_free(&ep->tk);
}

/* ---- CID table (chained hash, FNV-1a over the ID) ---- */

static size_t slot(const qc_endpoint *ep, const qc_cid *cid) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < cid->len; i++)
        h = (h ^ cid->id[i]) * 0x100000001b3ull;
    return (size_t)(h ^ (h >> 32)) & (ep->tab_cap - 1);
}

void *qc_endpoint_lookup(const qc_endpoint *ep, const qc_cid *cid) {
    for (qc_ep_entry *e = ep->tab[slot(ep, cid)]; e; e = e->next)
        if (qc_cid_eq(&e->cid, cid)) return e->conn;
    return NULL;
}

int qc_endpoint_add(qc_endpoint *ep, const qc_cid *cid, void *conn) {
    if (qc_endpoint_lookup(ep, cid)) return QC_ERR_INVAL;
    if (ep->entries + 1 > ep->tab_cap) {
        size_t ncap = ep->tab_cap * 2;
        qc_ep_entry **nt = qc_calloc(ncap, sizeof(*nt));
        if (!nt) return QC_ERR_NOMEM;
        qc_ep_entry **old = ep->tab;
        size_t ocap = ep->tab_cap;
        ep->tab = nt;
        ep->tab_cap = ncap;
        for (size_t i = 0; i < ocap; i++) {
            qc_ep_entry *e = old[i];
            while (e) {
                qc_ep_entry *n = e->next;
                size_t s = slot(ep, &e->cid);
                e->next = nt[s];
                nt[s] = e;
                e = n;
            }
        }
        qc_free(old);
    }
    qc_ep_entry *e = qc_malloc(sizeof(*e));
    if (!e) return QC_ERR_NOMEM;
    e->cid = *cid;
    e->conn = conn;
    size_t s = slot(ep, cid);
    e->next = ep->tab[s];
    ep->tab[s] = e;
    ep->entries++;
    return 0;
}

void qc_endpoint_remove(qc_endpoint *ep, const qc_cid *cid) {
    qc_ep_entry **pp = &ep->tab[slot(ep, cid)];
    while (*pp) {
        if (qc_cid_eq(&(*pp)->cid, cid)) {
            qc_ep_entry *e = *pp;
            *pp = e->next;
            qc_free(e);
            ep->entries--;
            return;
        }
        pp = &(*pp)->next;
    }
}

void qc_endpoint_remove_conn(qc_endpoint *ep, void *conn) {
    for (size_t i = 0; i < ep->tab_cap; i++) {
        qc_ep_entry **pp = &ep->tab[i];
        while (*pp) {
            if ((*pp)->conn == conn) {
                qc_ep_entry *e = *pp;
                *pp = e->next;
                qc_free(e);
                ep->entries--;
            } else {
                pp = &(*pp)->next;
            }
        }
    }
}

/* ---- hooks for connections ---- */

static int hook_issue(void *user, qc_cid *cid, uint8_t token[QC_RESET_TOKEN_LEN]) {
    qc_ep_binding *b = user;
    qc_endpoint *ep = b->ep;
    for (int tries = 0; tries < 8; tries++) {
        cid->len = (uint8_t)ep->cfg.scid_len;
        ep->cfg.rand(ep->cfg.rand_user, cid->id, cid->len);
        if (qc_endpoint_add(ep, cid, b->conn) == 0)
            return qc_token_stateless_reset(&ep->tk, cid, token);
    }
    return QC_ERR_INTERNAL;
}

static void hook_retire(void *user, const qc_cid *cid) {
    qc_ep_binding *b = user;
    qc_endpoint_remove(b->ep, cid);
}

static int hook_reset_token(void *user, const qc_cid *cid, uint8_t token[QC_RESET_TOKEN_LEN]) {
    qc_ep_binding *b = user;
    return qc_token_stateless_reset(&b->ep->tk, cid, token);
}

qc_cid_hooks qc_endpoint_bind(qc_ep_binding *b) {
    qc_cid_hooks h = {b, hook_issue, hook_retire, hook_reset_token};
    return h;
}

/* The slot counting addr's handshakes (NULL: none); with add, a free one for it. A linear
 * look over at most max_pending + 1 slots, only for Initials about to be accepted. */
static qc_ep_addr_count *addr_slot(const qc_endpoint *ep, const uint8_t *addr, size_t len,
                                   bool add) {
    if (!ep->addrs || len == 0) return NULL;
    if (len > sizeof(ep->addrs[0].key)) len = sizeof(ep->addrs[0].key);
    qc_ep_addr_count *free_slot = NULL;
    for (size_t i = 0; i <= ep->cfg.max_pending; i++) {
        qc_ep_addr_count *a = &ep->addrs[i];
        if (a->count == 0) {
            if (!free_slot) free_slot = a;
        } else if (a->len == len && memcmp(a->key, addr, len) == 0) {
            return a;
        }
    }
    if (!add || !free_slot) return NULL;
    memcpy(free_slot->key, addr, len);
    free_slot->len = (uint8_t)len;
    return free_slot;
}

size_t qc_endpoint_pending_from(const qc_endpoint *ep, const uint8_t *addr, size_t addr_len) {
    qc_ep_addr_count *a = addr_slot(ep, addr, addr_len, false);
    return a ? a->count : 0;
}

static void pending_done(qc_endpoint *ep, const uint8_t *addr, size_t addr_len) {
    if (ep->pending) ep->pending--;
    qc_ep_addr_count *a = addr_slot(ep, addr, addr_len, false);
    if (a && a->count) a->count--;
}

void qc_endpoint_established(qc_endpoint *ep, const uint8_t *addr, size_t addr_len) {
    pending_done(ep, addr, addr_len);
}

void qc_endpoint_closed(qc_endpoint *ep, bool was_pending, const uint8_t *addr, size_t addr_len) {
    if (was_pending) pending_done(ep, addr, addr_len);
    if (ep->conns) ep->conns--;
}

/* What a token is bound to: the client's address and the QUIC version (RFC 9369 §5: a
 * token from a v1 connection is no good for v2, and a Retry's for no other version). */
static size_t token_binding(const uint8_t *addr, size_t addr_len, uint32_t version,
                            uint8_t out[QC_EP_ADDR_MAX + 4]) {
    if (addr_len > QC_EP_ADDR_MAX) addr_len = QC_EP_ADDR_MAX;
    memcpy(out, addr, addr_len);
    for (int i = 0; i < 4; i++)
        out[addr_len + (size_t)i] = (uint8_t)(version >> (24 - 8 * i));
    return addr_len + 4;
}

int qc_endpoint_new_token(qc_endpoint *ep, const uint8_t *addr, size_t addr_len, uint32_t version,
                          qc_ts now, uint8_t *out, size_t cap) {
    uint8_t nonce[12], bind[QC_EP_ADDR_MAX + 4];
    size_t blen = token_binding(addr, addr_len, version, bind);
    ep->cfg.rand(ep->cfg.rand_user, nonce, sizeof(nonce));
    return qc_token_mint(&ep->tk, QC_TOKEN_NEW, bind, blen, NULL, NULL, now, nonce, out, cap);
}

/* ---- the decision ---- */

static void drop(qc_endpoint *ep, qc_ep_decision *d, const char *why) {
    d->action = QC_EP_DROP;
    d->why = why;
    ep->dropped++;
}

void qc_endpoint_decide(qc_endpoint *ep, const uint8_t *dgram, size_t len, const uint8_t *addr,
                        size_t addr_len, qc_ts now, uint8_t *out, size_t cap, qc_ep_decision *d) {
    memset(d, 0, sizeof(*d));
    qc_pkt_hdr *h = &d->hdr;
    int rv = qc_pkt_parse(dgram, len, ep->cfg.scid_len, h);
    if (rv == 0 && !qc_pkt_quic_bit_ok(h, ep->cfg.grease_quic_bit)) rv = QC_ERR_DECODE;
    /* A version quicc speaks but this endpoint does not accept is unknown here, unless the
     * packet belongs to a connection (which may have negotiated it). */
    if (rv == 0 && h->type != QC_PT_1RTT && !qc_version_list_has(&ep->cfg.versions, h->version) &&
        !qc_endpoint_lookup(ep, &h->dcid))
        rv = QC_ERR_VERSION;
    if (rv == QC_ERR_VERSION) {
        /* Only Initial-sized datagrams get a Version Negotiation (RFC 9000 §6.1). */
        if (len < QC_MIN_INITIAL_SIZE) {
            drop(ep, d, "unknown version, short datagram");
            return;
        }
        /* Our versions and a greased one (RFC 9000 §15), which no client may pick. */
        uint32_t versions[QC_MAX_VERSIONS + 1];
        size_t nv = 0;
        for (; nv < ep->cfg.versions.n; nv++)
            versions[nv] = ep->cfg.versions.v[nv];
        uint8_t r;
        ep->cfg.rand(ep->cfg.rand_user, &r, 1);
        versions[nv++] = 0x0a0a0a0au | ((uint32_t)(r & 0xf0) * 0x01010101u);
        d->reply_len = qc_pkt_write_vn(out, cap, &h->scid, &h->dcid, versions, nv, r);
        d->action = d->reply_len ? QC_EP_REPLY : QC_EP_DROP;
        ep->vn_sent += d->reply_len != 0;
        return;
    }
    if (rv != 0) {
        drop(ep, d, "malformed header");
        return;
    }
    void *conn = qc_endpoint_lookup(ep, &h->dcid);
    if (conn) {
        d->action = QC_EP_ROUTE;
        d->conn = conn;
        return;
    }
    if (h->type == QC_PT_1RTT) {
        /* An unknown connection: a stateless reset, smaller than what arrived so that two
         * endpoints cannot loop (RFC 9000 §10.3.3), and at least 21 bytes. */
        size_t n = len - 1 < 43 ? len - 1 : 43;
        if (len < 22 || n > cap) {
            drop(ep, d, "short packet for unknown connection");
            return;
        }
        ep->cfg.rand(ep->cfg.rand_user, out, n - QC_RESET_TOKEN_LEN);
        out[0] = (uint8_t)(0x40 | (out[0] & 0x3f));
        if (qc_token_stateless_reset(&ep->tk, &h->dcid, out + n - QC_RESET_TOKEN_LEN) != 0) {
            drop(ep, d, "reset token");
            return;
        }
        d->action = QC_EP_REPLY;
        d->reply_len = n;
        ep->resets_sent++;
        return;
    }
    if (h->type != QC_PT_INITIAL) {
        drop(ep, d, "no connection for this packet");
        return;
    }
    if (len < QC_MIN_INITIAL_SIZE) {
        drop(ep, d, "Initial datagram under 1200 bytes");
        return;
    }
    if (h->dcid.len < 8) {
        drop(ep, d, "Initial with a DCID under 8 bytes");
        return;
    }
    if (ep->conns >= ep->cfg.max_conns) {
        drop(ep, d, "too many connections");
        return;
    }
    uint8_t bind[QC_EP_ADDR_MAX + 4];
    size_t blen = token_binding(addr, addr_len, h->version, bind);
    if (h->token_len) {
        enum qc_token_kind kind;
        qc_cid od, rs;
        /* First: is it one of ours at all (ignoring age)? */
        if (qc_token_check(&ep->tk, h->token, h->token_len, bind, blen, now, QC_TS_NONE / 2, &kind,
                           &od, &rs) == 0) {
            qc_ts life = kind == QC_TOKEN_RETRY ? ep->cfg.retry_token_life : ep->cfg.new_token_life;
            bool fresh = qc_token_check(&ep->tk, h->token, h->token_len, bind, blen, now, life,
                                        &kind, &od, &rs) == 0;
            if (kind == QC_TOKEN_RETRY) {
                if (!fresh || !qc_cid_eq(&rs, &h->dcid)) {
                    /* An expired or misused Retry token: close with INVALID_TOKEN. */
                    ep->bad_tokens++;
                    d->bad_token = true;
                } else {
                    d->has_odcid = true;
                    d->odcid = od;
                    d->retry_scid = rs;
                    d->validated = true;
                }
            } else if (fresh) {
                d->validated = true;
            }
        } else {
            ep->bad_tokens++; /* not ours or forged: as if there were none (§8.1.3) */
        }
    }
    /* One address holds at most max_pending_per_addr handshakes, validated or not: however
     * many it starts and abandons, the others keep their slots. */
    qc_ep_addr_count *from = addr_slot(ep, addr, addr_len, false);
    if (from && from->count >= ep->cfg.max_pending_per_addr) {
        drop(ep, d, "too many pending handshakes from one address");
        return;
    }
    bool full = ep->pending >= ep->cfg.max_pending;
    bool want_retry =
        ep->cfg.retry == QC_RETRY_ALWAYS ||
        (ep->cfg.retry == QC_RETRY_AUTO && (ep->pending >= ep->cfg.retry_threshold || full));
    if (!d->validated && !d->bad_token && want_retry) {
        qc_cid rscid = {.len = (uint8_t)ep->cfg.scid_len};
        ep->cfg.rand(ep->cfg.rand_user, rscid.id, rscid.len);
        uint8_t nonce[12], tok[QC_TOKEN_MAX_LEN];
        ep->cfg.rand(ep->cfg.rand_user, nonce, sizeof(nonce));
        int tl = qc_token_mint(&ep->tk, QC_TOKEN_RETRY, bind, blen, &h->dcid, &rscid, now, nonce,
                               tok, sizeof(tok));
        uint8_t r;
        ep->cfg.rand(ep->cfg.rand_user, &r, 1);
        /* The Retry is in the client's original version (RFC 9369 §4). */
        size_t n = tl > 0 ? qc_pkt_write_retry_body(out, cap, h->version, &h->scid, &rscid, tok,
                                                    (size_t)tl, r)
                          : 0;
        if (!n || n + 16 > cap ||
            qc_retry_tag(ep->cfg.cp, h->version, &h->dcid, out, n, out + n) != 0) {
            drop(ep, d, "cannot build Retry");
            return;
        }
        d->action = QC_EP_REPLY;
        d->reply_len = n + 16;
        ep->retry_sent++;
        return;
    }
    /* All slots taken by handshakes (a client that proved its address, or Retry is off):
     * the oldest handshake in progress gives way, so that a flood cannot lock clients out. */
    if (full) {
        d->shed_oldest = true;
        ep->shed++;
    }
    qc_ep_addr_count *slot = addr_slot(ep, addr, addr_len, true);
    if (slot) slot->count++;
    d->action = QC_EP_ACCEPT;
    d->scid.len = (uint8_t)ep->cfg.scid_len;
    do {
        ep->cfg.rand(ep->cfg.rand_user, d->scid.id, d->scid.len);
    } while (qc_endpoint_lookup(ep, &d->scid));
    ep->conns++;
    ep->pending++;
}
