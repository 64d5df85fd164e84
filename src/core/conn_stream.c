/*
 * conn_stream.c: the connection's stream table (a chained hash on the
 * stream ID), stream limits (MAX_STREAMS in both directions, implicit
 * opening of lower-numbered peer streams), the send queue (round robin),
 * and the stream calls the API layer makes.
 */
#include "core/conn_internal.h"

#include <stdlib.h>

static size_t hslot(const qc_conn *c, uint64_t id) {
    uint64_t h = id * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 32) & (c->st.hcap - 1);
}

qc_cstream *qc_conn_find_stream(const qc_conn *c, uint64_t id) {
    if (!c->st.hcap) return NULL;
    for (qc_cstream *cs = c->st.htab[hslot(c, id)]; cs; cs = cs->hnext)
        if (cs->s.id == id) return cs;
    return NULL;
}

static int htab_grow(qc_conn *c) {
    size_t ncap = c->st.hcap ? c->st.hcap * 2 : 16;
    qc_cstream **nt = qc_calloc(ncap, sizeof(*nt));
    if (!nt) return QC_ERR_NOMEM;
    qc_cstream **old = c->st.htab;
    size_t ocap = c->st.hcap;
    c->st.htab = nt;
    c->st.hcap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        qc_cstream *cs = old[i];
        while (cs) {
            qc_cstream *next = cs->hnext;
            size_t h = hslot(c, cs->s.id);
            cs->hnext = nt[h];
            nt[h] = cs;
            cs = next;
        }
    }
    qc_free(old);
    return 0;
}

static qc_cstream *stream_create(qc_conn *c, uint64_t id) {
    if (c->st.nstreams + 1 > c->st.hcap && htab_grow(c)) return NULL;
    qc_cstream *cs = qc_calloc(1, sizeof(*cs));
    if (!cs) return NULL;
    qc_stream_init(&cs->s, id, c->is_server, c->cfg.stream_send_buffer);
    bool local = qc_sid_is_local(id, c->is_server);
    bool uni = qc_sid_is_uni(id);
    /* Receive window: what we advertised for this kind of stream. */
    uint64_t rwin = c->cfg.initial_max_stream_data;
    qc_fc_recv_init(&cs->fc_recv, rwin, c->cfg.max_stream_data_window);
    /* Send credit: what the peer advertised for this kind of stream. */
    uint64_t smax = 0;
    if (c->has_peer_tp) {
        if (uni)
            smax = local ? c->peer_tp.initial_max_stream_data_uni : 0;
        else
            smax = local ? c->peer_tp.initial_max_stream_data_bidi_remote
                         : c->peer_tp.initial_max_stream_data_bidi_local;
    }
    qc_fc_send_init(&cs->fc_send, smax);
    size_t h = hslot(c, id);
    cs->hnext = c->st.htab[h];
    c->st.htab[h] = cs;
    c->st.nstreams++;
    return cs;
}

static void stream_destroy(qc_conn *c, qc_cstream *cs) {
    qc_conn_stream_unschedule(c, cs);
    qc_cstream **pp = &c->st.htab[hslot(c, cs->s.id)];
    while (*pp && *pp != cs)
        pp = &(*pp)->hnext;
    if (*pp) *pp = cs->hnext;
    c->st.nstreams--;
    qc_stream_free(&cs->s);
    qc_free(cs);
}

void qc_conn_streams_free(qc_conn *c) {
    for (size_t i = 0; i < c->st.hcap; i++) {
        qc_cstream *cs = c->st.htab[i];
        while (cs) {
            qc_cstream *next = cs->hnext;
            qc_stream_free(&cs->s);
            qc_free(cs);
            cs = next;
        }
    }
    qc_free(c->st.htab);
    c->st.htab = NULL;
    qc_free(c->st.incoming);
    c->st.incoming = NULL;
    c->st.incoming_len = c->st.incoming_cap = c->st.incoming_head = 0;
    c->st.hcap = c->st.nstreams = 0;
    c->st.send_head = NULL;
}

/* The peer's transport parameters (or MAX_STREAMS) arrived: give existing local streams their
 * send credit and release streams opened in advance of credit. */
void qc_conn_streams_on_peer_tparams(qc_conn *c) {
    for (size_t i = 0; i < c->st.hcap; i++) {
        for (qc_cstream *cs = c->st.htab[i]; cs; cs = cs->hnext) {
            bool local = qc_sid_is_local(cs->s.id, c->is_server);
            bool uni = qc_sid_is_uni(cs->s.id);
            if (local && c->has_peer_tp && cs->fc_send.max == 0 && cs->fc_send.used == 0) {
                uint64_t m = uni ? c->peer_tp.initial_max_stream_data_uni
                                 : c->peer_tp.initial_max_stream_data_bidi_remote;
                qc_fc_send_on_max(&cs->fc_send, m);
            }
            if (cs->waits_credit) {
                uint64_t idx = cs->s.id >> 2;
                if (idx < (uni ? c->st.peer_max_uni : c->st.peer_max_bidi))
                    cs->waits_credit = false;
            }
            if (qc_conn_stream_has_work(c, cs)) qc_conn_stream_schedule(c, cs);
        }
    }
}

/* ---- send queue ---- */

bool qc_conn_stream_has_work(const qc_conn *c, const qc_cstream *cs) {
    if (cs->reset_pending || cs->stop_pending || cs->max_data_pending || cs->blocked_pending)
        return true;
    if (cs->fc_recv.update_pending && cs->s.recv_state == QC_RECV_RECV) return true;
    if (cs->waits_credit) return false;
    if (cs->s.send_state != QC_SEND_READY && cs->s.send_state != QC_SEND_SEND &&
        cs->s.send_state != QC_SEND_DATA_SENT)
        return false;
    uint64_t off;
    size_t len;
    bool fin;
    uint64_t limit = QC_MIN(cs->fc_send.max, cs->s.snd.sent + qc_fc_send_avail(&c->fc_send));
    if (qc_stream_next_chunk(&cs->s, limit, 1200, &off, &len, &fin)) return true;
    /* Blocked by flow control with data waiting: report it once. */
    return cs->s.snd.written > cs->s.snd.sent && cs->fc_send.max <= cs->s.snd.sent &&
           qc_fc_send_should_report_blocked(&cs->fc_send);
}

void qc_conn_stream_schedule(qc_conn *c, qc_cstream *cs) {
    if (cs->in_send_queue) return;
    cs->in_send_queue = true;
    if (!c->st.send_head) {
        cs->snext = cs->sprev = cs;
        c->st.send_head = cs;
        return;
    }
    /* Insert at the tail (just before head). */
    qc_cstream *tail = c->st.send_head->sprev;
    cs->snext = c->st.send_head;
    cs->sprev = tail;
    tail->snext = cs;
    c->st.send_head->sprev = cs;
}

void qc_conn_stream_unschedule(qc_conn *c, qc_cstream *cs) {
    if (!cs->in_send_queue) return;
    cs->in_send_queue = false;
    if (cs->snext == cs) {
        c->st.send_head = NULL;
    } else {
        cs->sprev->snext = cs->snext;
        cs->snext->sprev = cs->sprev;
        if (c->st.send_head == cs) c->st.send_head = cs->snext;
    }
    cs->snext = cs->sprev = NULL;
}

/* ---- lifetime ---- */

void qc_conn_stream_maybe_free(qc_conn *c, qc_cstream *cs) {
    bool send_done = cs->s.send_state == QC_SEND_NONE || qc_stream_send_done(&cs->s);
    bool recv_done = cs->s.recv_state == QC_RECV_NONE || qc_stream_recv_done(&cs->s);
    bool local = qc_sid_is_local(cs->s.id, c->is_server);
    /* A peer stream whose parts are both finished gives the peer credit for a new one,
     * once the application has seen it (released it). */
    if (!cs->released || !send_done || !recv_done || cs->reset_pending || cs->stop_pending) return;
    if (!local && !cs->counted_closed) {
        cs->counted_closed = true;
        if (qc_sid_is_uni(cs->s.id)) {
            c->st.peer_closed_uni++;
            c->st.local_max_uni = c->st.peer_closed_uni + c->cfg.max_streams_uni;
            qc_conn_ctl_queue(c, QC_CTL_MAX_STREAMS_UNI);
        } else {
            c->st.peer_closed_bidi++;
            c->st.local_max_bidi = c->st.peer_closed_bidi + c->cfg.max_streams_bidi;
            qc_conn_ctl_queue(c, QC_CTL_MAX_STREAMS_BIDI);
        }
    }
    stream_destroy(c, cs);
}

/* ---- frames addressing streams ---- */

int qc_conn_stream_for_frame(qc_conn *c, uint64_t id, bool sending_part, qc_cstream **out) {
    *out = NULL;
    bool local = qc_sid_is_local(id, c->is_server);
    bool uni = qc_sid_is_uni(id);
    /* Frames about our sending part on a stream we only receive on, or our receiving part on
     * a stream we only send on, are STREAM_STATE errors (RFC 9000 §19). */
    if (uni && local && !sending_part) return QC_ERR_STREAM_STATE;
    if (uni && !local && sending_part) return QC_ERR_STREAM_STATE;
    qc_cstream *cs = qc_conn_find_stream(c, id);
    if (cs) {
        *out = cs;
        return 0;
    }
    uint64_t idx = id >> 2;
    if (local) {
        uint64_t next = uni ? c->st.next_local_uni : c->st.next_local_bidi;
        if (idx >= next) return QC_ERR_STREAM_STATE; /* never opened */
        return 0;                                    /* closed and forgotten: ignore */
    }
    uint64_t limit = uni ? c->st.local_max_uni : c->st.local_max_bidi;
    if (idx >= limit) return QC_ERR_STREAM_LIMIT;
    uint64_t *opened = uni ? &c->st.peer_opened_uni : &c->st.peer_opened_bidi;
    if (idx < *opened) return 0; /* closed and forgotten */
    /* Open every lower-numbered stream of this type too (RFC 9000 §3.2). */
    for (uint64_t i = *opened; i <= idx; i++) {
        uint64_t sid = (i << 2) | (id & 3);
        qc_cstream *n = stream_create(c, sid);
        if (!n) return QC_ERR_NOMEM;
        if (c->st.incoming_len == c->st.incoming_cap) {
            size_t ncap = c->st.incoming_cap ? 2 * c->st.incoming_cap : 16;
            uint64_t *q = qc_malloc(ncap * sizeof(*q));
            if (!q) return QC_ERR_NOMEM;
            for (size_t k = 0; k < c->st.incoming_len; k++)
                q[k] = c->st.incoming[(c->st.incoming_head + k) % c->st.incoming_cap];
            qc_free(c->st.incoming);
            c->st.incoming = q;
            c->st.incoming_cap = ncap;
            c->st.incoming_head = 0;
        }
        c->st.incoming[(c->st.incoming_head + c->st.incoming_len) % c->st.incoming_cap] = sid;
        c->st.incoming_len++;
        *opened = i + 1;
        cs = n;
    }
    *out = cs;
    return 0;
}

/* ---- application calls ---- */

uint64_t qc_conn_streams_avail(const qc_conn *c, bool uni) {
    uint64_t max = uni ? c->st.peer_max_uni : c->st.peer_max_bidi;
    uint64_t next = uni ? c->st.next_local_uni : c->st.next_local_bidi;
    return max > next ? max - next : 0;
}

uint64_t qc_conn_peer_streams_avail(const qc_conn *c, bool uni) {
    uint64_t max = uni ? c->st.local_max_uni : c->st.local_max_bidi;
    uint64_t opened = uni ? c->st.peer_opened_uni : c->st.peer_opened_bidi;
    return max > opened ? max - opened : 0;
}

int qc_conn_stream_open(qc_conn *c, bool uni, bool advance, uint64_t *id) {
    if (c->state >= QC_CONN_CLOSING) return QC_ERR_CLOSED;
    uint64_t *next = uni ? &c->st.next_local_uni : &c->st.next_local_bidi;
    bool credit = qc_conn_streams_avail(c, uni) > 0;
    if (!credit && !advance) {
        qc_conn_ctl_queue(c, uni ? QC_CTL_STREAMS_BLOCKED_UNI : QC_CTL_STREAMS_BLOCKED_BIDI);
        return QC_ERR_STREAM_LIMIT;
    }
    if (*next >= (1ull << 60)) return QC_ERR_STREAM_LIMIT;
    uint64_t sid = (*next << 2) | (uni ? 2u : 0u) | (c->is_server ? 1u : 0u);
    qc_cstream *cs = stream_create(c, sid);
    if (!cs) return QC_ERR_NOMEM;
    cs->waits_credit = !credit;
    cs->announced = true;
    (*next)++;
    *id = sid;
    return 0;
}

bool qc_conn_stream_accept(qc_conn *c, uint64_t *id) {
    while (c->st.incoming_len > 0) {
        uint64_t sid = c->st.incoming[c->st.incoming_head];
        c->st.incoming_head = (c->st.incoming_head + 1) % c->st.incoming_cap;
        c->st.incoming_len--;
        qc_cstream *cs = qc_conn_find_stream(c, sid);
        if (!cs || cs->announced) continue;
        cs->announced = true;
        *id = sid;
        return true;
    }
    return false;
}

size_t qc_conn_stream_accept_queue_len(const qc_conn *c) {
    return c->st.incoming_len;
}

size_t qc_conn_stream_incoming(const qc_conn *c, bool uni) {
    size_t n = 0;
    for (size_t i = 0; i < c->st.incoming_len; i++) {
        uint64_t sid = c->st.incoming[(c->st.incoming_head + i) % c->st.incoming_cap];
        const qc_cstream *cs = qc_conn_find_stream(c, sid);
        if (cs && !cs->announced && qc_sid_is_uni(sid) == uni) n++;
    }
    return n;
}

bool qc_conn_stream_exists(const qc_conn *c, uint64_t id) {
    return qc_conn_find_stream(c, id) != NULL;
}

int64_t qc_conn_stream_write(qc_conn *c, uint64_t id, const uint8_t *data, size_t len, bool fin) {
    if (c->state >= QC_CONN_CLOSING) return QC_ERR_CLOSED;
    qc_cstream *cs = qc_conn_find_stream(c, id);
    if (!cs) return QC_ERR_STREAM_NOT_FOUND;
    if (cs->s.send_state == QC_SEND_NONE) return QC_ERR_STREAM_STATE;
    int64_t n = 0;
    if (len) {
        n = qc_stream_write(&cs->s, data, len);
        if (n < 0) return n;
    }
    if (fin && (size_t)n == len) {
        int rv = qc_stream_conclude(&cs->s);
        if (rv) return rv;
    }
    if (n > 0 || fin) qc_conn_stream_schedule(c, cs);
    return n;
}

size_t qc_conn_stream_write_avail(const qc_conn *c, uint64_t id) {
    qc_cstream *cs = qc_conn_find_stream(c, id);
    return cs ? qc_stream_write_avail(&cs->s) : 0;
}

int64_t qc_conn_stream_read(qc_conn *c, uint64_t id, uint8_t *buf, size_t len, bool *fin) {
    qc_cstream *cs = qc_conn_find_stream(c, id);
    *fin = false;
    if (!cs) return QC_ERR_STREAM_NOT_FOUND;
    if (cs->s.recv_state == QC_RECV_NONE) return QC_ERR_STREAM_STATE;
    size_t n = qc_stream_read(&cs->s, buf, len, fin);
    if (n) {
        qc_fc_recv_consume(&cs->fc_recv, n);
        qc_fc_recv_consume(&c->fc_recv, n);
        if (cs->fc_recv.update_pending && !*fin) qc_conn_stream_schedule(c, cs);
    }
    return (int64_t)n;
}

int64_t qc_conn_stream_peek(const qc_conn *c, uint64_t id, uint8_t *buf, size_t len) {
    qc_cstream *cs = qc_conn_find_stream(c, id);
    if (!cs) return QC_ERR_STREAM_NOT_FOUND;
    if (cs->s.recv_state == QC_RECV_NONE) return QC_ERR_STREAM_STATE;
    return (int64_t)qc_stream_peek(&cs->s, buf, len);
}

size_t qc_conn_stream_readable(const qc_conn *c, uint64_t id, bool *fin_ready) {
    qc_cstream *cs = qc_conn_find_stream(c, id);
    *fin_ready = false;
    if (!cs) return 0;
    size_t n = qc_stream_readable(&cs->s);
    *fin_ready = cs->s.rcv.final_size != UINT64_MAX && cs->s.rcv.read + n == cs->s.rcv.final_size &&
                 cs->s.recv_state != QC_RECV_DATA_READ;
    return n;
}

int qc_conn_stream_reset(qc_conn *c, uint64_t id, uint64_t app_error) {
    qc_cstream *cs = qc_conn_find_stream(c, id);
    if (!cs) return QC_ERR_STREAM_NOT_FOUND;
    int rv = qc_stream_reset(&cs->s, app_error);
    if (rv) return rv;
    cs->reset_pending = true;
    qc_conn_stream_schedule(c, cs);
    return 0;
}

int qc_conn_stream_stop_sending(qc_conn *c, uint64_t id, uint64_t app_error) {
    qc_cstream *cs = qc_conn_find_stream(c, id);
    if (!cs) return QC_ERR_STREAM_NOT_FOUND;
    if (cs->s.recv_state == QC_RECV_NONE) return QC_ERR_STREAM_STATE;
    if (cs->s.recv_state != QC_RECV_RECV && cs->s.recv_state != QC_RECV_SIZE_KNOWN)
        return 0; /* everything arrived or the peer reset it: nothing to stop */
    cs->s.stop_code_sent = app_error;
    cs->stop_pending = true;
    qc_conn_stream_schedule(c, cs);
    return 0;
}

void qc_conn_stream_release(qc_conn *c, uint64_t id) {
    qc_cstream *cs = qc_conn_find_stream(c, id);
    if (!cs) return;
    cs->released = true;
    cs->announced = true;
    /* Data that will never be read still frees connection-level credit. */
    if (cs->s.recv_state != QC_RECV_NONE) {
        uint64_t unread =
            cs->s.rcv.highest > cs->fc_recv.consumed ? cs->s.rcv.highest - cs->fc_recv.consumed : 0;
        if (unread) {
            qc_fc_recv_consume(&c->fc_recv, unread);
            cs->fc_recv.consumed += unread;
        }
    }
    qc_conn_stream_maybe_free(c, cs);
}

int qc_conn_stream_info(const qc_conn *c, uint64_t id, qc_stream_info *info) {
    qc_cstream *cs = qc_conn_find_stream(c, id);
    if (!cs) return QC_ERR_STREAM_NOT_FOUND;
    memset(info, 0, sizeof(*info));
    info->send_state = cs->s.send_state;
    info->recv_state = cs->s.recv_state;
    info->reset_recvd =
        cs->s.recv_state == QC_RECV_RESET_RECVD || cs->s.recv_state == QC_RECV_RESET_READ;
    info->reset_code_recvd = cs->s.reset_code_recvd;
    info->stop_sending_recvd = cs->s.stop_sending_recvd;
    info->stop_code_recvd = cs->s.stop_code_recvd;
    info->reset_sent =
        cs->s.send_state == QC_SEND_RESET_SENT || cs->s.send_state == QC_SEND_RESET_RECVD;
    info->reset_code_sent = cs->s.reset_code_sent;
    info->send_concluded = cs->s.snd.fin;
    info->send_buffered = cs->s.snd.written - cs->s.snd.acked_floor;
    info->send_buffer_size = cs->s.snd.max_buffered;
    return 0;
}

bool qc_conn_send_flushed(const qc_conn *c) {
    for (size_t i = 0; i < c->st.hcap; i++) {
        for (qc_cstream *cs = c->st.htab[i]; cs; cs = cs->hnext) {
            enum qc_send_state st = cs->s.send_state;
            if (st != QC_SEND_READY && st != QC_SEND_SEND && st != QC_SEND_DATA_SENT) continue;
            if (cs->s.snd.acked_floor < cs->s.snd.written ||
                (cs->s.snd.fin && !cs->s.snd.fin_acked))
                return false;
        }
    }
    return true;
}
