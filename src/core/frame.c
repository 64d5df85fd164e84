/*
 * frame.c: every RFC 9000 frame (and RFC 9221 DATAGRAM): pure decoders
 * with full validation, encoders, ACK range iteration, and the table of
 * which packet types may carry which frame (RFC 9000 §12.4, Table 3).
 */
#include "core/frame.h"

/* ---- the permission table ---- */

#define PT_I (1u << QC_PT_INITIAL)
#define PT_0 (1u << QC_PT_0RTT)
#define PT_H (1u << QC_PT_HANDSHAKE)
#define PT_1 (1u << QC_PT_1RTT)
#define F_NOT_ELICITING 0x100u /* RFC 9002: not ack-eliciting */
#define F_PROBING 0x200u       /* RFC 9000 §9.1 */

typedef struct frame_rule {
    const char *name;
    unsigned bits; /* packet types allowed | flags */
} frame_rule;

/* Indexed by frame type 0x00..0x1e; DATAGRAM handled separately. */
static const frame_rule rules[0x1f] = {
    [QC_FT_PADDING] = {"PADDING", PT_I | PT_0 | PT_H | PT_1 | F_NOT_ELICITING | F_PROBING},
    [QC_FT_PING] = {"PING", PT_I | PT_0 | PT_H | PT_1},
    [QC_FT_ACK] = {"ACK", PT_I | PT_H | PT_1 | F_NOT_ELICITING},
    [QC_FT_ACK_ECN] = {"ACK_ECN", PT_I | PT_H | PT_1 | F_NOT_ELICITING},
    [QC_FT_RESET_STREAM] = {"RESET_STREAM", PT_0 | PT_1},
    [QC_FT_STOP_SENDING] = {"STOP_SENDING", PT_0 | PT_1},
    [QC_FT_CRYPTO] = {"CRYPTO", PT_I | PT_H | PT_1},
    [QC_FT_NEW_TOKEN] = {"NEW_TOKEN", PT_1},
    [0x08] = {"STREAM", PT_0 | PT_1},
    [0x09] = {"STREAM", PT_0 | PT_1},
    [0x0a] = {"STREAM", PT_0 | PT_1},
    [0x0b] = {"STREAM", PT_0 | PT_1},
    [0x0c] = {"STREAM", PT_0 | PT_1},
    [0x0d] = {"STREAM", PT_0 | PT_1},
    [0x0e] = {"STREAM", PT_0 | PT_1},
    [0x0f] = {"STREAM", PT_0 | PT_1},
    [QC_FT_MAX_DATA] = {"MAX_DATA", PT_0 | PT_1},
    [QC_FT_MAX_STREAM_DATA] = {"MAX_STREAM_DATA", PT_0 | PT_1},
    [QC_FT_MAX_STREAMS_BIDI] = {"MAX_STREAMS", PT_0 | PT_1},
    [QC_FT_MAX_STREAMS_UNI] = {"MAX_STREAMS", PT_0 | PT_1},
    [QC_FT_DATA_BLOCKED] = {"DATA_BLOCKED", PT_0 | PT_1},
    [QC_FT_STREAM_DATA_BLOCKED] = {"STREAM_DATA_BLOCKED", PT_0 | PT_1},
    [QC_FT_STREAMS_BLOCKED_BIDI] = {"STREAMS_BLOCKED", PT_0 | PT_1},
    [QC_FT_STREAMS_BLOCKED_UNI] = {"STREAMS_BLOCKED", PT_0 | PT_1},
    [QC_FT_NEW_CONNECTION_ID] = {"NEW_CONNECTION_ID", PT_0 | PT_1 | F_PROBING},
    [QC_FT_RETIRE_CONNECTION_ID] = {"RETIRE_CONNECTION_ID", PT_0 | PT_1},
    [QC_FT_PATH_CHALLENGE] = {"PATH_CHALLENGE", PT_0 | PT_1 | F_PROBING},
    [QC_FT_PATH_RESPONSE] = {"PATH_RESPONSE", PT_1 | F_PROBING},
    [QC_FT_CONNECTION_CLOSE] = {"CONNECTION_CLOSE", PT_I | PT_0 | PT_H | PT_1 | F_NOT_ELICITING},
    [QC_FT_CONNECTION_CLOSE_APP] = {"CONNECTION_CLOSE", PT_0 | PT_1 | F_NOT_ELICITING},
    [QC_FT_HANDSHAKE_DONE] = {"HANDSHAKE_DONE", PT_1},
};
static const frame_rule datagram_rule = {"DATAGRAM", PT_0 | PT_1};

static const frame_rule *rule(uint64_t type) {
    if (type < QC_ARRAY_LEN(rules)) return &rules[type];
    if (type == QC_FT_DATAGRAM || type == QC_FT_DATAGRAM_LEN) return &datagram_rule;
    return NULL;
}

bool qc_frame_allowed(uint64_t type, enum qc_pkt_type pt) {
    const frame_rule *r = rule(type);
    return r && (r->bits & (1u << pt)) != 0;
}

bool qc_frame_ack_eliciting(uint64_t type) {
    const frame_rule *r = rule(type);
    return r && !(r->bits & F_NOT_ELICITING);
}

bool qc_frame_probing(uint64_t type) {
    const frame_rule *r = rule(type);
    return r && (r->bits & F_PROBING);
}

const char *qc_frame_name(uint64_t type) {
    const frame_rule *r = rule(type);
    return r ? r->name : "UNKNOWN";
}

/* ---- decoding ---- */

#define GET(expr)                                                                                  \
    do {                                                                                           \
        if ((expr) != 0) return QC_ERR_FRAME_ENCODING;                                             \
    } while (0)

static int decode_ack(qc_rd *r, qc_frame *f, bool ecn) {
    uint64_t largest, delay, count, first;
    GET(qc_rd_varint(r, &largest));
    GET(qc_rd_varint(r, &delay));
    GET(qc_rd_varint(r, &count));
    GET(qc_rd_varint(r, &first));
    if (first > largest) return QC_ERR_FRAME_ENCODING;
    const uint8_t *ranges = r->p;
    uint64_t lo = largest - first;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t gap, len;
        GET(qc_rd_varint(r, &gap));
        GET(qc_rd_varint(r, &len));
        /* Next range's largest is lo - gap - 2; its smallest that minus len. */
        if (lo < gap + 2 || lo - gap - 2 < len) return QC_ERR_FRAME_ENCODING;
        lo = lo - gap - 2 - len;
    }
    f->u.ack.largest = largest;
    f->u.ack.ack_delay = delay;
    f->u.ack.range_count = count;
    f->u.ack.first_range = first;
    f->u.ack.ranges = ranges;
    f->u.ack.ranges_len = (size_t)(r->p - ranges);
    f->u.ack.ecn = ecn;
    f->u.ack.ect0 = f->u.ack.ect1 = f->u.ack.ce = 0;
    if (ecn) {
        GET(qc_rd_varint(r, &f->u.ack.ect0));
        GET(qc_rd_varint(r, &f->u.ack.ect1));
        GET(qc_rd_varint(r, &f->u.ack.ce));
    }
    return 0;
}

static int decode_body(qc_rd *r, qc_frame *f, uint64_t type) {
    uint64_t v;
    const uint8_t *p;
    switch (type) {
    case QC_FT_PADDING: {
        size_t n = 1;
        while (r->p < r->end && *r->p == 0) {
            r->p++;
            n++;
        }
        f->u.padding.count = n;
        return 0;
    }
    case QC_FT_PING:
    case QC_FT_HANDSHAKE_DONE:
        return 0;
    case QC_FT_ACK:
    case QC_FT_ACK_ECN:
        return decode_ack(r, f, type == QC_FT_ACK_ECN);
    case QC_FT_RESET_STREAM:
        GET(qc_rd_varint(r, &f->u.reset_stream.stream_id));
        GET(qc_rd_varint(r, &f->u.reset_stream.app_error));
        GET(qc_rd_varint(r, &f->u.reset_stream.final_size));
        return 0;
    case QC_FT_STOP_SENDING:
        GET(qc_rd_varint(r, &f->u.stop_sending.stream_id));
        GET(qc_rd_varint(r, &f->u.stop_sending.app_error));
        return 0;
    case QC_FT_CRYPTO:
        GET(qc_rd_varint(r, &f->u.crypto.offset));
        GET(qc_rd_varint(r, &v));
        if (v > qc_rd_left(r) || f->u.crypto.offset + v > QC_MAX_VARINT)
            return QC_ERR_FRAME_ENCODING;
        GET(qc_rd_bytes(r, (size_t)v, &p));
        f->u.crypto.data = p;
        f->u.crypto.len = (size_t)v;
        return 0;
    case QC_FT_NEW_TOKEN:
        GET(qc_rd_varint(r, &v));
        if (v == 0 || v > qc_rd_left(r)) return QC_ERR_FRAME_ENCODING;
        GET(qc_rd_bytes(r, (size_t)v, &p));
        f->u.new_token.token = p;
        f->u.new_token.len = (size_t)v;
        return 0;
    case QC_FT_MAX_DATA:
    case QC_FT_DATA_BLOCKED:
        GET(qc_rd_varint(r, &f->u.max.max));
        return 0;
    case QC_FT_MAX_STREAMS_BIDI:
    case QC_FT_MAX_STREAMS_UNI:
    case QC_FT_STREAMS_BLOCKED_BIDI:
    case QC_FT_STREAMS_BLOCKED_UNI:
        GET(qc_rd_varint(r, &f->u.max.max));
        if (f->u.max.max > (1ull << 60)) return QC_ERR_FRAME_ENCODING;
        return 0;
    case QC_FT_MAX_STREAM_DATA:
    case QC_FT_STREAM_DATA_BLOCKED:
        GET(qc_rd_varint(r, &f->u.stream_max.stream_id));
        GET(qc_rd_varint(r, &f->u.stream_max.max));
        return 0;
    case QC_FT_NEW_CONNECTION_ID: {
        uint8_t len;
        GET(qc_rd_varint(r, &f->u.new_cid.seq));
        GET(qc_rd_varint(r, &f->u.new_cid.retire_prior_to));
        GET(qc_rd_u8(r, &len));
        if (len < 1 || len > QC_MAX_CID_LEN || f->u.new_cid.retire_prior_to > f->u.new_cid.seq)
            return QC_ERR_FRAME_ENCODING;
        f->u.new_cid.cid.len = len;
        GET(qc_rd_copy(r, f->u.new_cid.cid.id, len));
        GET(qc_rd_copy(r, f->u.new_cid.reset_token, QC_RESET_TOKEN_LEN));
        return 0;
    }
    case QC_FT_RETIRE_CONNECTION_ID:
        GET(qc_rd_varint(r, &f->u.retire_cid.seq));
        return 0;
    case QC_FT_PATH_CHALLENGE:
    case QC_FT_PATH_RESPONSE:
        GET(qc_rd_copy(r, f->u.path.data, 8));
        return 0;
    case QC_FT_CONNECTION_CLOSE:
    case QC_FT_CONNECTION_CLOSE_APP:
        GET(qc_rd_varint(r, &f->u.close.error_code));
        f->u.close.frame_type = 0;
        if (type == QC_FT_CONNECTION_CLOSE) GET(qc_rd_varint(r, &f->u.close.frame_type));
        GET(qc_rd_varint(r, &v));
        if (v > qc_rd_left(r)) return QC_ERR_FRAME_ENCODING;
        GET(qc_rd_bytes(r, (size_t)v, &p));
        f->u.close.reason = p;
        f->u.close.reason_len = (size_t)v;
        return 0;
    case QC_FT_DATAGRAM:
    case QC_FT_DATAGRAM_LEN:
        if (type == QC_FT_DATAGRAM_LEN) {
            GET(qc_rd_varint(r, &v));
            if (v > qc_rd_left(r)) return QC_ERR_FRAME_ENCODING;
        } else {
            v = qc_rd_left(r);
        }
        GET(qc_rd_bytes(r, (size_t)v, &p));
        f->u.datagram.data = p;
        f->u.datagram.len = (size_t)v;
        return 0;
    default:
        break;
    }
    if (type >= QC_FT_STREAM && type <= 0x0f) {
        uint64_t off = 0;
        GET(qc_rd_varint(r, &f->u.stream.stream_id));
        if (type & QC_STREAM_BIT_OFF) GET(qc_rd_varint(r, &off));
        if (type & QC_STREAM_BIT_LEN) {
            GET(qc_rd_varint(r, &v));
            if (v > qc_rd_left(r)) return QC_ERR_FRAME_ENCODING;
        } else {
            v = qc_rd_left(r);
        }
        if (off + v > QC_MAX_VARINT) return QC_ERR_FRAME_ENCODING;
        GET(qc_rd_bytes(r, (size_t)v, &p));
        f->u.stream.offset = off;
        f->u.stream.data = p;
        f->u.stream.len = (size_t)v;
        f->u.stream.fin = (type & QC_STREAM_BIT_FIN) != 0;
        return 0;
    }
    return QC_ERR_FRAME_ENCODING;
}

int qc_frame_decode(qc_rd *r, qc_frame *f) {
    qc_rd save = *r;
    uint64_t type;
    size_t tlen;
    if (qc_rd_varint_len(r, &type, &tlen)) return QC_ERR_FRAME_ENCODING;
    if (tlen != qc_varint_len(type)) {
        *r = save;
        return QC_ERR_PROTO;
    }
    if (!rule(type)) {
        *r = save;
        return QC_ERR_FRAME_ENCODING;
    }
    f->type = type;
    int rv = decode_body(r, f, type);
    if (rv) *r = save;
    return rv;
}

/* ---- ACK ranges ---- */

void qc_ack_iter_init(qc_ack_iter *it, const qc_frame *ack) {
    it->rd = qc_rd_init(ack->u.ack.ranges, ack->u.ack.ranges_len);
    it->remaining = ack->u.ack.range_count;
    it->next_hi = ack->u.ack.largest;
    it->lo_prev = ack->u.ack.largest - ack->u.ack.first_range;
}

bool qc_ack_iter_next(qc_ack_iter *it, qc_range *out) {
    if (it->next_hi == UINT64_MAX) return false;
    out->hi = it->next_hi;
    out->lo = it->lo_prev;
    if (it->remaining == 0) {
        it->next_hi = UINT64_MAX;
        return true;
    }
    uint64_t gap, len;
    /* Validated by the decoder: these reads and subtractions cannot fail. */
    if (qc_rd_varint(&it->rd, &gap) || qc_rd_varint(&it->rd, &len) || it->lo_prev < gap + 2) {
        it->next_hi = UINT64_MAX;
        return true;
    }
    it->remaining--;
    it->next_hi = it->lo_prev - gap - 2;
    it->lo_prev = it->next_hi - len;
    return true;
}

/* ---- encoding ---- */

int qc_frame_encode_ack(qc_wr *w, const qc_range *ranges, size_t n, uint64_t ack_delay,
                        const uint64_t *ecn) {
    if (n == 0) return QC_ERR_INVAL;
    qc_wr save = *w;
    /* Find how many ranges fit: try all, then drop the oldest until they do. */
    for (size_t use = n; use >= 1; use--) {
        *w = save;
        int rv = qc_wr_varint(w, ecn ? QC_FT_ACK_ECN : QC_FT_ACK);
        if (!rv) rv = qc_wr_varint(w, ranges[0].hi);
        if (!rv) rv = qc_wr_varint(w, ack_delay);
        if (!rv) rv = qc_wr_varint(w, use - 1);
        if (!rv) rv = qc_wr_varint(w, ranges[0].hi - ranges[0].lo);
        for (size_t i = 1; i < use && !rv; i++) {
            rv = qc_wr_varint(w, ranges[i - 1].lo - ranges[i].hi - 2);
            if (!rv) rv = qc_wr_varint(w, ranges[i].hi - ranges[i].lo);
        }
        if (!rv && ecn) {
            rv = qc_wr_varint(w, ecn[0]);
            if (!rv) rv = qc_wr_varint(w, ecn[1]);
            if (!rv) rv = qc_wr_varint(w, ecn[2]);
        }
        if (!rv) return 0;
        if (rv != QC_ERR_NOBUF) {
            *w = save;
            return rv;
        }
    }
    *w = save;
    return QC_ERR_NOBUF;
}

size_t qc_frame_stream_hdr_len(uint64_t stream_id, uint64_t offset, size_t len, bool with_len) {
    return 1 + qc_varint_len(stream_id) + (offset ? qc_varint_len(offset) : 0) +
           (with_len ? qc_varint_len(len) : 0);
}

uint8_t *qc_frame_stream_hdr_put(uint8_t *p, uint64_t stream_id, uint64_t offset, size_t len,
                                 bool with_len, bool fin) {
    uint8_t type = QC_FT_STREAM | (offset ? QC_STREAM_BIT_OFF : 0) |
                   (with_len ? QC_STREAM_BIT_LEN : 0) | (fin ? QC_STREAM_BIT_FIN : 0);
    *p++ = type;
    p = qc_varint_put(p, stream_id);
    if (offset) p = qc_varint_put(p, offset);
    if (with_len) p = qc_varint_put(p, len);
    return p;
}

int qc_frame_encode(qc_wr *w, const qc_frame *f) {
    qc_wr save = *w;
    int rv = 0;
#define PUT(expr)                                                                                  \
    do {                                                                                           \
        if (!rv) rv = (expr);                                                                      \
    } while (0)
    uint64_t t = f->type;
    if (t >= QC_FT_STREAM && t <= 0x0f) {
        bool with_len = (t & QC_STREAM_BIT_LEN) != 0;
        uint64_t off = f->u.stream.offset;
        size_t hl = qc_frame_stream_hdr_len(f->u.stream.stream_id, off, f->u.stream.len, with_len);
        if (qc_wr_left(w) < hl + f->u.stream.len) return QC_ERR_NOBUF;
        w->p = qc_frame_stream_hdr_put(w->p, f->u.stream.stream_id, off, f->u.stream.len, with_len,
                                       f->u.stream.fin);
        if (f->u.stream.len) memcpy(w->p, f->u.stream.data, f->u.stream.len);
        w->p += f->u.stream.len;
        return 0;
    }
    if (t == QC_FT_PADDING) {
        size_t n = f->u.padding.count ? f->u.padding.count : 1;
        if (qc_wr_left(w) < n) return QC_ERR_NOBUF;
        memset(w->p, 0, n);
        w->p += n;
        return 0;
    }
    if (t == QC_FT_ACK || t == QC_FT_ACK_ECN) {
        /* Encode the decoded form (largest, first range, raw ranges) back. */
        PUT(qc_wr_varint(w, t));
        PUT(qc_wr_varint(w, f->u.ack.largest));
        PUT(qc_wr_varint(w, f->u.ack.ack_delay));
        PUT(qc_wr_varint(w, f->u.ack.range_count));
        PUT(qc_wr_varint(w, f->u.ack.first_range));
        PUT(qc_wr_bytes(w, f->u.ack.ranges, f->u.ack.ranges_len));
        if (t == QC_FT_ACK_ECN) {
            PUT(qc_wr_varint(w, f->u.ack.ect0));
            PUT(qc_wr_varint(w, f->u.ack.ect1));
            PUT(qc_wr_varint(w, f->u.ack.ce));
        }
    } else {
        if (!rule(t)) return QC_ERR_INVAL;
        PUT(qc_wr_varint(w, t));
        switch (t) {
        case QC_FT_PING:
        case QC_FT_HANDSHAKE_DONE:
            break;
        case QC_FT_RESET_STREAM:
            PUT(qc_wr_varint(w, f->u.reset_stream.stream_id));
            PUT(qc_wr_varint(w, f->u.reset_stream.app_error));
            PUT(qc_wr_varint(w, f->u.reset_stream.final_size));
            break;
        case QC_FT_STOP_SENDING:
            PUT(qc_wr_varint(w, f->u.stop_sending.stream_id));
            PUT(qc_wr_varint(w, f->u.stop_sending.app_error));
            break;
        case QC_FT_CRYPTO:
            PUT(qc_wr_varint(w, f->u.crypto.offset));
            PUT(qc_wr_varint(w, f->u.crypto.len));
            PUT(qc_wr_bytes(w, f->u.crypto.data, f->u.crypto.len));
            break;
        case QC_FT_NEW_TOKEN:
            PUT(qc_wr_varint(w, f->u.new_token.len));
            PUT(qc_wr_bytes(w, f->u.new_token.token, f->u.new_token.len));
            break;
        case QC_FT_MAX_DATA:
        case QC_FT_DATA_BLOCKED:
        case QC_FT_MAX_STREAMS_BIDI:
        case QC_FT_MAX_STREAMS_UNI:
        case QC_FT_STREAMS_BLOCKED_BIDI:
        case QC_FT_STREAMS_BLOCKED_UNI:
            PUT(qc_wr_varint(w, f->u.max.max));
            break;
        case QC_FT_MAX_STREAM_DATA:
        case QC_FT_STREAM_DATA_BLOCKED:
            PUT(qc_wr_varint(w, f->u.stream_max.stream_id));
            PUT(qc_wr_varint(w, f->u.stream_max.max));
            break;
        case QC_FT_NEW_CONNECTION_ID:
            PUT(qc_wr_varint(w, f->u.new_cid.seq));
            PUT(qc_wr_varint(w, f->u.new_cid.retire_prior_to));
            PUT(qc_wr_u8(w, f->u.new_cid.cid.len));
            PUT(qc_wr_bytes(w, f->u.new_cid.cid.id, f->u.new_cid.cid.len));
            PUT(qc_wr_bytes(w, f->u.new_cid.reset_token, QC_RESET_TOKEN_LEN));
            break;
        case QC_FT_RETIRE_CONNECTION_ID:
            PUT(qc_wr_varint(w, f->u.retire_cid.seq));
            break;
        case QC_FT_PATH_CHALLENGE:
        case QC_FT_PATH_RESPONSE:
            PUT(qc_wr_bytes(w, f->u.path.data, 8));
            break;
        case QC_FT_CONNECTION_CLOSE:
        case QC_FT_CONNECTION_CLOSE_APP:
            PUT(qc_wr_varint(w, f->u.close.error_code));
            if (t == QC_FT_CONNECTION_CLOSE) PUT(qc_wr_varint(w, f->u.close.frame_type));
            PUT(qc_wr_varint(w, f->u.close.reason_len));
            PUT(qc_wr_bytes(w, f->u.close.reason, f->u.close.reason_len));
            break;
        case QC_FT_DATAGRAM:
            PUT(qc_wr_bytes(w, f->u.datagram.data, f->u.datagram.len));
            break;
        case QC_FT_DATAGRAM_LEN:
            PUT(qc_wr_varint(w, f->u.datagram.len));
            PUT(qc_wr_bytes(w, f->u.datagram.data, f->u.datagram.len));
            break;
        default:
            rv = QC_ERR_INVAL;
        }
    }
#undef PUT
    if (rv) *w = save;
    return rv;
}
