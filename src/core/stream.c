/*
 * stream.c: one QUIC stream (see stream.h).
 *
 * Both directions keep their bytes in a qc_bytering: a power-of-two buffer
 * where stream offset o lives at buf[o & (cap - 1)]. The ring covers the
 * live span [base, end) (send: [acked_floor, written); receive: [read,
 * highest)), grows geometrically when the span needs more room and is
 * freed when the span becomes empty, so an idle stream holds no heap
 * memory. The range sets are freed as well whenever they become empty.
 *
 * The RFC 9000 §3 state machines are changed only by send_transition()
 * and recv_transition(), which assert that every move is legal.
 */
#include "core/stream.h"

#include <assert.h>
#include <stdlib.h>

#define RING_MIN_CAP 256u

/* --- byte ring --- */

static void ring_free(qc_bytering *r) {
    qc_free(r->buf);
    r->buf = NULL;
    r->cap = 0;
}

/*
 * Makes the ring able to hold offsets [base, need_end), moving the live
 * bytes [base, live_end) when the buffer is reallocated. An empty ring
 * is rebased at base. Returns 0 or QC_ERR_NOMEM.
 */
static int ring_reserve(qc_bytering *r, uint64_t base, uint64_t live_end, uint64_t need_end) {
    if (r->cap == 0) {
        r->base = base;
        live_end = base; /* nothing held */
    }
    assert(r->base == base && live_end >= base);
    if (need_end < live_end) need_end = live_end;
    uint64_t need = need_end - base;
    if (need <= r->cap) return 0;
    if (need > (uint64_t)(SIZE_MAX / 4)) return QC_ERR_NOMEM;
    size_t cap = r->cap ? r->cap * 2 : RING_MIN_CAP;
    while (cap < need)
        cap *= 2;
    uint8_t *nb = qc_malloc(cap);
    if (!nb) return QC_ERR_NOMEM;
    for (uint64_t o = base; o < live_end;) {
        size_t pos = (size_t)(o & (r->cap - 1));
        size_t n = (size_t)QC_MIN(live_end - o, (uint64_t)(r->cap - pos));
        size_t npos = (size_t)(o & (cap - 1));
        size_t m = QC_MIN(n, cap - npos);
        memcpy(nb + npos, r->buf + pos, m);
        if (m < n) memcpy(nb, r->buf + pos + m, n - m);
        o += n;
    }
    qc_free(r->buf);
    r->buf = nb;
    r->cap = cap;
    return 0;
}

static void ring_put(qc_bytering *r, uint64_t off, const uint8_t *src, size_t n) {
    if (n == 0) return;
    size_t pos = (size_t)(off & (r->cap - 1));
    size_t m = QC_MIN(n, r->cap - pos);
    memcpy(r->buf + pos, src, m);
    if (m < n) memcpy(r->buf, src + m, n - m);
}

static void ring_get(const qc_bytering *r, uint64_t off, uint8_t *dst, size_t n) {
    if (n == 0) return;
    size_t pos = (size_t)(off & (r->cap - 1));
    size_t m = QC_MIN(n, r->cap - pos);
    memcpy(dst, r->buf + pos, m);
    if (m < n) memcpy(dst + m, r->buf, n - m);
}

/* Releases a range set's array once it holds nothing. */
static void rs_trim(qc_rangeset *rs) {
    if (rs->n == 0 && rs->r) qc_rangeset_free(rs);
}

/* --- state machines --- */

static void send_transition(qc_stream *s, enum qc_send_state to) {
    enum qc_send_state from = s->send_state;
    bool ok = false;
    switch (to) {
    case QC_SEND_SEND:
        ok = from == QC_SEND_READY;
        break;
    case QC_SEND_DATA_SENT:
        ok = from == QC_SEND_SEND;
        break;
    case QC_SEND_DATA_RECVD:
        ok = from == QC_SEND_DATA_SENT;
        break;
    case QC_SEND_RESET_SENT:
        ok = from == QC_SEND_READY || from == QC_SEND_SEND || from == QC_SEND_DATA_SENT;
        break;
    case QC_SEND_RESET_RECVD:
        ok = from == QC_SEND_RESET_SENT;
        break;
    default:
        break;
    }
    assert(ok && "illegal send state transition");
    (void)ok;
    s->send_state = to;
}

static void recv_transition(qc_stream *s, enum qc_recv_state to) {
    enum qc_recv_state from = s->recv_state;
    bool ok = false;
    switch (to) {
    case QC_RECV_SIZE_KNOWN:
        ok = from == QC_RECV_RECV;
        break;
    case QC_RECV_DATA_RECVD:
        ok = from == QC_RECV_SIZE_KNOWN;
        break;
    case QC_RECV_DATA_READ:
        ok = from == QC_RECV_DATA_RECVD;
        break;
    case QC_RECV_RESET_RECVD:
        ok = from == QC_RECV_RECV || from == QC_RECV_SIZE_KNOWN || from == QC_RECV_DATA_RECVD;
        break;
    case QC_RECV_RESET_READ:
        ok = from == QC_RECV_RESET_RECVD;
        break;
    default:
        break;
    }
    assert(ok && "illegal receive state transition");
    (void)ok;
    s->recv_state = to;
}

/* --- lifetime --- */

void qc_stream_init(qc_stream *s, uint64_t id, bool is_server, uint64_t max_buffered) {
    memset(s, 0, sizeof(*s));
    s->id = id;
    bool uni = qc_sid_is_uni(id), local = qc_sid_is_local(id, is_server);
    s->send_state = (uni && !local) ? QC_SEND_NONE : QC_SEND_READY;
    s->recv_state = (uni && local) ? QC_RECV_NONE : QC_RECV_RECV;
    qc_rangeset_init(&s->snd.acked, 0);
    qc_rangeset_init(&s->snd.lost, 0);
    s->snd.max_buffered = max_buffered;
    qc_rangeset_init(&s->rcv.received, 0);
    s->rcv.final_size = UINT64_MAX;
}

static void send_buf_release(qc_send_buf *b) {
    ring_free(&b->ring);
    qc_rangeset_free(&b->acked);
    qc_rangeset_free(&b->lost);
}

static void recv_buf_release(qc_recv_buf *b) {
    ring_free(&b->ring);
    qc_rangeset_free(&b->received);
}

void qc_stream_free(qc_stream *s) {
    send_buf_release(&s->snd);
    recv_buf_release(&s->rcv);
}

/* --- sending part --- */

/* The application may still write (and conclude). */
static bool send_open(const qc_stream *s) {
    return s->send_state == QC_SEND_READY || s->send_state == QC_SEND_SEND;
}

size_t qc_stream_write_avail(const qc_stream *s) {
    const qc_send_buf *b = &s->snd;
    if (!send_open(s) || b->fin) return 0;
    uint64_t buffered = b->written - b->acked_floor;
    if (buffered >= b->max_buffered) return 0;
    uint64_t avail = QC_MIN(b->max_buffered - buffered, QC_MAX_VARINT - b->written);
    return (size_t)QC_MIN(avail, (uint64_t)SIZE_MAX);
}

int64_t qc_stream_write(qc_stream *s, const uint8_t *data, size_t len) {
    qc_send_buf *b = &s->snd;
    if (!send_open(s) || b->fin) return QC_ERR_STREAM_STATE;
    size_t n = QC_MIN(len, qc_stream_write_avail(s));
    if (n > (size_t)INT64_MAX) n = (size_t)INT64_MAX;
    if (n == 0) return 0;
    int rv = ring_reserve(&b->ring, b->acked_floor, b->written, b->written + n);
    if (rv) return rv;
    ring_put(&b->ring, b->written, data, n);
    b->written += n;
    return (int64_t)n;
}

int qc_stream_conclude(qc_stream *s) {
    if (s->snd.fin && s->send_state != QC_SEND_RESET_SENT && s->send_state != QC_SEND_RESET_RECVD)
        return 0;
    if (!send_open(s)) return QC_ERR_STREAM_STATE;
    s->snd.fin = true;
    return 0;
}

/* The FIN still has to go out (never sent, or sent and lost). */
static bool fin_needs_send(const qc_send_buf *b) {
    return b->fin && !b->fin_acked && (!b->fin_sent || b->fin_lost);
}

bool qc_stream_next_chunk(const qc_stream *s, uint64_t limit, size_t max_len, uint64_t *off,
                          size_t *len, bool *fin) {
    const qc_send_buf *b = &s->snd;
    if (s->send_state != QC_SEND_READY && s->send_state != QC_SEND_SEND &&
        s->send_state != QC_SEND_DATA_SENT)
        return false;
    /* Lost data first: it was sent under the limit already. */
    const qc_range *r = qc_rangeset_first(&b->lost);
    if (r && max_len > 0) {
        uint64_t n = QC_MIN(r->hi - r->lo + 1, (uint64_t)max_len);
        *off = r->lo;
        *len = (size_t)n;
        *fin = r->lo + n == b->written && fin_needs_send(b);
        return true;
    }
    /* New data below the flow-control limit. */
    if (b->sent < b->written && b->sent < limit && max_len > 0) {
        uint64_t n = QC_MIN(QC_MIN(b->written, limit) - b->sent, (uint64_t)max_len);
        *off = b->sent;
        *len = (size_t)n;
        *fin = b->sent + n == b->written && fin_needs_send(b);
        return true;
    }
    /* A FIN with no data left to carry it. */
    if (b->sent == b->written && fin_needs_send(b)) {
        *off = b->written;
        *len = 0;
        *fin = true;
        return true;
    }
    return false;
}

void qc_stream_copy_out(const qc_stream *s, uint64_t off, size_t len, uint8_t *dst) {
    assert(off >= s->snd.acked_floor && off + len <= s->snd.written);
    ring_get(&s->snd.ring, off, dst, len);
}

int qc_stream_on_sent(qc_stream *s, uint64_t off, size_t len, bool fin) {
    qc_send_buf *b = &s->snd;
    if (s->send_state != QC_SEND_READY && s->send_state != QC_SEND_SEND &&
        s->send_state != QC_SEND_DATA_SENT)
        return QC_ERR_STREAM_STATE;
    uint64_t end = off + len;
    if (end < off || end > b->written || (fin && (!b->fin || end != b->written)))
        return QC_ERR_INVAL;
    if (len) {
        int rv = qc_rangeset_remove(&b->lost, off, end - 1);
        if (rv) return rv;
        rs_trim(&b->lost);
    }
    if (end > b->sent) b->sent = end;
    if (s->send_state == QC_SEND_READY) send_transition(s, QC_SEND_SEND);
    if (fin) {
        b->fin_sent = true;
        b->fin_lost = false;
        if (s->send_state == QC_SEND_SEND) send_transition(s, QC_SEND_DATA_SENT);
    }
    return 0;
}

int qc_stream_on_acked(qc_stream *s, uint64_t off, size_t len, bool fin) {
    qc_send_buf *b = &s->snd;
    if (s->send_state != QC_SEND_SEND && s->send_state != QC_SEND_DATA_SENT)
        return 0; /* reset, or everything already acknowledged */
    uint64_t end = off + len;
    if (end < off || end > b->sent) return QC_ERR_INVAL;
    if (end > b->acked_floor && len) {
        uint64_t lo = QC_MAX(off, b->acked_floor);
        int rv = qc_rangeset_add(&b->acked, lo, end - 1);
        if (rv) return rv;
        rv = qc_rangeset_remove(&b->lost, lo, end - 1);
        if (rv) return rv;
        const qc_range *first = qc_rangeset_first(&b->acked);
        if (first && first->lo <= b->acked_floor) {
            b->acked_floor = first->hi + 1;
            qc_rangeset_remove_below(&b->acked, b->acked_floor);
            qc_rangeset_remove_below(&b->lost, b->acked_floor);
            if (b->acked_floor == b->written)
                ring_free(&b->ring);
            else
                b->ring.base = b->acked_floor;
        }
        rs_trim(&b->acked);
        rs_trim(&b->lost);
    }
    if (fin && b->fin_sent) {
        b->fin_acked = true;
        b->fin_lost = false;
    }
    if (b->fin_acked && b->acked_floor == b->written && s->send_state == QC_SEND_DATA_SENT) {
        send_transition(s, QC_SEND_DATA_RECVD);
        send_buf_release(b);
    }
    return 0;
}

int qc_stream_on_lost(qc_stream *s, uint64_t off, size_t len, bool fin) {
    qc_send_buf *b = &s->snd;
    if (s->send_state != QC_SEND_SEND && s->send_state != QC_SEND_DATA_SENT) return 0;
    uint64_t end = off + len;
    if (end < off || end > b->sent) return QC_ERR_INVAL;
    if (end > b->acked_floor && len) {
        uint64_t lo = QC_MAX(off, b->acked_floor);
        int rv = qc_rangeset_add(&b->lost, lo, end - 1);
        if (rv) return rv;
        /* Never resend what the peer already has. */
        for (size_t i = 0; i < b->acked.n; i++) {
            const qc_range *a = &b->acked.r[i];
            if (a->hi < lo) continue;
            if (a->lo > end - 1) break;
            rv = qc_rangeset_remove(&b->lost, a->lo, a->hi);
            if (rv) return rv;
        }
        rs_trim(&b->lost);
    }
    if (fin && b->fin_sent && !b->fin_acked) b->fin_lost = true;
    return 0;
}

int qc_stream_reset(qc_stream *s, uint64_t app_error) {
    if (s->send_state != QC_SEND_READY && s->send_state != QC_SEND_SEND &&
        s->send_state != QC_SEND_DATA_SENT)
        return QC_ERR_STREAM_STATE;
    s->reset_code_sent = app_error;
    send_transition(s, QC_SEND_RESET_SENT);
    send_buf_release(&s->snd);
    return 0;
}

int qc_stream_on_stop_sending(qc_stream *s, uint64_t app_error) {
    if (s->send_state == QC_SEND_NONE) return QC_ERR_STREAM_STATE;
    if (!s->stop_sending_recvd) {
        s->stop_sending_recvd = true;
        s->stop_code_recvd = app_error;
    }
    return 0;
}

void qc_stream_on_reset_acked(qc_stream *s) {
    if (s->send_state == QC_SEND_RESET_SENT) send_transition(s, QC_SEND_RESET_RECVD);
}

bool qc_stream_send_done(const qc_stream *s) {
    return s->send_state == QC_SEND_NONE || s->send_state == QC_SEND_DATA_RECVD ||
           s->send_state == QC_SEND_RESET_RECVD;
}

/* --- receiving part --- */

/* Moves SIZE_KNOWN to DATA_RECVD once every byte below the final size is here. */
static void recv_check_complete(qc_stream *s) {
    qc_recv_buf *b = &s->rcv;
    if (s->recv_state != QC_RECV_SIZE_KNOWN) return;
    const qc_range *r = qc_rangeset_first(&b->received);
    if (b->read == b->final_size || (r && r->lo <= b->read && r->hi + 1 == b->final_size))
        recv_transition(s, QC_RECV_DATA_RECVD);
}

/*
 * Applies the final-size rules (RFC 9000 §4.5) to data ending at end (and
 * a FIN there if fin), and counts the growth of the highest offset.
 */
static int recv_check_size(qc_stream *s, uint64_t end, bool fin, uint64_t *new_bytes) {
    qc_recv_buf *b = &s->rcv;
    if (b->final_size != UINT64_MAX) {
        if (end > b->final_size || (fin && end != b->final_size)) return QC_ERR_FINAL_SIZE;
    } else if (fin && end < b->highest) {
        return QC_ERR_FINAL_SIZE;
    }
    *new_bytes = end > b->highest ? end - b->highest : 0;
    return 0;
}

int qc_stream_on_data(qc_stream *s, uint64_t off, const uint8_t *data, size_t len, bool fin,
                      uint64_t *new_bytes) {
    qc_recv_buf *b = &s->rcv;
    uint64_t dummy;
    if (!new_bytes) new_bytes = &dummy;
    *new_bytes = 0;
    if (s->recv_state == QC_RECV_NONE) return QC_ERR_STREAM_STATE;
    if (off > QC_MAX_VARINT || len > QC_MAX_VARINT - off) return QC_ERR_FLOW_CONTROL;
    uint64_t end = off + len;
    uint64_t grow;
    int rv = recv_check_size(s, end, fin, &grow);
    if (rv) return rv;
    if (s->recv_state != QC_RECV_RECV && s->recv_state != QC_RECV_SIZE_KNOWN) {
        /* Everything is here already, or the stream was reset: nothing new can arrive
         * (the size check above guarantees the data lies below the final size). */
        return 0;
    }
    /* Store the part not yet read. */
    if (len > 0 && end > b->read) {
        uint64_t lo = QC_MAX(off, b->read);
        const qc_range *last = qc_rangeset_last(&b->received);
        if (b->received.n >= QC_STREAM_MAX_PIECES &&
            qc_rangeset_adds_range(&b->received, lo, end - 1))
            return QC_ERR_RECV_PIECES;
        rv = ring_reserve(&b->ring, b->read, last ? last->hi + 1 : b->read, end);
        if (rv) return rv;
        rv = qc_rangeset_add(&b->received, lo, end - 1);
        if (rv) return rv;
        ring_put(&b->ring, lo, data + (lo - off), (size_t)(end - lo));
    }
    b->highest += grow;
    *new_bytes = grow;
    if (fin && s->recv_state == QC_RECV_RECV) {
        b->final_size = end;
        recv_transition(s, QC_RECV_SIZE_KNOWN);
    }
    recv_check_complete(s);
    return 0;
}

int qc_stream_on_reset(qc_stream *s, uint64_t app_error, uint64_t final_size, uint64_t *new_bytes) {
    qc_recv_buf *b = &s->rcv;
    uint64_t dummy;
    if (!new_bytes) new_bytes = &dummy;
    *new_bytes = 0;
    if (s->recv_state == QC_RECV_NONE) return QC_ERR_STREAM_STATE;
    if (final_size > QC_MAX_VARINT) return QC_ERR_FLOW_CONTROL;
    uint64_t grow;
    int rv = recv_check_size(s, final_size, true, &grow);
    if (rv) return rv;
    if (s->recv_state == QC_RECV_RESET_RECVD || s->recv_state == QC_RECV_RESET_READ ||
        s->recv_state == QC_RECV_DATA_READ)
        return 0; /* a repeat, or the application already has everything */
    b->highest += grow;
    *new_bytes = grow;
    b->final_size = final_size;
    s->reset_code_recvd = app_error;
    recv_transition(s, QC_RECV_RESET_RECVD);
    recv_buf_release(b);
    return 0;
}

size_t qc_stream_readable(const qc_stream *s) {
    const qc_recv_buf *b = &s->rcv;
    if (s->recv_state != QC_RECV_RECV && s->recv_state != QC_RECV_SIZE_KNOWN &&
        s->recv_state != QC_RECV_DATA_RECVD)
        return 0;
    const qc_range *r = qc_rangeset_first(&b->received);
    if (!r || r->lo > b->read) return 0;
    return (size_t)QC_MIN(r->hi + 1 - b->read, (uint64_t)SIZE_MAX);
}

size_t qc_stream_read(qc_stream *s, uint8_t *dst, size_t len, bool *fin) {
    qc_recv_buf *b = &s->rcv;
    bool dummy;
    if (!fin) fin = &dummy;
    *fin = false;
    if (s->recv_state == QC_RECV_RESET_RECVD) {
        recv_transition(s, QC_RECV_RESET_READ);
        return 0;
    }
    size_t n = QC_MIN(len, qc_stream_readable(s));
    if (n) {
        ring_get(&b->ring, b->read, dst, n);
        b->read += n;
        qc_rangeset_remove_below(&b->received, b->read);
        if (b->received.n == 0) {
            ring_free(&b->ring);
            rs_trim(&b->received);
        } else {
            b->ring.base = b->read;
        }
    }
    if (b->final_size != UINT64_MAX && b->read == b->final_size &&
        (s->recv_state == QC_RECV_DATA_RECVD || s->recv_state == QC_RECV_DATA_READ)) {
        *fin = true;
        if (s->recv_state == QC_RECV_DATA_RECVD) recv_transition(s, QC_RECV_DATA_READ);
    }
    return n;
}

size_t qc_stream_peek(const qc_stream *s, uint8_t *dst, size_t len) {
    size_t n = QC_MIN(len, qc_stream_readable(s));
    ring_get(&s->rcv.ring, s->rcv.read, dst, n);
    return n;
}

bool qc_stream_recv_done(const qc_stream *s) {
    return s->recv_state == QC_RECV_NONE || s->recv_state == QC_RECV_DATA_READ ||
           s->recv_state == QC_RECV_RESET_READ;
}
