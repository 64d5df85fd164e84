/*
 * conn.c: connection lifecycle: creation for both roles, the TLS callbacks
 * (secrets, CRYPTO data, transport parameters), key discard, timers (loss
 * detection, ACK delay, idle, keep-alive, closing), and close/drain.
 * The path of a datagram in is conn_recv.c, out is conn_send.c.
 */
#include "core/conn_internal.h"

#include <assert.h>

#include <stdio.h>
#include <stdlib.h>

void qc_conn_config_default(qc_conn_config *cfg, bool is_server) {
    memset(cfg, 0, sizeof(*cfg));
    cfg->is_server = is_server;
    cfg->version = QC_VERSION_1;
    if (is_server)
        cfg->versions = (qc_version_list){{QC_VERSION_2, QC_VERSION_1}, 2};
    else
        cfg->versions = (qc_version_list){{QC_VERSION_1}, 1};
    cfg->scid_len = 8;
    cfg->idle_timeout_ms = 30000;
    cfg->initial_max_data = 4u << 20;
    cfg->max_data_window = 32u << 20;
    cfg->initial_max_stream_data = 1u << 20;
    cfg->max_stream_data_window = 16u << 20;
    cfg->max_streams_bidi = 100;
    cfg->max_streams_uni = 100;
    cfg->stream_send_buffer = 1u << 20;
    cfg->max_udp_payload = 1452;
    cfg->initial_rtt = 333 * QC_MS;
    cfg->max_ack_delay_ms = 25;
    cfg->ack_delay_exponent = 3;
    cfg->max_crypto_buffer = 64u << 10;
    cfg->ecn = true;
    cfg->grease_quic_bit = true;
}

/* The legal moves of the connection's lifecycle (RFC 9000 §10): forward only, CLOSING may
 * turn into DRAINING when the peer's CONNECTION_CLOSE crosses ours. */
static const bool state_moves[QC_CONN_CLOSED + 1][QC_CONN_CLOSED + 1] = {
    [QC_CONN_HANDSHAKING] = {[QC_CONN_ESTABLISHED] = true,
                             [QC_CONN_CLOSING] = true,
                             [QC_CONN_DRAINING] = true,
                             [QC_CONN_CLOSED] = true},
    [QC_CONN_ESTABLISHED] =
        {[QC_CONN_CLOSING] = true, [QC_CONN_DRAINING] = true, [QC_CONN_CLOSED] = true},
    [QC_CONN_CLOSING] = {[QC_CONN_DRAINING] = true, [QC_CONN_CLOSED] = true},
    [QC_CONN_DRAINING] = {[QC_CONN_CLOSED] = true},
};

/* The one place the connection state changes; an illegal move is a bug in the engine. */
void qc_conn_set_state(qc_conn *c, enum qc_conn_state st) {
    assert(state_moves[c->state][st] && "illegal connection state change");
    if (!state_moves[c->state][st]) return; /* without assertions: stay put */
    c->state = st;
}

enum qc_conn_state qc_conn_state(const qc_conn *c) {
    return c->state;
}
bool qc_conn_is_established(const qc_conn *c) {
    return c->handshake_complete;
}
bool qc_conn_is_confirmed(const qc_conn *c) {
    return c->handshake_confirmed;
}
bool qc_conn_is_server(const qc_conn *c) {
    return c->is_server;
}
const qc_close_info *qc_conn_close_info(const qc_conn *c) {
    return &c->close;
}
const qc_hs *qc_conn_hs(const qc_conn *c) {
    return c->hs_set ? &c->hs : NULL;
}
qc_hs *qc_conn_hs_mut(qc_conn *c) {
    return c->hs_set ? &c->hs : NULL;
}
bool qc_conn_key_update_pending(const qc_conn *c) {
    return c->keys.update_pending;
}
uint64_t qc_conn_key_updates(const qc_conn *c) {
    return c->keys.updates;
}
uint32_t qc_conn_version(const qc_conn *c) {
    return c->version;
}
/* The parameters a 0-RTT client may rely on (RFC 9000 §7.4.1). */
static void remembered_subset(const qc_tparams *from, qc_tparams *to) {
    qc_tparams_default(to);
    to->active_connection_id_limit = from->active_connection_id_limit;
    to->initial_max_data = from->initial_max_data;
    to->initial_max_stream_data_bidi_local = from->initial_max_stream_data_bidi_local;
    to->initial_max_stream_data_bidi_remote = from->initial_max_stream_data_bidi_remote;
    to->initial_max_stream_data_uni = from->initial_max_stream_data_uni;
    to->initial_max_streams_bidi = from->initial_max_streams_bidi;
    to->initial_max_streams_uni = from->initial_max_streams_uni;
    to->max_idle_timeout_ms = from->max_idle_timeout_ms;
    to->max_udp_payload_size = from->max_udp_payload_size;
    to->max_datagram_frame_size = from->max_datagram_frame_size;
    to->disable_active_migration = from->disable_active_migration;
}

int qc_conn_remembered_tparams(const qc_conn *c, uint8_t *buf, size_t cap) {
    if (c->is_server || !c->has_peer_tp || !c->handshake_complete) return QC_ERR_AGAIN;
    qc_tparams tp;
    remembered_subset(&c->peer_tp, &tp);
    return qc_tparams_encode(&tp, true, buf, cap);
}

int qc_conn_set_remembered_tparams(qc_conn *c, const uint8_t *data, size_t len) {
    if (c->is_server || c->has_peer_tp || c->hs_set) return QC_ERR_INVAL;
    qc_tparams tp;
    if (qc_tparams_decode(&tp, true, data, len) != 0) return QC_ERR_INVAL;
    /* 0-RTT packets obey these until the server's own arrive (hs_peer_tparams). */
    remembered_subset(&tp, &c->peer_tp);
    c->has_peer_tp = true;
    c->remembered_tp = true;
    qc_fc_send_on_max(&c->fc_send, c->peer_tp.initial_max_data);
    c->st.peer_max_bidi = c->peer_tp.initial_max_streams_bidi;
    c->st.peer_max_uni = c->peer_tp.initial_max_streams_uni;
    return 0;
}

bool qc_conn_early_possible(const qc_conn *c) {
    return !c->is_server && c->keys.has_tx[QC_EPOCH_0RTT] && !c->keys.has_tx[QC_EPOCH_1RTT] &&
           c->state == QC_CONN_HANDSHAKING;
}

uint32_t qc_conn_vn_retry_version(const qc_conn *c) {
    return c->vn.retry_version;
}
unsigned qc_conn_ecn_mark(const qc_conn *c) {
    return qc_ecn_mark(&c->ecn);
}
const qc_tparams *qc_conn_peer_tparams(const qc_conn *c) {
    return c->has_peer_tp ? &c->peer_tp : NULL;
}

/* ---- recovery callbacks: what to do when a packet's frames are acked or lost ---- */

static void on_frames(qc_conn *c, enum qc_pn_space space, const qc_sent_pkt *p, bool acked) {
    for (unsigned i = 0; i < p->nframes; i++) {
        const qc_sent_frame *f = &p->frames[i];
        qc_cstream *cs;
        switch (f->kind) {
        case QC_SK_CRYPTO:
            if (c->spaces[space].discarded) break;
            if (acked)
                qc_stream_on_acked(&c->spaces[space].crypto, f->offset, f->len, false);
            else
                qc_stream_on_lost(&c->spaces[space].crypto, f->offset, f->len, false);
            break;
        case QC_SK_STREAM:
            cs = qc_conn_find_stream(c, f->id);
            if (!cs) break;
            if (acked) {
                qc_stream_on_acked(&cs->s, f->offset, f->len, f->fin);
                qc_conn_stream_maybe_free(c, cs);
            } else {
                qc_stream_on_lost(&cs->s, f->offset, f->len, f->fin);
                qc_conn_stream_schedule(c, cs);
            }
            break;
        case QC_SK_ACK:
            if (acked) qc_ack_on_ack_acked(&c->spaces[space].ack, f->id);
            break;
        case QC_SK_RESET_STREAM:
            cs = qc_conn_find_stream(c, f->id);
            if (!cs) break;
            if (acked) {
                qc_stream_on_reset_acked(&cs->s);
                qc_conn_stream_maybe_free(c, cs);
            } else {
                cs->reset_pending = true;
                qc_conn_stream_schedule(c, cs);
            }
            break;
        case QC_SK_STOP_SENDING:
            cs = qc_conn_find_stream(c, f->id);
            if (cs && !acked && !qc_stream_recv_done(&cs->s)) {
                cs->stop_pending = true;
                qc_conn_stream_schedule(c, cs);
            }
            break;
        case QC_SK_CTL:
            if (!acked) qc_conn_ctl_lost(c, f);
            break;
        case QC_SK_MAX_STREAM_DATA:
            cs = qc_conn_find_stream(c, f->id);
            if (cs && !acked && f->offset == cs->fc_recv.max && cs->s.recv_state == QC_RECV_RECV) {
                cs->max_data_pending = true;
                qc_conn_stream_schedule(c, cs);
            }
            break;
        case QC_SK_NEW_CID:
            if (!acked) {
                for (unsigned k = 0; k < QC_CID_SLOTS; k++)
                    if (c->cids.local[k].in_use && c->cids.local[k].seq == f->id &&
                        !c->cids.local[k].retired)
                        c->cids.local[k].sent = false;
            }
            break;
        case QC_SK_RETIRE_CID:
            if (!acked && c->cids.nretire < QC_CID_SLOTS)
                c->cids.retire_pending[c->cids.nretire++] = f->id;
            break;
        default:
            break; /* PING, DATAGRAM, STREAM_DATA_BLOCKED: not retransmitted */
        }
    }
    if (!acked) c->stats.pkts_lost++;
}

static void rec_on_acked(void *user, enum qc_pn_space space, const qc_sent_pkt *p) {
    qc_conn *c = user;
    on_frames(c, space, p, true);
    c->ecn_newly_marked += p->ecn_marked;
    /* Key update completes when a packet of the new phase is acknowledged. */
    if (space == QC_PNS_APP) qc_ks_on_acked(&c->keys, p->pn);
    for (unsigned i = 0; i < p->nframes; i++)
        if (p->frames[i].kind == QC_SK_CTL && p->frames[i].id == QC_CTL_HANDSHAKE_DONE)
            c->handshake_done_acked = true;
    /* Client: an acknowledged 1-RTT packet confirms the handshake (RFC 9001 §4.1.2); a 0-RTT
     * one does not (its ACK can come before our Finished has even left). */
    if (space == QC_PNS_APP && !p->zero_rtt && !c->is_server && c->handshake_complete &&
        !c->handshake_confirmed)
        qc_conn_on_handshake_confirmed(c);
}

static void rec_on_lost(void *user, enum qc_pn_space space, const qc_sent_pkt *p) {
    qc_conn *c = user;
    on_frames(c, space, p, false);
    qc_ecn_on_lost(&c->ecn, p->ecn_marked != 0);
    qc_conn_qlog_lost(c, space, p, c->qlog_now);
}

/* ---- TLS callbacks ---- */

static int hs_set_secret(void *user, enum qc_epoch ep, bool is_write, enum qc_suite suite,
                         const uint8_t *secret, size_t len) {
    qc_conn *c = user;
    if (ep == QC_EPOCH_0RTT) {
        /* Client: write; server: read. Under the client's original version's labels. */
        if (is_write == c->is_server) return 0;
        return qc_ks_set_secret_ver(&c->keys, c->cp, ep, is_write, qc_version_find(c->vn.original),
                                    suite, secret, len);
    }
    int rv = qc_ks_set_secret(&c->keys, c->cp, ep, is_write, suite, secret, len);
    /* A client stops 0-RTT once it can send 1-RTT (RFC 9001 §4.9.3). */
    if (!rv && ep == QC_EPOCH_1RTT && is_write && !c->is_server)
        qc_ks_discard(&c->keys, c->cp, QC_EPOCH_0RTT);
    return rv;
}

static int hs_send_crypto(void *user, enum qc_epoch ep, const uint8_t *data, size_t len) {
    qc_conn *c = user;
    enum qc_pn_space sp = qc_epoch_space(ep);
    if (ep == QC_EPOCH_0RTT || c->spaces[sp].discarded) return QC_ERR_INTERNAL;
    qc_stream *s = &c->spaces[sp].crypto;
    /* The CRYPTO send buffer has no practical limit: TLS flights are small. */
    s->snd.max_buffered = UINT64_MAX;
    int64_t n = qc_stream_write(s, data, len);
    if (n < 0) return (int)n;
    return (size_t)n == len ? 0 : QC_ERR_NOMEM;
}

/* The version_information we send (RFC 9368 §3): the client's Available Versions are its
 * compatible versions, the server's the versions it supports. */
static void set_version_info(qc_conn *c, uint32_t chosen) {
    qc_tparams *tp = &c->local_tp;
    tp->has_version_info = true;
    /* Peers of the v2 draft know the draft's parameter only: send it too for them. */
    tp->version_info_draft = qc_version_list_has(&c->cfg.versions, QC_VERSION_2_DRAFT) ||
                             (c->has_peer_tp && c->peer_tp.version_info_draft);
    tp->chosen_version = chosen;
    tp->n_available = 0;
    if (!c->is_server && !qc_version_list_has(&c->cfg.versions, chosen))
        tp->available_versions[tp->n_available++] = chosen;
    for (size_t i = 0; i < c->cfg.versions.n; i++)
        tp->available_versions[tp->n_available++] = c->cfg.versions.v[i];
}

/*
 * Server: the client's version information decides the connection's version (RFC 9368
 * §2.3, §4): its Chosen Version must be the version of its Initial, and the connection
 * moves to the first of our versions it offers. Our own version information (sent in
 * EncryptedExtensions, after this) names the result.
 */
static int server_negotiate_version(qc_conn *c, const qc_tparams *tp) {
    uint32_t chosen = c->vn.original;
    if (tp->has_version_info) {
        if (tp->chosen_version != c->vn.original) return QC_ERR_VERSION_NEGOTIATION;
        chosen = qc_version_negotiate(&c->cfg.versions, c->vn.original, tp->available_versions,
                                      tp->n_available);
    }
    if (chosen != c->version) {
        int rv = qc_ks_switch_version(&c->keys, c->cp, true, qc_version_find(chosen),
                                      &c->ids.initial_dcid, true);
        /* A ticket of the original version is then not accepted (RFC 9369 §5). */
        if (!rv && c->hs.ops->set_version) rv = c->hs.ops->set_version(c->hs.impl, chosen);
        if (rv) return rv;
        c->version = chosen;
    }
    set_version_info(c, chosen);
    if (tp->version_info_draft) c->local_tp.version_info_draft = true; /* answer in kind */
    uint8_t buf[512];
    int rv = qc_tparams_encode(&c->local_tp, true, buf, sizeof(buf));
    if (rv >= 0) rv = c->hs.ops->set_local_tparams(c->hs.impl, buf, (size_t)rv);
    return rv;
}

/* After a Version Negotiation: the version we would have picked from one listing the
 * server's Available Versions and the negotiated version must be the one we attempted, or
 * the Version Negotiation was forged to downgrade us (RFC 9368 §4). */
static bool vn_was_honest(const qc_conn *c, const qc_tparams *tp) {
    for (size_t i = 0; i < c->cfg.versions.n; i++) {
        uint32_t v = c->cfg.versions.v[i];
        bool listed = v == tp->chosen_version;
        for (size_t j = 0; j < tp->n_available && !listed; j++)
            listed = tp->available_versions[j] == v;
        if (listed) return v == c->vn.original;
    }
    return false;
}

/* Client: the server's version information must name the version its packets came in,
 * one we offered; a server that moved us to another version must send it (RFC 9368 §4). */
static int client_check_version(const qc_conn *c, const qc_tparams *tp) {
    if (c->cfg.after_vn && (!tp->has_version_info || !vn_was_honest(c, tp)))
        return QC_ERR_VERSION_NEGOTIATION;
    if (!tp->has_version_info) return c->version == c->vn.original ? 0 : QC_ERR_VERSION_NEGOTIATION;
    if (tp->chosen_version != c->version) return QC_ERR_VERSION_NEGOTIATION;
    if (tp->chosen_version != c->vn.original &&
        !qc_version_list_has(&c->cfg.versions, tp->chosen_version))
        return QC_ERR_VERSION_NEGOTIATION;
    return 0;
}

static int hs_peer_tparams(void *user, const uint8_t *data, size_t len) {
    qc_conn *c = user;
    qc_tparams tp;
    int rv = qc_tparams_decode(&tp, !c->is_server, data, len);
    if (rv) return rv;
    if (c->is_server) {
        /* initial_scid must equal the SCID of the client's Initial: our peer CID 0. */
        rv = qc_tparams_check_cids(&tp, false, NULL, &c->cids.peer[0].cid, NULL);
        if (!rv) rv = server_negotiate_version(c, &tp);
    } else {
        rv = qc_tparams_check_cids(&tp, true, &c->ids.odcid, &c->cids.peer[0].cid,
                                   c->ids.retried ? &c->ids.retry_scid : NULL);
        if (!rv) rv = client_check_version(c, &tp);
    }
    if (rv) return rv;
    c->peer_tp = tp;
    c->has_peer_tp = true;
    c->remembered_tp = false;
    /* Apply: flow control, stream limits, timers, packet size. */
    qc_fc_send_on_max(&c->fc_send, tp.initial_max_data);
    c->st.peer_max_bidi = tp.initial_max_streams_bidi;
    c->st.peer_max_uni = tp.initial_max_streams_uni;
    c->rec.max_ack_delay = tp.max_ack_delay_ms * QC_MS;
    if (tp.max_idle_timeout_ms) {
        uint64_t local = c->cfg.idle_timeout_ms;
        uint64_t ms = local ? QC_MIN(local, tp.max_idle_timeout_ms) : tp.max_idle_timeout_ms;
        c->timers.idle_timeout = ms * QC_MS;
    }
    if (tp.max_udp_payload_size < c->path.max_payload)
        c->path.max_payload = (size_t)tp.max_udp_payload_size;
    c->cids.peer_limit = tp.active_connection_id_limit;
    if (!c->is_server && tp.has_reset_token) qc_cids_set_peer_token(&c->cids, tp.reset_token);
    qc_conn_streams_on_peer_tparams(c);
    return 0;
}

void qc_conn_hs_callbacks(qc_conn *c, qc_hs_callbacks *cbs) {
    cbs->user = c;
    cbs->set_secret = hs_set_secret;
    cbs->send_crypto = hs_send_crypto;
    cbs->peer_tparams = hs_peer_tparams;
}

/* ---- creation ---- */

static int conn_init_common(qc_conn *c, const qc_conn_config *cfg, uint32_t version, qc_ts now) {
    c->cfg = *cfg;
    c->is_server = cfg->is_server;
    c->version = version;
    c->vn.original = version;
    c->cp = cfg->crypto;
    c->state = QC_CONN_HANDSHAKING;
    c->path.max_payload =
        cfg->max_udp_payload < QC_MIN_INITIAL_SIZE ? QC_MIN_INITIAL_SIZE : cfg->max_udp_payload;
    for (int i = 0; i < QC_PNS_COUNT; i++) {
        c->spaces[i].largest_rx = UINT64_MAX;
        qc_ack_init(&c->spaces[i].ack);
        qc_stream_init(&c->spaces[i].crypto, 0, false, UINT64_MAX);
    }
    uint8_t r;
    cfg->rand(cfg->rand_user, &r, 1);
    c->spaces[QC_PNS_APP].skip_pn = 32 + r; /* the first 1-RTT number left out */
    /* The spin bit, off on one connection in 16 (its value then fixed and random), from
     * the same random byte. */
    c->spin.enabled = cfg->spin_bit == QC_SPIN_ON || (cfg->spin_bit == QC_SPIN_AUTO && (r & 15));
    c->spin.value = !c->spin.enabled && ((r >> 4) & 1);
    qc_recovery_cbs rcbs = {c, rec_on_acked, rec_on_lost};
    qc_recovery_init(&c->rec, &rcbs, c->is_server, QC_MIN_INITIAL_SIZE,
                     cfg->initial_rtt ? cfg->initial_rtt : 333 * QC_MS);
    c->rec.max_ack_delay = 0; /* until the peer's transport parameters arrive */
    qc_fc_recv_init(&c->fc_recv, cfg->initial_max_data, cfg->max_data_window);
    qc_fc_send_init(&c->fc_send, 0);
    c->st.local_max_bidi = cfg->max_streams_bidi;
    c->st.local_max_uni = cfg->max_streams_uni;
    c->timers.idle_timeout = cfg->idle_timeout_ms * QC_MS;
    c->timers.last_activity = now;
    c->timers.last_tx = now;
    c->timers.close_deadline = QC_TS_NONE;
    c->timers.created = now;
    qc_ks_init(&c->keys, qc_version_find(version));
    qc_ecn_init(&c->ecn, cfg->ecn);

    qc_tparams *tp = &c->local_tp;
    qc_tparams_default(tp);
    tp->max_idle_timeout_ms = cfg->idle_timeout_ms;
    tp->max_udp_payload_size = 65527;
    tp->initial_max_data = cfg->initial_max_data;
    tp->initial_max_stream_data_bidi_local = cfg->initial_max_stream_data;
    tp->initial_max_stream_data_bidi_remote = cfg->initial_max_stream_data;
    tp->initial_max_stream_data_uni = cfg->initial_max_stream_data;
    tp->initial_max_streams_bidi = cfg->max_streams_bidi;
    tp->initial_max_streams_uni = cfg->max_streams_uni;
    tp->ack_delay_exponent = cfg->ack_delay_exponent;
    tp->max_ack_delay_ms = cfg->max_ack_delay_ms;
    tp->active_connection_id_limit = QC_CID_SLOTS;
    tp->grease_quic_bit = cfg->grease_quic_bit;
    set_version_info(c, version);
    return 0;
}

static int install_initial_keys(qc_conn *c, const qc_cid *dcid) {
    return qc_ks_set_initial(&c->keys, c->cp, c->is_server, dcid);
}

int qc_conn_reinstall_initial_keys(qc_conn *c, const qc_cid *dcid) {
    return install_initial_keys(c, dcid);
}

/* A usable version list: known versions, at most QC_MAX_VERSIONS; empty means only the
 * connection's own version. */
static bool versions_ok(const qc_version_list *l) {
    if (l->n > QC_MAX_VERSIONS) return false;
    for (size_t i = 0; i < l->n; i++)
        if (!qc_version_find(l->v[i])) return false;
    return true;
}

int qc_conn_new_client(qc_conn **out, const qc_conn_config *cfg, const qc_cid *dcid,
                       const qc_cid *scid, qc_ts now) {
    uint32_t version = cfg->version ? cfg->version : QC_VERSION_1;
    if (!cfg->crypto || !cfg->rand || dcid->len < 8 || dcid->len > QC_MAX_CID_LEN ||
        scid->len > QC_MAX_CID_LEN || !qc_version_find(version) || !versions_ok(&cfg->versions) ||
        (cfg->versions.n == QC_MAX_VERSIONS && !qc_version_list_has(&cfg->versions, version)))
        return QC_ERR_INVAL;
    qc_conn *c = qc_calloc(1, sizeof(*c));
    if (!c) return QC_ERR_NOMEM;
    conn_init_common(c, cfg, version, now);
    c->ids.odcid = *dcid;
    qc_cids_init(&c->cids, scid, dcid);
    c->local_tp.has_initial_scid = true;
    c->local_tp.initial_scid = *scid;
    int rv = install_initial_keys(c, dcid);
    if (rv) {
        qc_conn_free(c);
        return rv;
    }
    *out = c;
    return 0;
}

int qc_conn_new_server(qc_conn **out, const qc_conn_config *cfg, const qc_pkt_hdr *hdr,
                       const qc_cid *scid, const qc_cid *odcid, const qc_cid *retry_scid,
                       bool addr_validated, qc_ts now) {
    if (!cfg->crypto || !cfg->rand || hdr->type != QC_PT_INITIAL || hdr->dcid.len < 8 ||
        !qc_version_find(hdr->version) || !versions_ok(&cfg->versions))
        return QC_ERR_INVAL;
    qc_conn *c = qc_calloc(1, sizeof(*c));
    if (!c) return QC_ERR_NOMEM;
    conn_init_common(c, cfg, hdr->version, now);
    c->ids.initial_dcid = hdr->dcid;
    c->ids.odcid = odcid ? *odcid : hdr->dcid;
    qc_cids_init(&c->cids, scid, &hdr->scid);
    c->ids.got_server_scid = true;
    c->path.amp_limited = !addr_validated;
    qc_tparams *tp = &c->local_tp;
    tp->has_original_dcid = true;
    tp->original_dcid = c->ids.odcid;
    tp->has_initial_scid = true;
    tp->initial_scid = *scid;
    if (retry_scid) {
        tp->has_retry_scid = true;
        tp->retry_scid = *retry_scid;
    }
    /* Stateless reset token for our initial CID. */
    tp->has_reset_token = true;
    if (cfg->cid_hooks.reset_token)
        cfg->cid_hooks.reset_token(cfg->cid_hooks.user, scid, tp->reset_token);
    else
        cfg->rand(cfg->rand_user, tp->reset_token, QC_RESET_TOKEN_LEN);
    memcpy(c->cids.local[0].token, tp->reset_token, QC_RESET_TOKEN_LEN);
    c->cids.local[0].has_token = true;
    int rv = install_initial_keys(c, &hdr->dcid);
    if (rv) {
        qc_conn_free(c);
        return rv;
    }
    *out = c;
    return 0;
}

void qc_conn_free(qc_conn *c) {
    if (!c) return;
    if (c->hs_set && c->hs.ops->free) c->hs.ops->free(c->hs.impl);
    qc_ks_free(&c->keys, c->cp);
    for (int i = 0; i < QC_PNS_COUNT; i++) {
        qc_ack_free(&c->spaces[i].ack);
        qc_stream_free(&c->spaces[i].crypto);
    }
    qc_recovery_free(&c->rec);
    qc_conn_streams_free(c);
    qc_free(c->ids.token);
    qc_free(c);
}

int qc_conn_set_hs(qc_conn *c, qc_hs hs) {
    uint8_t buf[512];
    int rv = qc_tparams_encode(&c->local_tp, c->is_server, buf, sizeof(buf));
    if (rv >= 0) rv = hs.ops->set_local_tparams(hs.impl, buf, (size_t)rv);
    if (rv == 0 && c->is_server && hs.ops->set_version)
        rv = hs.ops->set_version(hs.impl, c->version);
    if (rv) {
        hs.ops->free(hs.impl); /* taken even on failure: the caller never frees it */
        return rv;
    }
    c->hs = hs;
    c->hs_set = true;
    return 0;
}

bool qc_conn_crypto_resend(qc_conn *c, enum qc_pn_space sp) {
    qc_stream *cr = &c->spaces[sp].crypto;
    if (c->spaces[sp].discarded || cr->snd.sent <= cr->snd.acked_floor) return false;
    qc_stream_on_lost(cr, cr->snd.acked_floor, (size_t)(cr->snd.sent - cr->snd.acked_floor), false);
    return true;
}

void qc_conn_resend_crypto_early(qc_conn *c) {
    if (c->early_resends >= 2 || c->handshake_confirmed) return;
    c->early_resends++;
    qc_conn_crypto_resend(c, QC_PNS_INITIAL);
    qc_conn_crypto_resend(c, QC_PNS_HANDSHAKE);
}

int qc_conn_start(qc_conn *c, qc_ts now) {
    if (!c->hs_set) return QC_ERR_INVAL;
    c->timers.last_activity = now;
    int rv = c->hs.ops->start(c->hs.impl);
    if (rv) qc_conn_fail(c, rv, 0, "TLS start failed", now);
    return rv;
}

/* ---- keys, confirmation ---- */

void qc_conn_discard_epoch(qc_conn *c, enum qc_epoch ep) {
    enum qc_pn_space sp = qc_epoch_space(ep);
    if (c->spaces[sp].discarded) return;
    qc_ks_discard(&c->keys, c->cp, ep);
    c->spaces[sp].discarded = true;
    qc_recovery_discard_space(&c->rec, sp);
    qc_stream_free(&c->spaces[sp].crypto);
    qc_stream_init(&c->spaces[sp].crypto, 0, false, UINT64_MAX);
    c->probes_pending[sp] = 0;
    c->rec.pto_count = 0;
}

void qc_conn_on_handshake_confirmed(qc_conn *c) {
    if (c->handshake_confirmed) return;
    c->handshake_confirmed = true;
    qc_conn_discard_epoch(c, QC_EPOCH_HANDSHAKE);
    /* The server reads no more 0-RTT: what is still on its way comes again in 1-RTT. */
    if (c->is_server) qc_ks_discard(&c->keys, c->cp, QC_EPOCH_0RTT);
}

qc_ts qc_conn_pto(const qc_conn *c) {
    return qc_recovery_pto(&c->rec, true);
}

/* ---- closing ---- */

static void enter_closing(qc_conn *c, qc_ts now) {
    qc_conn_set_state(c, QC_CONN_CLOSING);
    c->close_frame_pending = true;
    c->timers.close_deadline = now + 3 * qc_conn_pto(c);
}

void qc_conn_set_close_info(qc_conn *c, bool local, bool app, uint64_t code, uint64_t frame_type,
                            int lib_error, const void *reason, size_t reason_len) {
    qc_close_info *ci = &c->close;
    memset(ci, 0, sizeof(*ci));
    ci->set = true;
    ci->local = local;
    ci->app = app;
    ci->error_code = code;
    ci->frame_type = frame_type;
    ci->lib_error = lib_error;
    ci->reason_len = QC_MIN(reason_len, sizeof(ci->reason) - 1);
    if (ci->reason_len) memcpy(ci->reason, reason, ci->reason_len);
    ci->reason[ci->reason_len] = 0;
    qc_conn_qlog_closed(c, c->qlog_now);
}

void qc_conn_fail_code(qc_conn *c, uint64_t code, int err, uint64_t frame_type, const char *reason,
                       qc_ts now) {
    if (c->state >= QC_CONN_CLOSING) return;
    const char *r = reason ? reason : qc_strerror(err);
    qc_conn_set_close_info(c, true, false, code, frame_type, err, r, strlen(r));
    enter_closing(c, now);
}

void qc_conn_fail(qc_conn *c, int err, uint64_t frame_type, const char *reason, qc_ts now) {
    qc_conn_fail_code(c, qc_err_transport(err), err, frame_type, reason, now);
}

int qc_conn_close(qc_conn *c, bool app, uint64_t error_code, const char *reason, qc_ts now) {
    if (c->state >= QC_CONN_CLOSING) return 0;
    const char *r = reason ? reason : "";
    qc_conn_set_close_info(c, true, app, error_code, 0, 0, r, strlen(r));
    enter_closing(c, now);
    return 0;
}

/* ---- timers ---- */

static qc_ts idle_deadline(const qc_conn *c) {
    if (!c->timers.idle_timeout || c->state >= QC_CONN_CLOSING) return QC_TS_NONE;
    /* At least three PTOs (RFC 9000 §10.1), without backoff: probing an unresponsive peer must
     * not postpone the timeout forever. */
    qc_ts t = QC_MAX(c->timers.idle_timeout, 3 * qc_recovery_pto_base(&c->rec));
    return c->timers.last_activity + t;
}

/* A handshake the peer has gone silent on for the configured time is abandoned (silently,
 * as an idle connection is), and so is one not done after three times that: half-open
 * connections must not hold a server's slots for the whole idle timeout, but one that is
 * still moving through heavy loss is not cut off after a fixed time (a client whose
 * Initials were lost three times in a row already waited 7 s). */
static qc_ts handshake_deadline(const qc_conn *c) {
    if (!c->cfg.handshake_timeout_ms || c->handshake_complete || c->state >= QC_CONN_CLOSING)
        return QC_TS_NONE;
    qc_ts t = c->cfg.handshake_timeout_ms * QC_MS;
    qc_ts heard = QC_MAX(c->timers.created, c->timers.last_rx);
    return QC_MIN(heard + t, c->timers.created + 3 * t);
}

static qc_ts keepalive_deadline(const qc_conn *c) {
    qc_ts iv = c->cfg.keepalive_interval;
    if (!iv && c->cfg.keepalive_auto) iv = c->timers.idle_timeout / 2;
    if (!iv || !c->handshake_complete || c->state != QC_CONN_ESTABLISHED) return QC_TS_NONE;
    return QC_MAX(c->timers.last_tx, c->timers.last_activity) + iv;
}

/* Whether the peer has validated this endpoint's address, for the client's anti-deadlock
 * PTO (RFC 9002 §6.2.2.1): a server is never limited by it; a client knows it once the
 * handshake is confirmed or a Handshake packet of its own is acknowledged (recovery
 * tracks that one itself). Until then a client with nothing in flight still arms a PTO,
 * so that a server stuck at its amplification limit gets more to answer. */
static bool peer_validated_us(const qc_conn *c) {
    return c->is_server || c->handshake_confirmed;
}

/* A server at its amplification limit can send nothing until the client sends more: it
 * must not arm the PTO either (RFC 9002 §6.2.2.1). */
static bool amp_blocked(const qc_conn *c) {
    return c->path.amp_limited && c->path.bytes_sent_unvalidated + QC_MIN_INITIAL_SIZE >
                                      3 * c->path.bytes_recv_unvalidated;
}

qc_ts qc_conn_next_timeout(const qc_conn *c) {
    if (c->state == QC_CONN_CLOSED) return QC_TS_NONE;
    if (c->state >= QC_CONN_CLOSING) return c->timers.close_deadline;
    qc_ts t = QC_MIN(idle_deadline(c), handshake_deadline(c));
    t = QC_MIN(t, keepalive_deadline(c));
    bool hs_keys = c->keys.has_tx[QC_EPOCH_HANDSHAKE];
    if (!amp_blocked(c))
        t = QC_MIN(
            t, qc_recovery_timer(&c->rec, c->handshake_confirmed, peer_validated_us(c), hs_keys));
    for (int i = 0; i < QC_PNS_COUNT; i++)
        if (!c->spaces[i].discarded) t = QC_MIN(t, qc_ack_deadline(&c->spaces[i].ack));
    t = QC_MIN(t, qc_ks_timer(&c->keys));
    t = QC_MIN(t, qc_conn_path_timer(c));
    return t;
}

int qc_conn_on_timeout(qc_conn *c, qc_ts now) {
    c->qlog_now = now;
    if (c->state == QC_CONN_CLOSED) return QC_ERR_CLOSED;
    if (c->state >= QC_CONN_CLOSING) {
        if (now >= c->timers.close_deadline) qc_conn_set_state(c, QC_CONN_CLOSED);
        return c->state == QC_CONN_CLOSED ? QC_ERR_CLOSED : 0;
    }
    if (now >= handshake_deadline(c)) {
        qc_conn_set_close_info(c, true, false, QC_TE_NO_ERROR, 0, QC_ERR_HANDSHAKE_TIMEOUT,
                               "handshake timeout", 17);
        c->close.idle = true; /* nothing is sent: the peer gave up or never was */
        qc_conn_set_state(c, QC_CONN_CLOSED);
        return QC_ERR_CLOSED;
    }
    if (now >= idle_deadline(c)) {
        /* Silent close (RFC 9000 §10.1). */
        qc_conn_set_close_info(c, true, false, QC_TE_NO_ERROR, 0, QC_ERR_IDLE_TIMEOUT,
                               "idle timeout", 12);
        c->close.idle = true;
        qc_conn_set_state(c, QC_CONN_CLOSED);
        return QC_ERR_CLOSED;
    }
    qc_ks_on_timeout(&c->keys, c->cp, now);
    qc_conn_path_on_timeout(c, now);
    if (now >= keepalive_deadline(c)) c->timers.ping_pending = true;
    bool hs_keys = c->keys.has_tx[QC_EPOCH_HANDSHAKE];
    qc_ts lt = amp_blocked(c) ? QC_TS_NONE
                              : qc_recovery_timer(&c->rec, c->handshake_confirmed,
                                                  peer_validated_us(c), hs_keys);
    if (lt != QC_TS_NONE && now >= lt) {
        enum qc_pn_space probe;
        int r = qc_recovery_on_timeout(&c->rec, c->handshake_confirmed, peer_validated_us(c),
                                       hs_keys, now, &probe);
        if (r == 1) {
            /* Probe in the space PTO chose; with no handshake keys yet the client probes with
             * an Initial (anti-deadlock). Queue outstanding CRYPTO data for retransmission. */
            if (c->spaces[probe].discarded) probe = QC_PNS_APP;
            c->probes_pending[probe] = 2;
            /* RFC 9002 §6.2.4: probe the other spaces with ack-eliciting data in flight too. A
             * client whose handshake is not confirmed has no PTO of its own for 1-RTT: without
             * this, its first requests, once lost, wait for a HANDSHAKE_DONE that may be lost
             * as well, while its Handshake probes go to a server that dropped those keys. */
            /* A server's 1-RTT probe is of no use before the handshake completes (the client
             * cannot read it yet) and would spend the amplification budget its Handshake
             * data needs. */
            if (probe != QC_PNS_APP && c->keys.has_tx[QC_EPOCH_1RTT] &&
                c->rec.ack_eliciting_in_flight[QC_PNS_APP] > 0 && !c->probes_pending[QC_PNS_APP] &&
                !(c->is_server && !c->handshake_complete))
                c->probes_pending[QC_PNS_APP] = 1;
            /* 1-RTT probes carry again what the oldest unacknowledged packet carried, rather
             * than a PING: when the probe arrives, it repairs the loss itself. */
            if (probe == QC_PNS_APP && c->keys.has_tx[QC_EPOCH_1RTT]) {
                const qc_sent_pkt *old = qc_recovery_oldest_unacked(&c->rec, QC_PNS_APP);
                if (old) {
                    qc_sent_pkt copy = *old;
                    on_frames(c, QC_PNS_APP, &copy, false);
                }
            }
            /* A server repeats HANDSHAKE_DONE in its probes until it is acknowledged. */
            if (c->is_server && probe == QC_PNS_APP && c->handshake_confirmed &&
                !c->handshake_done_acked)
                qc_conn_ctl_queue(c, QC_CTL_HANDSHAKE_DONE);
            if (probe != QC_PNS_APP || c->keys.has_tx[QC_EPOCH_1RTT])
                qc_conn_crypto_resend(c, probe);
            /* The other handshake space's CRYPTO data still unacknowledged goes with the
             * probe (RFC 9002 §6.2.4): an earlier one (say the server's Initial, declared lost
             * while the congestion window is full of Handshake probes the client cannot read
             * without it), or a later one (a server's Initial probe without its Handshake
             * flight gives the client a ServerHello and nothing to go on with; by the next
             * PTO the amplification limit may allow no more). */
            for (int sp = QC_PNS_INITIAL; sp <= QC_PNS_HANDSHAKE; sp++)
                if (sp != (int)probe && !c->spaces[sp].discarded &&
                    c->keys.has_tx[qc_space_epoch((enum qc_pn_space)sp)] &&
                    qc_conn_crypto_resend(c, (enum qc_pn_space)sp) && !c->probes_pending[sp])
                    c->probes_pending[sp] = 1;
        }
    }
    return 0;
}

void qc_conn_get_stats(const qc_conn *c, qc_conn_stats *st) {
    *st = c->stats;
    st->srtt = c->rec.rtt.smoothed;
    st->min_rtt = c->rec.rtt.min;
    st->cwnd = c->rec.cc.cwnd;
    st->ecn_state = (int)c->ecn.state;
    st->ecn_marked = c->ecn.marked_sent;
    st->ecn_peer_ce = c->ecn.peer[QC_PNS_APP][2];
    st->early_data = c->hs_set && c->hs.ops->early_data ? c->hs.ops->early_data(c->hs.impl) : 0;
    st->path_migrations = c->path.migrations;
    st->path_validation_failures = c->path.validation_failures;
    st->path_state = (int)c->path.val.state;
}

int qc_conn_initiate_key_update(qc_conn *c) {
    if (!c->handshake_confirmed) return QC_ERR_AGAIN;
    /* Our send keys move now; the receive side follows when the peer answers. */
    int rv = qc_ks_initiate(&c->keys, c->cp, c->spaces[QC_PNS_APP].next_pn);
    if (!rv) qc_conn_qlog_key_updated(c, true, c->qlog_now);
    return rv;
}

int qc_conn_set_token(qc_conn *c, const uint8_t *token, size_t len) {
    if (c->is_server || len == 0 || len > 1024) return QC_ERR_INVAL;
    uint8_t *t = qc_malloc(len);
    if (!t) return QC_ERR_NOMEM;
    memcpy(t, token, len);
    qc_free(c->ids.token);
    c->ids.token = t;
    c->ids.token_len = len;
    return 0;
}

const uint8_t *qc_conn_new_token(const qc_conn *c, size_t *len) {
    *len = c->ids.new_token_len;
    return c->ids.new_token_len ? c->ids.new_token : NULL;
}

int qc_conn_send_new_token(qc_conn *c, const uint8_t *token, size_t len) {
    if (!c->is_server || len == 0 || len > sizeof(c->ids.new_token)) return QC_ERR_INVAL;
    memcpy(c->ids.new_token, token, len);
    c->ids.new_token_len = len;
    qc_conn_ctl_queue(c, QC_CTL_NEW_TOKEN);
    return 0;
}
