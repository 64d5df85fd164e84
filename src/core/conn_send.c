/*
 * conn_send.c: the path of a datagram out. qc_conn_send() builds one UDP
 * datagram: up to one packet per space (Initial, Handshake, 1-RTT),
 * coalesced, each filled with frames in priority order (ACK, CRYPTO,
 * control frames, stream data round-robin), then padded where the RFC
 * requires and protected in place. What each packet carried is recorded
 * for loss recovery (recovery.h) without allocating per packet.
 */
#include "core/conn_internal.h"

#define MIN_PACKET_ROOM 64 /* don't start a packet with less space than this */

typedef struct pkt_build {
    enum qc_pkt_type type;
    enum qc_pn_space sp;
    enum qc_epoch ep;
    uint8_t *start;
    size_t cap; /* room for this packet, tag included */
    size_t pn_offset, pn_len, hdr_len;
    size_t len; /* bytes written so far (header + payload) */
    uint64_t pn;
    bool eliciting, in_flight, has_crypto;
    qc_sent_pkt *rec;
} pkt_build;

/* The epoch a space's packets go in now: for the application space a client without
 * 1-RTT keys yet sends 0-RTT packets when it has 0-RTT keys (RFC 9001 §4.6.1). */
static enum qc_epoch send_epoch(const qc_conn *c, enum qc_pn_space sp) {
    /* Never in a version the server moved the connection to (RFC 9369 §4). */
    if (sp == QC_PNS_APP && !c->is_server && !c->keys.has_tx[QC_EPOCH_1RTT] &&
        c->keys.has_tx[QC_EPOCH_0RTT] && c->version == c->vn.original)
        return QC_EPOCH_0RTT;
    return qc_space_epoch(sp);
}

static enum qc_pkt_type epoch_pkt_type(enum qc_epoch ep) {
    static const enum qc_pkt_type types[QC_EPOCH_COUNT] = {[QC_EPOCH_INITIAL] = QC_PT_INITIAL,
                                                           [QC_EPOCH_0RTT] = QC_PT_0RTT,
                                                           [QC_EPOCH_HANDSHAKE] = QC_PT_HANDSHAKE,
                                                           [QC_EPOCH_1RTT] = QC_PT_1RTT};
    return types[ep];
}

static size_t room(const pkt_build *b) {
    size_t used = b->len + QC_AEAD_TAG_LEN;
    return b->cap > used ? b->cap - used : 0;
}

static qc_wr writer(pkt_build *b) {
    return qc_wr_init(b->start + b->len, room(b));
}

static bool rec_full(const pkt_build *b) {
    return b->rec->nframes >= QC_SENT_MAX_FRAMES;
}

static void rec_add(pkt_build *b, uint8_t kind, uint64_t id, uint64_t offset, uint32_t len,
                    bool fin) {
    qc_sent_frame *f = &b->rec->frames[b->rec->nframes++];
    f->kind = kind;
    f->id = id;
    f->offset = offset;
    f->len = len;
    f->fin = fin;
    f->epoch = (uint8_t)b->ep;
}

/* Writes a simple frame; returns true if it fit (and marks the packet ack-eliciting). */
static bool put_frame(pkt_build *b, const qc_frame *f) {
    qc_wr w = writer(b);
    if (qc_frame_encode(&w, f)) return false;
    b->len = (size_t)(w.p - b->start);
    if (qc_frame_ack_eliciting(f->type)) {
        b->eliciting = true;
        b->in_flight = true;
    }
    return true;
}

/*
 * RFC 9287: a peer that advertised grease_quic_bit gets the QUIC bit clear on about half of
 * our packets, never on Initial packets (whose reader may not know our parameters yet) and
 * only once its parameters are in. The sequence comes from our random connection ID
 * (xorshift), so greasing draws nothing from the RNG.
 */
static bool grease_quic_bit(qc_conn *c, enum qc_pkt_type type) {
    if (type == QC_PT_INITIAL || !c->cfg.grease_quic_bit || !c->has_peer_tp ||
        !c->peer_tp.grease_quic_bit)
        return false;
    if (!c->grease_rng) {
        const qc_cid *id = &c->cids.local[0].cid;
        uint64_t h = 0xcbf29ce484222325ull;
        for (size_t i = 0; i < id->len; i++)
            h = (h ^ id->id[i]) * 0x100000001b3ull;
        c->grease_rng = h | 1;
    }
    c->grease_rng ^= c->grease_rng << 13;
    c->grease_rng ^= c->grease_rng >> 7;
    c->grease_rng ^= c->grease_rng << 17;
    return c->grease_rng & 1;
}

static bool begin_packet(qc_conn *c, pkt_build *b, enum qc_pn_space sp, uint8_t *buf, size_t cap) {
    memset(b, 0, sizeof(*b));
    b->sp = sp;
    b->ep = send_epoch(c, sp);
    b->type = epoch_pkt_type(b->ep);
    b->start = buf;
    b->cap = cap;
    qc_space *space = &c->spaces[sp];
    if (sp == QC_PNS_APP && space->next_pn == space->skip_pn) {
        /* Leave this number out: a peer acknowledging it acknowledges what it never got. */
        qc_recovery_on_skipped(&c->rec, space->next_pn);
        space->next_pn++;
        uint8_t r[2];
        c->cfg.rand(c->cfg.rand_user, r, sizeof(r));
        space->skip_pn = space->next_pn + 64 + (((uint64_t)r[0] << 8 | r[1]) % 1024);
    }
    b->pn = space->next_pn;
    uint64_t la = c->rec.largest_acked[sp];
    b->pn_len = qc_pn_encode_len(b->pn, la);
    qc_pkt_out out = {
        .clear_quic_bit = grease_quic_bit(c, b->type),
        .type = b->type,
        .version = c->version,
        .dcid = qc_cids_peer_current(&c->cids),
        .scid = &c->cids.local[0].cid,
        .token = b->type == QC_PT_INITIAL && !c->is_server ? c->ids.token : NULL,
        .token_len = b->type == QC_PT_INITIAL && !c->is_server ? c->ids.token_len : 0,
        .pn = b->pn,
        .pn_len = b->pn_len,
        .key_phase = c->keys.tx_phase,
        .spin = c->spin.value,
    };
    b->hdr_len = qc_pkt_write_hdr(buf, cap, &out, &b->pn_offset);
    if (!b->hdr_len || b->hdr_len + QC_AEAD_TAG_LEN + 4 > cap) return false;
    b->len = b->hdr_len;
    b->rec = qc_recovery_next(&c->rec, sp);
    if (!b->rec) return false;
    b->rec->nframes = 0;
    return true;
}

/* ---- frame producers ---- */

static void add_ack(qc_conn *c, pkt_build *b, qc_ts now) {
    qc_ack_tracker *t = &c->spaces[b->sp].ack;
    if (!t->ack_needed || rec_full(b)) return;
    qc_wr w = writer(b);
    uint64_t largest;
    unsigned exp = b->sp == QC_PNS_APP ? (unsigned)c->cfg.ack_delay_exponent : 3;
    if (qc_ack_write(t, &w, now, exp, &largest) == 0) {
        b->len = (size_t)(w.p - b->start);
        rec_add(b, QC_SK_ACK, largest, 0, 0, false);
    }
}

static void add_crypto(qc_conn *c, pkt_build *b) {
    qc_stream *cr = &c->spaces[b->sp].crypto;
    while (!rec_full(b)) {
        size_t r = room(b);
        if (r < 16) return;
        uint64_t off;
        size_t len;
        bool fin;
        if (!qc_stream_next_chunk(cr, UINT64_MAX, r, &off, &len, &fin) || len == 0) return;
        size_t hdr = 1 + qc_varint_len(off) + qc_varint_len(len);
        if (hdr + len > r) {
            len = r - hdr;
            hdr = 1 + qc_varint_len(off) + qc_varint_len(len);
            if (hdr + len > r) len = r - hdr;
        }
        uint8_t *p = b->start + b->len;
        *p++ = QC_FT_CRYPTO;
        p = qc_varint_put(p, off);
        p = qc_varint_put(p, len);
        qc_stream_copy_out(cr, off, len, p);
        b->len += hdr + len;
        qc_stream_on_sent(cr, off, len, false);
        rec_add(b, QC_SK_CRYPTO, 0, off, (uint32_t)len, false);
        b->eliciting = b->in_flight = b->has_crypto = true;
    }
}

/* ---- connection control frames: one row each ---- */

/* Each row: the frame's type; where its value lives in the connection (the frames that
 * carry one number) or how to fill it in; whether a lost one is sent again while its value
 * is still current. fill returns the value recorded with the packet. */
typedef struct qc_ctl_row {
    uint64_t type;
    size_t value_at; /* offset of a uint64_t in qc_conn, or 0: use fill */
    uint64_t (*fill)(qc_conn *c, qc_frame *f, qc_ts now);
    bool retransmit;
} qc_ctl_row;

static uint64_t fill_path_challenge(qc_conn *c, qc_frame *f, qc_ts now) {
    memcpy(f->u.path.data, c->path.val.challenge, 8);
    qc_conn_path_challenge_sent(c, now); /* path.c sends the next one itself */
    return 0;
}

static uint64_t fill_path_response(qc_conn *c, qc_frame *f, qc_ts now) {
    (void)now;
    /* The oldest challenge not yet answered; the next goes in the next packet. */
    memcpy(f->u.path.data, c->path.path_responses[0], 8);
    if (c->path.n_path_responses > 0) {
        c->path.n_path_responses--;
        memmove(c->path.path_responses[0], c->path.path_responses[1], c->path.n_path_responses * 8);
    }
    return 0;
}

static uint64_t fill_none(qc_conn *c, qc_frame *f, qc_ts now) {
    (void)c, (void)f, (void)now;
    return 0;
}

static uint64_t fill_new_token(qc_conn *c, qc_frame *f, qc_ts now) {
    (void)now;
    f->u.new_token.token = c->ids.new_token;
    f->u.new_token.len = c->ids.new_token_len;
    return 0;
}

static uint64_t fill_max_data(qc_conn *c, qc_frame *f, qc_ts now) {
    return f->u.max.max = c->fc_recv.update_pending
                              ? qc_fc_recv_update(&c->fc_recv, now, c->rec.rtt.smoothed)
                              : c->fc_recv.max;
}

#define CTL_VALUE(field) offsetof(qc_conn, field)

/* In the order they go into a packet. PATH_CHALLENGE, PATH_RESPONSE and the *_BLOCKED
 * frames are not sent again (path validation sends new challenges; a new challenge or a
 * new block queues a new answer). */
static const qc_ctl_row ctl_rows[QC_CTL_COUNT] = {
    [QC_CTL_PATH_CHALLENGE] = {QC_FT_PATH_CHALLENGE, 0, fill_path_challenge, false},
    [QC_CTL_PATH_RESPONSE] = {QC_FT_PATH_RESPONSE, 0, fill_path_response, false},
    [QC_CTL_HANDSHAKE_DONE] = {QC_FT_HANDSHAKE_DONE, 0, fill_none, true},
    [QC_CTL_NEW_TOKEN] = {QC_FT_NEW_TOKEN, 0, fill_new_token, true},
    [QC_CTL_MAX_DATA] = {QC_FT_MAX_DATA, 0, fill_max_data, true},
    [QC_CTL_MAX_STREAMS_BIDI] = {QC_FT_MAX_STREAMS_BIDI, CTL_VALUE(st.local_max_bidi), NULL, true},
    [QC_CTL_MAX_STREAMS_UNI] = {QC_FT_MAX_STREAMS_UNI, CTL_VALUE(st.local_max_uni), NULL, true},
    [QC_CTL_STREAMS_BLOCKED_BIDI] = {QC_FT_STREAMS_BLOCKED_BIDI, CTL_VALUE(st.peer_max_bidi), NULL,
                                     false},
    [QC_CTL_STREAMS_BLOCKED_UNI] = {QC_FT_STREAMS_BLOCKED_UNI, CTL_VALUE(st.peer_max_uni), NULL,
                                    false},
    [QC_CTL_DATA_BLOCKED] = {QC_FT_DATA_BLOCKED, CTL_VALUE(fc_send.max), NULL, false},
};

/* The frame's current value, filled into f. */
static uint64_t ctl_fill(qc_conn *c, enum qc_ctl k, qc_frame *f, qc_ts now) {
    if (!ctl_rows[k].value_at) return ctl_rows[k].fill(c, f, now);
    uint64_t v;
    memcpy(&v, (const char *)c + ctl_rows[k].value_at, sizeof(v));
    return f->u.max.max = v;
}

void qc_conn_ctl_lost(qc_conn *c, const qc_sent_frame *f) {
    if (f->id >= QC_CTL_COUNT || !ctl_rows[f->id].retransmit) return;
    /* Only the latest value matters: a lost MAX_DATA 100 after one of 200 went is moot. */
    qc_frame probe = {0};
    uint64_t cur =
        f->id == QC_CTL_MAX_DATA ? c->fc_recv.max : ctl_fill(c, (enum qc_ctl)f->id, &probe, 0);
    if (cur == f->offset) qc_conn_ctl_queue(c, (enum qc_ctl)f->id);
}

static void add_control(qc_conn *c, pkt_build *b, qc_ts now) {
    if (c->fc_recv.update_pending) qc_conn_ctl_queue(c, QC_CTL_MAX_DATA);
    if (c->path.val.challenge_pending) qc_conn_ctl_queue(c, QC_CTL_PATH_CHALLENGE);
    for (unsigned k = 0; k < QC_CTL_COUNT && c->ctl_pending && !rec_full(b); k++) {
        if (!(c->ctl_pending & (1u << k))) continue;
        qc_frame f;
        memset(&f, 0, sizeof(f));
        f.type = ctl_rows[k].type;
        uint64_t value = ctl_fill(c, (enum qc_ctl)k, &f, now);
        if (!put_frame(b, &f)) continue;
        c->ctl_pending &= ~(1u << k);
        rec_add(b, QC_SK_CTL, k, value, 0, false);
    }
    if (c->path.n_path_responses) qc_conn_ctl_queue(c, QC_CTL_PATH_RESPONSE);
    qc_frame f;
    for (unsigned i = 0; i < QC_CID_SLOTS && !rec_full(b); i++) {
        qc_cid_entry *e = &c->cids.local[i];
        if (!e->in_use || e->sent || e->retired || e->seq == 0) continue;
        f.type = QC_FT_NEW_CONNECTION_ID;
        f.u.new_cid.seq = e->seq;
        f.u.new_cid.retire_prior_to = 0;
        f.u.new_cid.cid = e->cid;
        memcpy(f.u.new_cid.reset_token, e->token, QC_RESET_TOKEN_LEN);
        if (!put_frame(b, &f)) break;
        e->sent = true;
        rec_add(b, QC_SK_NEW_CID, e->seq, 0, 0, false);
    }
    while (c->cids.nretire > 0 && !rec_full(b)) {
        f.type = QC_FT_RETIRE_CONNECTION_ID;
        f.u.retire_cid.seq = c->cids.retire_pending[c->cids.nretire - 1];
        if (!put_frame(b, &f)) break;
        c->cids.nretire--;
        rec_add(b, QC_SK_RETIRE_CID, f.u.retire_cid.seq, 0, 0, false);
    }
}

/* Adds frames for one stream; returns false when the packet is full. */
static bool add_stream_frames(qc_conn *c, pkt_build *b, qc_cstream *cs, bool cwnd_ok, qc_ts now) {
    qc_frame f;
    if (cs->reset_pending) {
        if (rec_full(b)) return false;
        f.type = QC_FT_RESET_STREAM;
        f.u.reset_stream.stream_id = cs->s.id;
        f.u.reset_stream.app_error = cs->s.reset_code_sent;
        f.u.reset_stream.final_size = cs->s.snd.sent;
        if (!put_frame(b, &f)) return false;
        cs->reset_pending = false;
        rec_add(b, QC_SK_RESET_STREAM, cs->s.id, 0, 0, false);
    }
    if (cs->stop_pending) {
        if (rec_full(b)) return false;
        f.type = QC_FT_STOP_SENDING;
        f.u.stop_sending.stream_id = cs->s.id;
        f.u.stop_sending.app_error = cs->s.stop_code_sent;
        if (!put_frame(b, &f)) return false;
        cs->stop_pending = false;
        rec_add(b, QC_SK_STOP_SENDING, cs->s.id, 0, 0, false);
    }
    if (cs->fc_recv.update_pending && cs->s.recv_state == QC_RECV_RECV) cs->max_data_pending = true;
    if (cs->max_data_pending) {
        if (rec_full(b)) return false;
        f.type = QC_FT_MAX_STREAM_DATA;
        f.u.stream_max.stream_id = cs->s.id;
        f.u.stream_max.max = cs->fc_recv.update_pending
                                 ? qc_fc_recv_update(&cs->fc_recv, now, c->rec.rtt.smoothed)
                                 : cs->fc_recv.max;
        if (!put_frame(b, &f)) return false;
        cs->max_data_pending = false;
        rec_add(b, QC_SK_MAX_STREAM_DATA, cs->s.id, f.u.stream_max.max, 0, false);
    }
    if (!cwnd_ok || cs->waits_credit) return true;
    if (cs->s.send_state != QC_SEND_READY && cs->s.send_state != QC_SEND_SEND &&
        cs->s.send_state != QC_SEND_DATA_SENT)
        return true;
    while (!rec_full(b)) {
        size_t r = room(b);
        if (r < 24) return false;
        /* New data is limited by the stream's and the connection's credit. */
        uint64_t conn_avail = qc_fc_send_avail(&c->fc_send);
        uint64_t limit = QC_MIN(cs->fc_send.max, cs->s.snd.sent + conn_avail);
        uint64_t off;
        size_t len;
        bool fin;
        if (!qc_stream_next_chunk(&cs->s, limit, r, &off, &len, &fin)) {
            if (cs->s.snd.written > cs->s.snd.sent && limit <= cs->s.snd.sent) {
                if (cs->fc_send.max <= cs->s.snd.sent &&
                    qc_fc_send_should_report_blocked(&cs->fc_send))
                    cs->blocked_pending = true;
                if (conn_avail == 0 && qc_fc_send_should_report_blocked(&c->fc_send)) {
                    qc_conn_ctl_queue(c, QC_CTL_DATA_BLOCKED);
                    c->fc_send.blocked_at = c->fc_send.max;
                }
            }
            break;
        }
        size_t hdr = qc_frame_stream_hdr_len(cs->s.id, off, len, true);
        if (hdr + len > r) {
            if (r <= hdr) return false;
            len = r - hdr;
            hdr = qc_frame_stream_hdr_len(cs->s.id, off, len, true);
            if (hdr + len > r) len = r - hdr;
            fin = false;
        }
        uint8_t *p = qc_frame_stream_hdr_put(b->start + b->len, cs->s.id, off, len, true, fin);
        qc_stream_copy_out(&cs->s, off, len, p);
        b->len = (size_t)(p - b->start) + len;
        uint64_t end = off + len;
        if (end > cs->fc_send.used) {
            c->fc_send.used += end - QC_MAX(cs->fc_send.used, off);
            cs->fc_send.used = end;
        }
        qc_stream_on_sent(&cs->s, off, len, fin);
        rec_add(b, QC_SK_STREAM, cs->s.id, off, (uint32_t)len, fin);
        b->eliciting = b->in_flight = true;
        if (fin || len == 0) break;
    }
    if (cs->blocked_pending && !rec_full(b)) {
        f.type = QC_FT_STREAM_DATA_BLOCKED;
        f.u.stream_max.stream_id = cs->s.id;
        f.u.stream_max.max = cs->fc_send.max;
        if (put_frame(b, &f)) {
            cs->blocked_pending = false;
            cs->fc_send.blocked_at = cs->fc_send.max;
            rec_add(b, QC_SK_STREAM_DATA_BLOCKED, cs->s.id, f.u.stream_max.max, 0, false);
        }
    }
    return !rec_full(b) && room(b) >= 24;
}

static void add_streams(qc_conn *c, pkt_build *b, bool cwnd_ok, qc_ts now) {
    /* Round robin: serve the head, then move it to the back (or out of the queue when it has
     * nothing more to send). Bounded by the number of streams so blocked streams can't spin. */
    size_t budget = c->st.nstreams + 1;
    while (c->st.send_head && budget--) {
        qc_cstream *cs = c->st.send_head;
        bool more_room = add_stream_frames(c, b, cs, cwnd_ok, now);
        if (!qc_conn_stream_has_work(c, cs)) {
            qc_conn_stream_unschedule(c, cs);
            qc_conn_stream_maybe_free(c, cs);
        } else {
            c->st.send_head = cs->snext;
        }
        if (!more_room) return;
    }
}

/* ---- deciding what a space has to send ---- */

static bool app_has_control(const qc_conn *c) {
    if (c->ctl_pending || c->fc_recv.update_pending || c->cids.nretire > 0) return true;
    for (unsigned i = 0; i < QC_CID_SLOTS; i++)
        if (c->cids.local[i].in_use && !c->cids.local[i].sent && !c->cids.local[i].retired &&
            c->cids.local[i].seq != 0)
            return true;
    return false;
}

static bool crypto_pending(const qc_conn *c, enum qc_pn_space sp) {
    uint64_t off;
    size_t len;
    bool fin;
    return qc_stream_next_chunk(&c->spaces[sp].crypto, UINT64_MAX, 1200, &off, &len, &fin) &&
           len > 0;
}

static bool space_wants_send(const qc_conn *c, enum qc_pn_space sp, qc_ts now, bool cwnd_ok) {
    enum qc_epoch ep = send_epoch(c, sp);
    if (c->spaces[sp].discarded || !c->keys.has_tx[ep]) return false;
    if (ep == QC_EPOCH_0RTT) /* no ACK, no control frame: stream data (and probes) only */
        return c->probes_pending[sp] || (cwnd_ok && c->st.send_head != NULL);
    /* An ACK alone justifies a packet only when it is due (never in answer to ACKs alone). */
    if (qc_ack_deadline(&c->spaces[sp].ack) <= now) return true;
    if (c->probes_pending[sp]) return true;
    /* Path validation is not held back by the congestion window (only by amplification). */
    if (sp == QC_PNS_APP && ep == QC_EPOCH_1RTT && c->path.val.challenge_pending) return true;
    if (!cwnd_ok) return false;
    if (crypto_pending(c, sp)) return true;
    if (sp != QC_PNS_APP) return false;
    if (c->timers.ping_pending || app_has_control(c)) return true;
    return c->st.send_head != NULL;
}

bool qc_conn_has_pending(const qc_conn *c, qc_ts now) {
    if (c->state == QC_CONN_CLOSING) return c->close_frame_pending;
    if (c->state != QC_CONN_HANDSHAKING && c->state != QC_CONN_ESTABLISHED) return false;
    bool cwnd_ok = qc_cc_avail(&c->rec.cc) > 0;
    for (int sp = 0; sp < QC_PNS_COUNT; sp++)
        if (space_wants_send(c, (enum qc_pn_space)sp, now, cwnd_ok)) return true;
    return false;
}

bool qc_conn_want_send(const qc_conn *c, qc_ts now) {
    return qc_conn_has_pending(c, now);
}

/* ---- finishing packets ---- */

static int finish_packet(qc_conn *c, pkt_build *b, qc_ts now) {
    /* The header-protection sample needs 4 bytes after the pn start (RFC 9001 §5.4.2). */
    while (b->len - b->pn_offset < 4 + 0)
        b->start[b->len++] = 0;
    size_t payload_len = b->len - b->hdr_len;
    if (b->type != QC_PT_1RTT)
        qc_pkt_set_length(b->start, b->pn_offset, b->pn_len + payload_len + QC_AEAD_TAG_LEN);
    qc_keys *k = &c->keys.tx[b->ep];
    int rv = qc_packet_protect(c->cp, k, b->start, b->pn_offset, b->pn_len, b->pn, payload_len);
    if (rv) return rv;
    b->len += QC_AEAD_TAG_LEN;
    qc_sent_pkt *p = b->rec;
    p->pn = b->pn;
    p->size = (uint32_t)b->len;
    p->ack_eliciting = b->eliciting;
    p->in_flight = b->in_flight;
    p->ecn_marked = qc_ecn_mark(&c->ecn) == QC_ECN_ECT0; /* the datagram's mark */
    p->zero_rtt = b->type == QC_PT_0RTT;
    if (p->zero_rtt) c->stats.zero_rtt_sent += p->size;
    qc_conn_qlog_sent(c, b->type, p, now);
    qc_ecn_on_sent(&c->ecn, p->ecn_marked);
    qc_recovery_on_sent(&c->rec, b->sp, p, now);
    c->spaces[b->sp].next_pn++;
    c->stats.pkts_sent++;
    if (b->eliciting) {
        if (!c->timers.sent_eliciting_since_rx) c->timers.last_activity = now;
        c->timers.sent_eliciting_since_rx = true;
    }
    return 0;
}

/* A datagram carrying CONNECTION_CLOSE in every space the peer may be able to read. A
 * client's datagram with an Initial packet is padded to 1200 bytes, as all of them must be
 * (RFC 9000 §14.1): a server drops smaller ones, and with them the close. */
static int send_close(qc_conn *c, uint8_t *buf, size_t limit, qc_ts now) {
    pkt_build pk[QC_PNS_COUNT];
    int npk = 0;
    size_t used = 0;
    for (int sp = 0; sp < QC_PNS_COUNT; sp++) {
        enum qc_epoch ep = qc_space_epoch((enum qc_pn_space)sp);
        if (c->spaces[sp].discarded || !c->keys.has_tx[ep]) continue;
        if (sp == QC_PNS_APP && !c->handshake_complete) continue;
        pkt_build *b = &pk[npk];
        if (limit - used < MIN_PACKET_ROOM ||
            !begin_packet(c, b, (enum qc_pn_space)sp, buf + used, limit - used))
            break;
        qc_frame f;
        bool app = c->close.app && sp == QC_PNS_APP;
        f.type = app ? QC_FT_CONNECTION_CLOSE_APP : QC_FT_CONNECTION_CLOSE;
        f.u.close.error_code =
            c->close.app && !app ? (uint64_t)QC_TE_APPLICATION_ERROR : c->close.error_code;
        f.u.close.frame_type = c->close.frame_type;
        f.u.close.reason = (const uint8_t *)c->close.reason;
        f.u.close.reason_len = QC_MIN(c->close.reason_len, room(b) > 32 ? room(b) - 32 : 0);
        if (c->close.app && !app)
            f.u.close.reason_len = 0; /* no application detail before 1-RTT (RFC 9000 §10.2.3) */
        qc_wr w = writer(b);
        if (qc_frame_encode(&w, &f)) break;
        b->len = (size_t)(w.p - b->start);
        used = (size_t)(b->start - buf) + b->len + QC_AEAD_TAG_LEN;
        npk++;
    }
    if (npk > 0 && pk[0].type == QC_PT_INITIAL && !c->is_server && used < QC_MIN_INITIAL_SIZE) {
        pkt_build *last = &pk[npk - 1];
        size_t extra = QC_MIN_INITIAL_SIZE - used;
        if (last->len + extra + QC_AEAD_TAG_LEN <= last->cap) {
            memset(last->start + last->len, 0, extra); /* PADDING frames */
            last->len += extra;
        }
    }
    int total = 0;
    for (int i = 0; i < npk; i++) {
        int rv = finish_packet(c, &pk[i], now);
        if (rv) return rv;
        total += (int)pk[i].len;
    }
    c->close_frame_pending = false;
    return total;
}

/*
 * The confidentiality limit of the 1-RTT send key (RFC 9001 §6.6): from seven eighths of it
 * on, the keys are updated as soon as an update is allowed; 16 packets short of it (room
 * for the CONNECTION_CLOSE), a connection that still could not update closes with
 * AEAD_LIMIT_REACHED.
 */
static void check_confidentiality_limit(qc_conn *c, qc_ts now) {
    if (!c->keys.has_tx[QC_EPOCH_1RTT] || c->state != QC_CONN_ESTABLISHED) return;
    uint64_t limit = c->cfg.aead_confidentiality_limit
                         ? c->cfg.aead_confidentiality_limit
                         : qc_suite_confidentiality_limit(c->keys.tx[QC_EPOCH_1RTT].suite);
    uint64_t used = c->spaces[QC_PNS_APP].next_pn - c->keys.tx_phase_first_pn;
    if (used < limit - limit / 8) return;
    if (qc_conn_initiate_key_update(c) == 0) return;
    if (used + 16 >= limit)
        qc_conn_fail(c, QC_ERR_AEAD_LIMIT, 0, "confidentiality limit of the packet key", now);
}

int qc_conn_send_probe(qc_conn *c, uint8_t *buf, size_t cap, qc_path_addr *to, qc_ts now) {
    if (!c->path.probe.pending || c->state != QC_CONN_ESTABLISHED || !c->keys.has_tx[QC_EPOCH_1RTT])
        return 0;
    c->path.probe.pending = false;
    /* That path is not validated: three times what came from it (RFC 9000 §8.1, §8.2.2),
     * padded to 1200 bytes when that allows. */
    uint64_t allowed = 3 * c->path.probe.bytes_recv;
    size_t limit = QC_MIN(cap, c->path.max_payload);
    if (allowed < limit) limit = (size_t)allowed;
    pkt_build b;
    if (limit < MIN_PACKET_ROOM || !begin_packet(c, &b, QC_PNS_APP, buf, limit)) return 0;
    qc_frame f = {.type = QC_FT_PATH_RESPONSE};
    memcpy(f.u.path.data, c->path.probe.data, 8);
    if (!put_frame(&b, &f)) return 0;
    rec_add(&b, QC_SK_CTL, QC_CTL_PATH_RESPONSE, 0, 0, false);
    size_t want = QC_MIN((size_t)QC_MIN_INITIAL_SIZE, limit);
    if (b.len + QC_AEAD_TAG_LEN < want) {
        size_t extra = want - b.len - QC_AEAD_TAG_LEN;
        memset(b.start + b.len, 0, extra);
        b.len += extra;
    }
    int rv = finish_packet(c, &b, now);
    if (rv) return rv;
    c->path.probe.bytes_recv = allowed > b.len ? (allowed - b.len) / 3 : 0;
    c->stats.bytes_sent += b.len;
    *to = c->path.probe.addr;
    return (int)b.len;
}

int qc_conn_send(qc_conn *c, uint8_t *buf, size_t cap, qc_ts now) {
    c->qlog_now = now;
    if (c->state == QC_CONN_CLOSED || c->state == QC_CONN_DRAINING) return 0;
    check_confidentiality_limit(c, now);
    size_t limit = QC_MIN(cap, c->path.max_payload);
    if (c->path.amp_limited) {
        uint64_t allowed = 3 * c->path.bytes_recv_unvalidated;
        uint64_t left =
            allowed > c->path.bytes_sent_unvalidated ? allowed - c->path.bytes_sent_unvalidated : 0;
        if (left < limit) limit = (size_t)left;
        /* Anti-amplification: in the handshake, wait for more from the client; on a new path
         * afterwards, small packets may go (RFC 9000 §8.2.1, §9.3). */
        if (limit < QC_MIN_INITIAL_SIZE && c->is_server && !c->handshake_complete) return 0;
    }
    int total;
    if (c->state == QC_CONN_CLOSING) {
        if (!c->close_frame_pending) return 0;
        total = send_close(c, buf, limit, now);
    } else {
        pkt_build pk[QC_PNS_COUNT];
        int npk = 0;
        size_t used = 0;
        bool cwnd_ok = qc_cc_avail(&c->rec.cc) > 0;
        bool has_initial_eliciting = false;
        unsigned challenges = c->path.val.challenges;
        for (int s = 0; s < QC_PNS_COUNT; s++) {
            enum qc_pn_space sp = (enum qc_pn_space)s;
            bool probe = c->probes_pending[sp] > 0;
            if (!space_wants_send(c, sp, now, cwnd_ok)) continue;
            if (limit - used < MIN_PACKET_ROOM) break;
            pkt_build *b = &pk[npk];
            if (!begin_packet(c, b, sp, buf + used, limit - used)) break;
            bool zero_rtt = b->type == QC_PT_0RTT;
            if (!zero_rtt) add_ack(c, b, now);
            if (cwnd_ok || probe) {
                add_crypto(c, b);
                if (sp == QC_PNS_APP) {
                    if (!zero_rtt) add_control(c, b, now);
                    add_streams(c, b, true, now);
                }
            } else if (sp == QC_PNS_APP && !zero_rtt && c->path.val.challenge_pending) {
                add_control(c, b, now);
            }
            /* A peer never acknowledges ACK-only packets; make every 16th one ack-eliciting
             * so their records can be released (RFC 9000 §13.2.4). */
            bool ack_only_ping =
                sp == QC_PNS_APP && !b->eliciting && c->acks_only_sent >= 15 && b->len > b->hdr_len;
            if ((probe || ack_only_ping || (sp == QC_PNS_APP && c->timers.ping_pending)) &&
                !b->eliciting) {
                qc_frame f = {.type = QC_FT_PING};
                if (put_frame(b, &f)) rec_add(b, QC_SK_PING, 0, 0, 0, false);
            }
            if (b->len == b->hdr_len) {
                /* Nothing fitted: give the reserved record back unused. */
                continue;
            }
            if (probe && b->eliciting) c->probes_pending[sp]--;
            /* Both handshake probes carry the unacknowledged CRYPTO data: either one that
             * arrives moves the handshake on (a ClientHello probe followed by a bare PING
             * probe fails whenever the first is the one lost). */
            if (probe && sp != QC_PNS_APP && c->probes_pending[sp] > 0)
                qc_conn_crypto_resend(c, sp);
            if (sp == QC_PNS_APP && b->eliciting) c->timers.ping_pending = false;
            if (sp == QC_PNS_APP) c->acks_only_sent = b->eliciting ? 0 : c->acks_only_sent + 1;
            if (sp == QC_PNS_INITIAL && b->eliciting) has_initial_eliciting = true;
            used = (size_t)(b->start - buf) + b->len + QC_AEAD_TAG_LEN;
            npk++;
        }
        if (npk == 0) return 0;
        /* Datagrams with Initial packets are padded to 1200 bytes: all of the client's,
         * and the server's ack-eliciting ones (RFC 9000 §14.1); so are those with a
         * PATH_CHALLENGE, as far as the amplification limit allows (§8.2.1). */
        bool pad = (pk[0].type == QC_PT_INITIAL && (!c->is_server || has_initial_eliciting)) ||
                   c->path.val.challenges != challenges;
        if (pad && used < QC_MIN_INITIAL_SIZE) {
            pkt_build *last = &pk[npk - 1];
            size_t extra = QC_MIN_INITIAL_SIZE - used;
            if (last->len + extra + QC_AEAD_TAG_LEN <= last->cap) {
                memset(last->start + last->len, 0, extra);
                last->len += extra;
                used += extra;
            }
        }
        total = 0;
        for (int i = 0; i < npk; i++) {
            int rv = finish_packet(c, &pk[i], now);
            if (rv) return rv;
            total += (int)pk[i].len;
            if (pk[i].type == QC_PT_HANDSHAKE && !c->is_server) c->sent_handshake_pkt = true;
        }
        /* A client drops Initial keys once it sends its first Handshake packet. */
        if (c->sent_handshake_pkt && !c->spaces[QC_PNS_INITIAL].discarded)
            qc_conn_discard_epoch(c, QC_EPOCH_INITIAL);
    }
    if (total > 0) {
        c->stats.bytes_sent += (uint64_t)total;
        if (c->path.amp_limited) c->path.bytes_sent_unvalidated += (uint64_t)total;
        c->timers.last_tx = now;
    }
    return total;
}
