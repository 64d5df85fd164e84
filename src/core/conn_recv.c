/*
 * conn_recv.c: the path of a datagram in. A datagram is split into its
 * coalesced packets; each is checked (connection ID, version, keys),
 * unprotected and decrypted in place, deduplicated, and its frames decoded
 * and applied one by one. Frame permissions per packet type come from the
 * table in frame.c; a peer's protocol error closes the connection with the
 * RFC's error code (qc_conn_fail).
 */
#include "core/conn_internal.h"

#include <stdlib.h>

/* ---- Version Negotiation and Retry (client) ---- */

/* Client: an Initial of this version may be the server's answer in a version we offered,
 * until the server's version is known. */
static bool client_may_switch(const qc_conn *c, uint32_t version) {
    return !c->is_server && !c->vn.settled && version != c->version &&
           qc_version_list_has(&c->cfg.versions, version);
}

/* Client: the DCID its Initial keys come from (the first one, or the Retry's SCID). */
static const qc_cid *client_initial_dcid(const qc_conn *c) {
    return c->ids.retried ? &c->ids.retry_scid : &c->ids.odcid;
}

static int on_version_negotiation(qc_conn *c, const qc_pkt_hdr *h, qc_ts now) {
    /* Only before any packet from the server was processed, only if it does not list our
     * version, and not in answer to an attempt that followed one (RFC 9000 §6.2, RFC 9368
     * §4). The DCID must be our SCID. */
    if (c->ids.got_server_scid || c->spaces[QC_PNS_INITIAL].largest_rx != UINT64_MAX ||
        c->cfg.after_vn)
        return QC_ERR_DROP;
    if (!qc_cids_is_local(&c->cids, &h->dcid) || !qc_cid_eq(&h->scid, &c->ids.odcid))
        return QC_ERR_DROP;
    qc_version_list theirs = {.n = 0}; /* the versions it lists that quicc speaks */
    for (size_t i = 0; i < h->vn_count; i++) {
        const uint8_t *v = h->vn_versions + 4 * i;
        uint32_t ver =
            ((uint32_t)v[0] << 24) | ((uint32_t)v[1] << 16) | ((uint32_t)v[2] << 8) | v[3];
        if (ver == c->version) return QC_ERR_DROP; /* lists our version: ignore */
        if (qc_version_find(ver) && theirs.n < QC_MAX_VERSIONS) theirs.v[theirs.n++] = ver;
    }
    /* The first of our versions it lists is for a new attempt (the caller starts it). */
    for (size_t i = 0; i < c->cfg.versions.n && !c->vn.retry_version; i++)
        if (qc_version_list_has(&theirs, c->cfg.versions.v[i]))
            c->vn.retry_version = c->cfg.versions.v[i];
    static const char why[] = "version negotiation: no common version";
    static const char why_retry[] = "version negotiation: try another version";
    if (c->vn.retry_version)
        qc_conn_set_close_info(c, true, false, QC_TE_CONNECTION_REFUSED, 0, QC_ERR_VERSION,
                               why_retry, sizeof(why_retry) - 1);
    else
        qc_conn_set_close_info(c, true, false, QC_TE_CONNECTION_REFUSED, 0, QC_ERR_VERSION, why,
                               sizeof(why) - 1);
    qc_conn_set_state(c, QC_CONN_CLOSED);
    (void)now;
    return 0;
}

static int on_retry(qc_conn *c, const uint8_t *pkt, const qc_pkt_hdr *h, qc_ts now) {
    if (c->ids.retried || c->ids.got_server_scid ||
        c->spaces[QC_PNS_INITIAL].largest_rx != UINT64_MAX)
        return QC_ERR_DROP;
    if (!qc_cids_is_local(&c->cids, &h->dcid) || h->token_len == 0) return QC_ERR_DROP;
    if (qc_cid_eq(&h->scid, &c->ids.odcid)) return QC_ERR_DROP;
    /* A Retry comes in the original version; others are ignored (RFC 9369 §4). */
    if (h->version != c->version) return QC_ERR_DROP;
    uint8_t tag[16];
    if (qc_retry_tag(c->cp, c->version, &c->ids.odcid, pkt, h->pkt_len - 16, tag) ||
        memcmp(tag, h->retry_tag, 16) != 0)
        return QC_ERR_DROP;
    uint8_t *tok = qc_malloc(h->token_len);
    if (!tok) return QC_ERR_NOMEM;
    memcpy(tok, h->token, h->token_len);
    qc_free(c->ids.token);
    c->ids.token = tok;
    c->ids.token_len = h->token_len;
    c->ids.retried = true;
    c->ids.retry_scid = h->scid;
    c->cids.peer[0].cid = h->scid;
    int rv = qc_conn_reinstall_initial_keys(c, &h->scid);
    if (rv) return rv;
    /* Everything sent in Initial packets is to be sent again with the new keys; packet
     * numbers continue (RFC 9000 §17.2.5.3). */
    qc_recovery_reset_space(&c->rec, QC_PNS_INITIAL);
    qc_conn_crypto_resend(c, QC_PNS_INITIAL);
    (void)now;
    return 0;
}

/* ---- handshake progress ---- */

/* Issues connection IDs up to the peer's limit (at most half our slots), each with a random
 * stateless reset token; they go out in NEW_CONNECTION_ID frames. */
static void issue_cids(qc_conn *c) {
    uint64_t want = QC_MIN(c->cids.peer_limit, QC_CID_SLOTS / 2);
    for (;;) {
        size_t active = 0;
        for (size_t i = 0; i < QC_CID_SLOTS; i++)
            active += c->cids.local[i].in_use && !c->cids.local[i].retired;
        if (active >= want) return;
        qc_cid cid = {.len = (uint8_t)c->cfg.scid_len};
        uint8_t token[QC_RESET_TOKEN_LEN];
        if (c->cfg.cid_hooks.issue) {
            if (c->cfg.cid_hooks.issue(c->cfg.cid_hooks.user, &cid, token) != 0) return;
        } else {
            c->cfg.rand(c->cfg.rand_user, cid.id, cid.len);
            c->cfg.rand(c->cfg.rand_user, token, sizeof(token));
        }
        if (!qc_cids_issue(&c->cids, &cid, token)) {
            if (c->cfg.cid_hooks.retire) c->cfg.cid_hooks.retire(c->cfg.cid_hooks.user, &cid);
            return;
        }
    }
}

/* Client: 0-RTT the server refused is lost; its data goes again in 1-RTT (RFC 9001
 * §4.6.2). What it assumed must still hold under the server's real limits, or the
 * connection cannot go on. */
static void on_0rtt_rejected(qc_conn *c, qc_ts now) {
    qc_recovery_on_0rtt_rejected(&c->rec, now);
    const qc_tparams *tp = &c->peer_tp;
    if (c->fc_send.used > tp->initial_max_data ||
        c->st.next_local_bidi > tp->initial_max_streams_bidi ||
        c->st.next_local_uni > tp->initial_max_streams_uni) {
        qc_conn_fail(c, QC_ERR_INTERNAL, 0, "0-RTT rejected and the server's limits shrank", now);
        return;
    }
    c->fc_send.max = tp->initial_max_data;
}

static void on_handshake_complete(qc_conn *c, qc_ts now) {
    c->handshake_complete = true;
    qc_conn_qlog_handshake(c, now);
    if (!c->is_server && c->hs.ops->early_data &&
        c->hs.ops->early_data(c->hs.impl) == QC_EARLY_REJECTED)
        on_0rtt_rejected(c, now);
    issue_cids(c);
    if (c->state == QC_CONN_HANDSHAKING) qc_conn_set_state(c, QC_CONN_ESTABLISHED);
    if (c->is_server) {
        /* The server's handshake is confirmed on completion (RFC 9001 §4.1.2). */
        qc_conn_ctl_queue(c, QC_CTL_HANDSHAKE_DONE);
        qc_conn_on_handshake_confirmed(c);
    }
    (void)now;
}

static int feed_tls(qc_conn *c, enum qc_pn_space sp, qc_ts now) {
    qc_stream *cr = &c->spaces[sp].crypto;
    uint8_t buf[4096];
    for (;;) {
        bool fin = false;
        size_t n = qc_stream_read(cr, buf, sizeof(buf), &fin);
        if (n == 0) break;
        uint8_t alert = 0;
        int rv = c->hs.ops->recv_crypto(c->hs.impl, qc_space_epoch(sp), buf, n, &alert);
        if (rv) {
            uint64_t code = QC_TE_CRYPTO_ERROR + alert;
            if (rv != QC_ERR_TLS && rv != QC_ERR_VERIFY)
                code = qc_err_transport(rv); /* e.g. TRANSPORT_PARAMETER_ERROR from callbacks */
            qc_conn_fail_code(
                c, code, rv, QC_FT_CRYPTO,
                rv == QC_ERR_VERIFY ? "certificate verification failed" : qc_strerror(rv), now);
            return rv;
        }
    }
    if (!c->handshake_complete && c->hs.ops->is_complete(c->hs.impl)) on_handshake_complete(c, now);
    return 0;
}

/* ---- frames ---- */

static int on_crypto(qc_conn *c, enum qc_pn_space sp, const qc_frame *f, qc_ts now) {
    qc_stream *cr = &c->spaces[sp].crypto;
    uint64_t end = f->u.crypto.offset + f->u.crypto.len;
    /* CRYPTO data from the server: its version is the negotiated one (RFC 9369 §4). */
    if (!c->is_server && f->u.crypto.len) c->vn.settled = true;
    /* A client Initial with CRYPTO data we already have: it did not get all of ours (RFC
     * 9002 §6.2.3). Our unacknowledged Initial and Handshake data goes again now. */
    if (c->is_server && sp == QC_PNS_INITIAL && f->u.crypto.len && end <= cr->rcv.read)
        qc_conn_resend_crypto_early(c);
    if (end > cr->rcv.read + c->cfg.max_crypto_buffer) return QC_ERR_CRYPTO_BUFFER;
    uint64_t nb;
    int rv =
        qc_stream_on_data(cr, f->u.crypto.offset, f->u.crypto.data, f->u.crypto.len, false, &nb);
    if (rv) return rv;
    return feed_tls(c, sp, now);
}

static int conn_fc_on_new_bytes(qc_conn *c, uint64_t nb) {
    if (!nb) return 0;
    return qc_fc_recv_on_data(&c->fc_recv, c->fc_recv.highest + nb);
}

static int on_stream(qc_conn *c, const qc_frame *f) {
    qc_cstream *cs;
    int rv = qc_conn_stream_for_frame(c, f->u.stream.stream_id, false, &cs);
    if (rv || !cs) return rv;
    uint64_t end = f->u.stream.offset + f->u.stream.len;
    if (end > cs->fc_recv.max) return QC_ERR_FLOW_CONTROL;
    if (cs->s.recv_state == QC_RECV_RESET_RECVD || cs->s.recv_state == QC_RECV_RESET_READ) return 0;
    uint64_t nb = 0;
    rv = qc_stream_on_data(&cs->s, f->u.stream.offset, f->u.stream.data, f->u.stream.len,
                           f->u.stream.fin, &nb);
    if (rv) return rv;
    if (nb) {
        cs->fc_recv.highest += nb;
        rv = conn_fc_on_new_bytes(c, nb);
    }
    return rv;
}

static int on_reset_stream(qc_conn *c, const qc_frame *f) {
    qc_cstream *cs;
    int rv = qc_conn_stream_for_frame(c, f->u.reset_stream.stream_id, false, &cs);
    if (rv || !cs) return rv;
    if (f->u.reset_stream.final_size > cs->fc_recv.max) return QC_ERR_FLOW_CONTROL;
    uint64_t nb = 0;
    rv = qc_stream_on_reset(&cs->s, f->u.reset_stream.app_error, f->u.reset_stream.final_size, &nb);
    if (rv) return rv;
    cs->stop_pending = false;
    if (nb) rv = conn_fc_on_new_bytes(c, nb);
    /* The bytes that will never be read still count as consumed for the connection window. */
    if (!rv && f->u.reset_stream.final_size > cs->fc_recv.consumed) {
        qc_fc_recv_consume(&c->fc_recv, f->u.reset_stream.final_size - cs->fc_recv.consumed);
        cs->fc_recv.consumed = f->u.reset_stream.final_size;
    }
    qc_conn_stream_maybe_free(c, cs);
    return rv;
}

static int on_stop_sending(qc_conn *c, const qc_frame *f) {
    qc_cstream *cs;
    int rv = qc_conn_stream_for_frame(c, f->u.stop_sending.stream_id, true, &cs);
    if (rv || !cs) return rv;
    qc_stream_on_stop_sending(&cs->s, f->u.stop_sending.app_error);
    /* Answer with RESET_STREAM carrying the same code (RFC 9000 §3.5). */
    if (qc_stream_reset(&cs->s, f->u.stop_sending.app_error) == 0) {
        cs->reset_pending = true;
        qc_conn_stream_schedule(c, cs);
    }
    return 0;
}

static int on_max_stream_data(qc_conn *c, const qc_frame *f) {
    qc_cstream *cs;
    int rv = qc_conn_stream_for_frame(c, f->u.stream_max.stream_id, true, &cs);
    if (rv || !cs) return rv;
    qc_fc_send_on_max(&cs->fc_send, f->u.stream_max.max);
    qc_conn_stream_schedule(c, cs);
    return 0;
}

static int on_stream_data_blocked(qc_conn *c, const qc_frame *f) {
    qc_cstream *cs;
    return qc_conn_stream_for_frame(c, f->u.stream_max.stream_id, false, &cs);
}

static int on_new_cid(qc_conn *c, const qc_frame *f) {
    if (c->cids.peer[c->cids.peer_cur].cid.len == 0)
        return QC_ERR_PROTO; /* the peer uses zero-length IDs: it may not send NEW_CONNECTION_ID */
    return qc_cids_on_new(&c->cids, f->u.new_cid.seq, f->u.new_cid.retire_prior_to,
                          &f->u.new_cid.cid, f->u.new_cid.reset_token);
}

static void on_connection_close(qc_conn *c, const qc_frame *f, qc_ts now) {
    if (c->state >= QC_CONN_CLOSING && c->close.set && c->close.local) {
        if (c->state == QC_CONN_CLOSING) qc_conn_set_state(c, QC_CONN_DRAINING);
        return;
    }
    qc_conn_set_close_info(c, false, f->type == QC_FT_CONNECTION_CLOSE_APP, f->u.close.error_code,
                           f->u.close.frame_type, QC_ERR_CLOSED, f->u.close.reason,
                           f->u.close.reason_len);
    qc_conn_set_state(c, QC_CONN_DRAINING);
    c->timers.close_deadline = now + 3 * qc_conn_pto(c);
}

static int on_frame(qc_conn *c, enum qc_pkt_type pt, const qc_frame *f, qc_ts now) {
    enum qc_pn_space sp = qc_pkt_space(pt);
    switch (f->type) {
    case QC_FT_PADDING:
    case QC_FT_PING:
        return 0;
    case QC_FT_ACK:
    case QC_FT_ACK_ECN: {
        qc_ts delay = 0;
        if (sp == QC_PNS_APP && c->has_peer_tp) {
            unsigned exp = (unsigned)c->peer_tp.ack_delay_exponent;
            uint64_t us = f->u.ack.ack_delay;
            delay = (us >> (62 - exp)) ? QC_TS_NONE / 2 : (us << exp) * QC_US;
        }
        c->ecn_newly_marked = 0;
        int rv = qc_recovery_on_ack(&c->rec, sp, f, delay, c->handshake_confirmed, now);
        if (rv) return rv;
        uint64_t counts[3] = {f->u.ack.ect0, f->u.ack.ect1, f->u.ack.ce};
        qc_ecn_on_ack(&c->ecn, sp, c->ecn_newly_marked, f->u.ack.ecn ? counts : NULL);
        qc_conn_qlog_metrics(c, now);
        return 0;
    }
    case QC_FT_RESET_STREAM:
        return on_reset_stream(c, f);
    case QC_FT_STOP_SENDING:
        return on_stop_sending(c, f);
    case QC_FT_CRYPTO:
        return on_crypto(c, sp, f, now);
    case QC_FT_NEW_TOKEN:
        if (c->is_server) return QC_ERR_PROTO;
        if (f->u.new_token.len <= sizeof(c->ids.new_token)) {
            memcpy(c->ids.new_token, f->u.new_token.token, f->u.new_token.len);
            c->ids.new_token_len = f->u.new_token.len;
        }
        return 0;
    case QC_FT_MAX_DATA:
        if (f->u.max.max > c->fc_send.max) {
            bool was_blocked = qc_fc_send_avail(&c->fc_send) == 0;
            qc_fc_send_on_max(&c->fc_send, f->u.max.max);
            /* Streams that stopped for the connection's limit may send again. */
            if (was_blocked) qc_conn_streams_on_peer_tparams(c);
        }
        return 0;
    case QC_FT_MAX_STREAM_DATA:
        return on_max_stream_data(c, f);
    case QC_FT_MAX_STREAMS_BIDI:
        if (f->u.max.max > c->st.peer_max_bidi) c->st.peer_max_bidi = f->u.max.max;
        qc_conn_streams_on_peer_tparams(c);
        return 0;
    case QC_FT_MAX_STREAMS_UNI:
        if (f->u.max.max > c->st.peer_max_uni) c->st.peer_max_uni = f->u.max.max;
        qc_conn_streams_on_peer_tparams(c);
        return 0;
    case QC_FT_DATA_BLOCKED:
    case QC_FT_STREAMS_BLOCKED_BIDI:
    case QC_FT_STREAMS_BLOCKED_UNI:
        return 0;
    case QC_FT_STREAM_DATA_BLOCKED:
        return on_stream_data_blocked(c, f);
    case QC_FT_NEW_CONNECTION_ID:
        return on_new_cid(c, f);
    case QC_FT_RETIRE_CONNECTION_ID: {
        qc_cid gone = {0};
        for (size_t i = 0; i < QC_CID_SLOTS; i++)
            if (c->cids.local[i].in_use && c->cids.local[i].seq == f->u.retire_cid.seq)
                gone = c->cids.local[i].cid;
        int rv = qc_cids_on_retire(&c->cids, f->u.retire_cid.seq, NULL);
        if (!rv && gone.len && c->cfg.cid_hooks.retire)
            c->cfg.cid_hooks.retire(c->cfg.cid_hooks.user, &gone);
        if (!rv) issue_cids(c);
        return rv;
    }
    case QC_FT_PATH_CHALLENGE:
        qc_conn_path_on_challenge(c, f->u.path.data);
        return 0;
    case QC_FT_PATH_RESPONSE:
        qc_conn_path_on_response(c, f->u.path.data);
        return 0;
    case QC_FT_CONNECTION_CLOSE:
    case QC_FT_CONNECTION_CLOSE_APP:
        on_connection_close(c, f, now);
        return 0;
    case QC_FT_HANDSHAKE_DONE:
        if (c->is_server) return QC_ERR_PROTO;
        if (c->handshake_complete) qc_conn_on_handshake_confirmed(c);
        return 0;
    case QC_FT_DATAGRAM:
    case QC_FT_DATAGRAM_LEN:
        return QC_ERR_PROTO; /* we advertise no max_datagram_frame_size */
    default:
        if (f->type >= QC_FT_STREAM && f->type <= (QC_FT_STREAM | 7)) return on_stream(c, f);
        return QC_ERR_FRAME_ENCODING;
    }
}

int qc_conn_recv_frames(qc_conn *c, enum qc_pkt_type pt, const uint8_t *payload, size_t len,
                        bool *ack_eliciting, qc_ts now) {
    qc_rd r = qc_rd_init(payload, len);
    *ack_eliciting = false;
    if (len == 0) {
        qc_conn_fail(c, QC_ERR_PROTO, 0, "packet without frames", now);
        return QC_ERR_PROTO;
    }
    while (qc_rd_left(&r) > 0) {
        qc_frame f;
        uint64_t ftype = r.p[0];
        int rv = qc_frame_decode(&r, &f);
        if (rv) {
            qc_conn_fail(c, rv, ftype, "malformed frame", now);
            return rv;
        }
        if (!qc_frame_allowed(f.type, pt)) {
            qc_conn_fail(c, QC_ERR_PROTO, f.type, "frame not allowed in this packet type", now);
            return QC_ERR_PROTO;
        }
        if (qc_frame_ack_eliciting(f.type)) *ack_eliciting = true;
        if (!qc_frame_probing(f.type)) c->path.rx_pkt_nonprobing = true;
        rv = on_frame(c, pt, &f, now);
        if (rv) {
            qc_conn_fail(c, rv, f.type, qc_strerror(rv), now);
            return rv;
        }
        if (c->state >= QC_CONN_DRAINING) return 0;
    }
    return 0;
}

/* ---- packets ---- */

static enum qc_epoch pkt_epoch(enum qc_pkt_type t) {
    static const enum qc_epoch epochs[] = {[QC_PT_INITIAL] = QC_EPOCH_INITIAL,
                                           [QC_PT_0RTT] = QC_EPOCH_0RTT,
                                           [QC_PT_HANDSHAKE] = QC_EPOCH_HANDSHAKE,
                                           [QC_PT_1RTT] = QC_EPOCH_1RTT};
    return epochs[t];
}

static int recv_packet(qc_conn *c, uint8_t *pkt, const qc_pkt_hdr *h, unsigned ecn, qc_ts now) {
    if (c->state == QC_CONN_DRAINING) return QC_ERR_DROP;
    switch (h->type) {
    case QC_PT_VN:
        return c->is_server ? QC_ERR_DROP : on_version_negotiation(c, h, now);
    case QC_PT_RETRY:
        return c->is_server ? QC_ERR_DROP : on_retry(c, pkt, h, now);
    case QC_PT_0RTT:
        if (!c->is_server) return QC_ERR_DROP; /* only clients send 0-RTT */
        break;
    default:
        break;
    }
    /* Long headers carry the connection's version; an Initial may also come in the other
     * version of a compatible version negotiation (RFC 9369 §4). */
    qc_keys *initial_rx = NULL;
    if (h->type == QC_PT_INITIAL) {
        if (client_may_switch(c, h->version) && !qc_ks_initial_rx(&c->keys, h->version) &&
            qc_ks_set_initial_alt(&c->keys, c->cp, false, qc_version_find(h->version),
                                  client_initial_dcid(c)) != 0)
            return QC_ERR_DROP;
        initial_rx = qc_ks_initial_rx(&c->keys, h->version);
        if (!initial_rx) return QC_ERR_DROP;
    } else if (h->type == QC_PT_0RTT ? h->version != c->vn.original
                                     : h->type != QC_PT_1RTT && h->version != c->version) {
        return QC_ERR_DROP; /* 0-RTT comes in the client's original version (RFC 9369 §4) */
    }
    if (!qc_cids_is_local(&c->cids, &h->dcid) &&
        !(c->is_server && (h->type == QC_PT_INITIAL || h->type == QC_PT_0RTT) &&
          qc_cid_eq(&h->dcid, &c->ids.initial_dcid)))
        return QC_ERR_DROP;
    if (!c->is_server && h->type != QC_PT_1RTT && c->ids.got_server_scid &&
        !qc_cid_eq(&h->scid, &c->cids.peer[0].cid))
        return QC_ERR_DROP;

    enum qc_epoch ep = pkt_epoch(h->type);
    enum qc_pn_space sp = qc_epoch_space(ep);
    qc_space *space = &c->spaces[sp];
    /* Handshake or 1-RTT packets before the Handshake keys: the server's Initial was lost.
     * Send the ClientHello again now rather than at the PTO (RFC 9002 §6.2.3); its
     * duplicate CRYPTO data tells the server to resend its Initial. */
    if (!c->is_server && h->type != QC_PT_INITIAL && !c->keys.has_rx[QC_EPOCH_HANDSHAKE])
        qc_conn_resend_crypto_early(c);
    if (space->discarded || !c->keys.has_rx[ep]) return QC_ERR_DROP;

    qc_keys *k = initial_rx ? initial_rx : &c->keys.rx[ep];
    uint64_t tpn;
    size_t pnl;
    if (qc_packet_unprotect_header(c->cp, k, pkt, h->pkt_len, h->pn_offset, &tpn, &pnl))
        return QC_ERR_DROP;
    uint64_t pn = qc_pn_decode(space->largest_rx, tpn, pnl);
    size_t hdr_len = h->pn_offset + pnl;
    uint8_t first = pkt[0];

    bool next_phase = false;
    if (h->type == QC_PT_1RTT) k = qc_ks_rx_keys(&c->keys, (first & 0x04) != 0, pn, &next_phase);
    uint8_t *payload;
    size_t plen;
    if (qc_packet_decrypt(c->cp, k, pkt, h->pkt_len, hdr_len, pn, &payload, &plen)) {
        c->stats.pkts_dropped++;
        /* The integrity limit (RFC 9001 §6.6) counts forgeries under Handshake and 1-RTT
         * keys; Initial keys are public and prove nothing. */
        if (ep != QC_EPOCH_INITIAL) {
            uint64_t limit = c->cfg.aead_integrity_limit ? c->cfg.aead_integrity_limit
                                                         : qc_suite_integrity_limit(k->suite);
            if (++c->keys.rx_auth_failures >= limit) {
                qc_conn_fail(c, QC_ERR_AEAD_LIMIT, 0, "integrity limit: too many forged packets",
                             now);
                return QC_ERR_AEAD_LIMIT;
            }
        }
        return QC_ERR_DROP;
    }
    if (qc_ack_is_duplicate(&space->ack, pn)) {
        c->stats.pkts_dropped++;
        return QC_ERR_DROP;
    }
    /* Reserved bits must be zero once protection is removed (RFC 9000 §17.2, §17.3.1). */
    uint8_t reserved = h->type == QC_PT_1RTT ? (first & 0x18) : (first & 0x0c);
    if (reserved) {
        qc_conn_fail(c, QC_ERR_PROTO, 0, "reserved header bits set", now);
        return QC_ERR_PROTO;
    }
    if (next_phase) {
        int rv = qc_ks_rx_rotate(&c->keys, c->cp, pn, c->spaces[QC_PNS_APP].next_pn,
                                 now + 3 * qc_conn_pto(c));
        if (rv) {
            qc_conn_fail(c, rv, 0, "key update failed", now);
            return rv;
        }
        qc_conn_qlog_key_updated(c, false, now);
    }
    c->stats.pkts_recv++;
    if (h->type == QC_PT_0RTT) c->stats.zero_rtt_recv += h->pkt_len;
    /* The datagram's ECN mark counts for each of its packets, in its space (§13.4.1). */
    static const int ecn_slot[4] = {-1, 1, 0, 2}; /* Not-ECT, ECT(1), ECT(0), CE */
    if (ecn_slot[ecn & 3] >= 0) {
        space->ack.ecn[ecn_slot[ecn & 3]]++;
        c->stats.ecn_recv[ecn_slot[ecn & 3]]++;
    }
    if (!c->is_server && h->type == QC_PT_INITIAL && h->version != c->version) {
        /* The server's Initial in another version we offered opened: that is the negotiated
         * version, for every packet from now on (RFC 9369 §4). */
        int rv = qc_ks_switch_version(&c->keys, c->cp, false, qc_version_find(h->version),
                                      client_initial_dcid(c), false);
        if (rv) {
            qc_conn_fail(c, rv, 0, "cannot derive the negotiated version's keys", now);
            return rv;
        }
        c->version = h->version;
        c->vn.settled = true;
    }
    if (!c->is_server && h->type == QC_PT_INITIAL && !c->ids.got_server_scid) {
        /* The client switches to the server's chosen connection ID (RFC 9000 §7.2). */
        c->cids.peer[0].cid = h->scid;
        c->ids.got_server_scid = true;
    }
    if (c->is_server && h->type == QC_PT_HANDSHAKE) {
        /* A Handshake packet proves the client's address; Initial keys go (RFC 9001 §4.9.1). */
        c->path.amp_limited = false;
        qc_conn_discard_epoch(c, QC_EPOCH_INITIAL);
    }

    qc_conn_qlog_received(c, h->type, pn, h->type == QC_PT_1RTT ? (first & 0x04) != 0 : -1,
                          h->pkt_len, payload, plen, now);
    bool eliciting = false;
    c->path.rx_pkt_nonprobing = false;
    int rv = qc_conn_recv_frames(c, h->type, payload, plen, &eliciting, now);
    if (c->spaces[sp].discarded)
        return rv; /* the frames made us drop this space (e.g. handshake confirmed) */
    bool largest = pn > space->largest_rx || space->largest_rx == UINT64_MAX;
    if (largest) space->largest_rx = pn;
    /* Only the largest packet yet, with more than probing frames, moves a path (§9.3). */
    if (largest && sp == QC_PNS_APP && c->path.rx_pkt_nonprobing) c->path.rx_moves = true;
    /* The spin bit of the largest 1-RTT packet: a server reflects it, a client inverts it
     * (RFC 9000 §17.4), so it flips once per round trip. */
    if (largest && h->type == QC_PT_1RTT && c->spin.enabled)
        c->spin.value = c->is_server ? (first & 0x20) != 0 : (first & 0x20) == 0;
    if (rv && c->state >= QC_CONN_CLOSING) return rv;
    qc_ts max_ack_delay = c->cfg.max_ack_delay_ms * QC_MS;
    /* CE-marked packets are acknowledged at once (RFC 9000 §13.2.1). */
    bool immediate = sp != QC_PNS_APP || !c->handshake_complete || (ecn & 3) == QC_ECN_CE;
    qc_ack_on_packet(&space->ack, pn, eliciting, immediate, now, max_ack_delay);
    c->timers.last_activity = now;
    c->timers.last_rx = now;
    c->timers.sent_eliciting_since_rx = false;
    return rv;
}

int qc_conn_recv(qc_conn *c, uint8_t *dgram, size_t len, qc_ts now) {
    return qc_conn_recv_ecn(c, dgram, len, QC_ECN_NOT_ECT, now);
}

int qc_conn_recv_ecn(qc_conn *c, uint8_t *dgram, size_t len, unsigned ecn, qc_ts now) {
    return qc_conn_recv_from(c, dgram, len, ecn, NULL, now);
}

int qc_conn_recv_from(qc_conn *c, uint8_t *dgram, size_t len, unsigned ecn,
                      const qc_path_addr *from, qc_ts now) {
    c->qlog_now = now;
    if (c->state == QC_CONN_CLOSED) return QC_ERR_CLOSED;
    c->stats.bytes_recv += len;
    qc_conn_path_rx_begin(c, from, len);
    bool any = false;
    size_t off = 0;
    while (off < len) {
        qc_pkt_hdr h;
        if (qc_pkt_parse(dgram + off, len - off, c->cfg.scid_len, &h) ||
            !qc_pkt_quic_bit_ok(&h, c->cfg.grease_quic_bit))
            break;
        /* Padding after the last packet of a coalesced datagram is fine; junk stops parsing. */
        if (recv_packet(c, dgram + off, &h, ecn, now) == 0) any = true;
        if (c->state == QC_CONN_CLOSED) break;
        off += h.pkt_len;
    }
    if (!any && c->state < QC_CONN_DRAINING && qc_cids_is_stateless_reset(&c->cids, dgram, len)) {
        qc_conn_set_close_info(c, false, false, QC_TE_NO_ERROR, 0, QC_ERR_STATELESS_RESET,
                               "stateless reset", 15);
        c->close.stateless_reset = true;
        qc_conn_set_state(c, QC_CONN_DRAINING);
        c->timers.close_deadline = now + 3 * qc_conn_pto(c);
    }
    if (any) qc_conn_path_rx_end(c, len, now);
    if (any && c->state == QC_CONN_CLOSING && c->close.local) {
        /* Repeat CONNECTION_CLOSE, less and less often (RFC 9000 §10.2.1). */
        c->close_rx_count++;
        if ((c->close_rx_count & (c->close_rx_count - 1)) == 0) c->close_frame_pending = true;
    }
    return c->state == QC_CONN_CLOSED ? QC_ERR_CLOSED : 0;
}
