/*
 * tparams.c: QUIC transport parameters (RFC 9000 §7.3, §18): encoding,
 * decoding with validation, and the connection-ID authentication check.
 *
 * Wire format: a sequence of (id varint, length varint, value) entries.
 * Integer values are a single varint filling the whole length. Unknown
 * and reserved (31 * N + 27) ids are skipped; every duplicate is an error.
 */
#include "core/tparams.h"

#include "core/varint.h"

#define TP_DEFAULT_MAX_UDP 65527
#define TP_DEFAULT_ACK_EXP 3
#define TP_DEFAULT_ACK_DELAY 25
#define TP_DEFAULT_CID_LIMIT 2
#define TP_MAX_STREAMS (1ull << 60)
#define TP_PREF_ADDR_FIXED (4 + 2 + 16 + 2 + 1 + QC_RESET_TOKEN_LEN)
/* Unknown ids remembered for duplicate detection (bounds the work per parameter). */
#define TP_UNKNOWN_TRACK 128

void qc_tparams_default(qc_tparams *tp) {
    memset(tp, 0, sizeof(*tp));
    tp->max_udp_payload_size = TP_DEFAULT_MAX_UDP;
    tp->ack_delay_exponent = TP_DEFAULT_ACK_EXP;
    tp->max_ack_delay_ms = TP_DEFAULT_ACK_DELAY;
    tp->active_connection_id_limit = TP_DEFAULT_CID_LIMIT;
}

/* --- encoding --- */

static int put_header(qc_wr *w, uint64_t id, uint64_t len) {
    int rv = qc_wr_varint(w, id);
    return rv ? rv : qc_wr_varint(w, len);
}

static int put_int(qc_wr *w, uint64_t id, uint64_t v) {
    size_t n = qc_varint_len(v);
    if (n == 0) return QC_ERR_INVAL;
    int rv = put_header(w, id, n);
    return rv ? rv : qc_wr_varint(w, v);
}

/* Writes an integer parameter unless it has its default value. */
static int put_int_nondefault(qc_wr *w, uint64_t id, uint64_t v, uint64_t def) {
    return v == def ? 0 : put_int(w, id, v);
}

static int put_cid(qc_wr *w, uint64_t id, const qc_cid *cid) {
    if (cid->len > QC_MAX_CID_LEN) return QC_ERR_INVAL;
    int rv = put_header(w, id, cid->len);
    return rv ? rv : qc_wr_bytes(w, cid->id, cid->len);
}

static int put_preferred_address(qc_wr *w, const qc_tparams *tp) {
    const qc_cid *cid = &tp->preferred_address.cid;
    if (cid->len == 0 || cid->len > QC_MAX_CID_LEN) return QC_ERR_INVAL;
    int rv = put_header(w, QC_TP_PREFERRED_ADDRESS, TP_PREF_ADDR_FIXED + (uint64_t)cid->len);
    if (!rv) rv = qc_wr_bytes(w, tp->preferred_address.ipv4, 4);
    if (!rv) rv = qc_wr_u16(w, tp->preferred_address.ipv4_port);
    if (!rv) rv = qc_wr_bytes(w, tp->preferred_address.ipv6, 16);
    if (!rv) rv = qc_wr_u16(w, tp->preferred_address.ipv6_port);
    if (!rv) rv = qc_wr_u8(w, cid->len);
    if (!rv) rv = qc_wr_bytes(w, cid->id, cid->len);
    if (!rv) rv = qc_wr_bytes(w, tp->preferred_address.reset_token, QC_RESET_TOKEN_LEN);
    return rv;
}

static int put_version_info(qc_wr *w, const qc_tparams *tp, uint64_t id) {
    if (tp->n_available > QC_TP_MAX_VERSIONS) return QC_ERR_INVAL;
    int rv = put_header(w, id, 4 + 4 * (uint64_t)tp->n_available);
    if (!rv) rv = qc_wr_u32(w, tp->chosen_version);
    for (size_t i = 0; !rv && i < tp->n_available; i++)
        rv = qc_wr_u32(w, tp->available_versions[i]);
    return rv;
}

/* Returns the length written, QC_ERR_NOBUF, or QC_ERR_INVAL for unencodable values. */
int qc_tparams_encode(const qc_tparams *tp, bool is_server, uint8_t *buf, size_t cap) {
    qc_wr w = qc_wr_init(buf, cap);
    int rv = 0;
    if (is_server && tp->has_original_dcid)
        rv = put_cid(&w, QC_TP_ORIGINAL_DCID, &tp->original_dcid);
    if (!rv) rv = put_int_nondefault(&w, QC_TP_MAX_IDLE_TIMEOUT, tp->max_idle_timeout_ms, 0);
    if (!rv && is_server && tp->has_reset_token) {
        rv = put_header(&w, QC_TP_STATELESS_RESET_TOKEN, QC_RESET_TOKEN_LEN);
        if (!rv) rv = qc_wr_bytes(&w, tp->reset_token, QC_RESET_TOKEN_LEN);
    }
    if (!rv)
        rv = put_int_nondefault(&w, QC_TP_MAX_UDP_PAYLOAD_SIZE, tp->max_udp_payload_size,
                                TP_DEFAULT_MAX_UDP);
    if (!rv) rv = put_int_nondefault(&w, QC_TP_INITIAL_MAX_DATA, tp->initial_max_data, 0);
    if (!rv)
        rv = put_int_nondefault(&w, QC_TP_INITIAL_MAX_STREAM_DATA_BIDI_LOCAL,
                                tp->initial_max_stream_data_bidi_local, 0);
    if (!rv)
        rv = put_int_nondefault(&w, QC_TP_INITIAL_MAX_STREAM_DATA_BIDI_REMOTE,
                                tp->initial_max_stream_data_bidi_remote, 0);
    if (!rv)
        rv = put_int_nondefault(&w, QC_TP_INITIAL_MAX_STREAM_DATA_UNI,
                                tp->initial_max_stream_data_uni, 0);
    if (!rv)
        rv =
            put_int_nondefault(&w, QC_TP_INITIAL_MAX_STREAMS_BIDI, tp->initial_max_streams_bidi, 0);
    if (!rv)
        rv = put_int_nondefault(&w, QC_TP_INITIAL_MAX_STREAMS_UNI, tp->initial_max_streams_uni, 0);
    if (!rv)
        rv = put_int_nondefault(&w, QC_TP_ACK_DELAY_EXPONENT, tp->ack_delay_exponent,
                                TP_DEFAULT_ACK_EXP);
    if (!rv)
        rv =
            put_int_nondefault(&w, QC_TP_MAX_ACK_DELAY, tp->max_ack_delay_ms, TP_DEFAULT_ACK_DELAY);
    if (!rv && tp->disable_active_migration) rv = put_header(&w, QC_TP_DISABLE_ACTIVE_MIGRATION, 0);
    if (!rv && is_server && tp->has_preferred_address) rv = put_preferred_address(&w, tp);
    if (!rv)
        rv = put_int_nondefault(&w, QC_TP_ACTIVE_CONNECTION_ID_LIMIT,
                                tp->active_connection_id_limit, TP_DEFAULT_CID_LIMIT);
    if (!rv && tp->has_initial_scid) rv = put_cid(&w, QC_TP_INITIAL_SCID, &tp->initial_scid);
    if (!rv && is_server && tp->has_retry_scid) rv = put_cid(&w, QC_TP_RETRY_SCID, &tp->retry_scid);
    if (!rv)
        rv = put_int_nondefault(&w, QC_TP_MAX_DATAGRAM_FRAME_SIZE, tp->max_datagram_frame_size, 0);
    if (!rv && tp->grease_quic_bit) rv = put_header(&w, QC_TP_GREASE_QUIC_BIT, 0);
    if (!rv && tp->has_version_info) rv = put_version_info(&w, tp, QC_TP_VERSION_INFORMATION);
    if (!rv && tp->has_version_info && tp->version_info_draft)
        rv = put_version_info(&w, tp, QC_TP_VERSION_INFORMATION_DRAFT);
    if (rv) return rv;
    return (int)(w.p - buf);
}

/* --- decoding --- */

/* An integer parameter: exactly one varint filling the value. */
static int get_int(const uint8_t *v, size_t len, uint64_t *out) {
    qc_rd r = qc_rd_init(v, len);
    if (qc_rd_varint(&r, out) || qc_rd_left(&r) != 0) return QC_ERR_TPARAM;
    return 0;
}

static int get_cid(const uint8_t *v, size_t len, qc_cid *out) {
    if (len > QC_MAX_CID_LEN) return QC_ERR_TPARAM;
    out->len = (uint8_t)len;
    if (len) memcpy(out->id, v, len);
    return 0;
}

static int get_preferred_address(const uint8_t *v, size_t len, qc_tparams *tp) {
    if (len < TP_PREF_ADDR_FIXED) return QC_ERR_TPARAM;
    uint8_t cid_len = v[4 + 2 + 16 + 2];
    if (cid_len == 0 || cid_len > QC_MAX_CID_LEN || len != TP_PREF_ADDR_FIXED + (size_t)cid_len)
        return QC_ERR_TPARAM;
    qc_rd r = qc_rd_init(v, len);
    uint8_t l = 0;
    /* The length was checked above: the reads cannot fail. */
    (void)qc_rd_copy(&r, tp->preferred_address.ipv4, 4);
    (void)qc_rd_u16(&r, &tp->preferred_address.ipv4_port);
    (void)qc_rd_copy(&r, tp->preferred_address.ipv6, 16);
    (void)qc_rd_u16(&r, &tp->preferred_address.ipv6_port);
    (void)qc_rd_u8(&r, &l);
    tp->preferred_address.cid.len = l;
    (void)qc_rd_copy(&r, tp->preferred_address.cid.id, l);
    (void)qc_rd_copy(&r, tp->preferred_address.reset_token, QC_RESET_TOKEN_LEN);
    tp->has_preferred_address = true;
    return 0;
}

/* version_information: parsing failures are TRANSPORT_PARAMETER_ERROR (RFC 9368 §4). */
static int get_version_info(const uint8_t *v, size_t len, bool from_server, bool draft,
                            qc_tparams *tp) {
    if (len < 4 || len % 4 != 0) return QC_ERR_TPARAM;
    qc_rd r = qc_rd_init(v, len);
    uint32_t chosen, x;
    (void)qc_rd_u32(&r, &chosen);
    if (chosen == 0) return QC_ERR_TPARAM;
    bool listed = false, kept = false;
    tp->n_available = 0;
    while (qc_rd_u32(&r, &x) == 0) {
        if (x == 0) return QC_ERR_TPARAM;
        listed |= x == chosen;
        if (tp->n_available < QC_TP_MAX_VERSIONS) {
            tp->available_versions[tp->n_available++] = x;
            kept |= x == chosen;
        }
    }
    if (!from_server && !listed && !draft) return QC_ERR_TPARAM;
    /* A client's Chosen Version stays in what is kept of a long list (the last kept slot):
     * the list re-encodes to one that is valid again. */
    if (listed && !kept) tp->available_versions[QC_TP_MAX_VERSIONS - 1] = chosen;
    /* The draft let a client leave it out: it is put in, as the RFC requires. */
    if (!from_server && !listed) {
        if (tp->n_available < QC_TP_MAX_VERSIONS) tp->n_available++;
        tp->available_versions[tp->n_available - 1] = chosen;
    }
    tp->has_version_info = true;
    tp->chosen_version = chosen;
    return 0;
}

/* Decodes one known parameter's value into tp. */
static int decode_one(qc_tparams *tp, bool is_server, uint64_t id, const uint8_t *v, size_t len) {
    uint64_t x;
    int rv;
    switch (id) {
    case QC_TP_ORIGINAL_DCID:
        if (!is_server) return QC_ERR_TPARAM;
        tp->has_original_dcid = true;
        return get_cid(v, len, &tp->original_dcid);
    case QC_TP_MAX_IDLE_TIMEOUT:
        return get_int(v, len, &tp->max_idle_timeout_ms);
    case QC_TP_STATELESS_RESET_TOKEN:
        if (!is_server || len != QC_RESET_TOKEN_LEN) return QC_ERR_TPARAM;
        memcpy(tp->reset_token, v, QC_RESET_TOKEN_LEN);
        tp->has_reset_token = true;
        return 0;
    case QC_TP_MAX_UDP_PAYLOAD_SIZE:
        if ((rv = get_int(v, len, &x)) != 0) return rv;
        if (x < QC_MIN_INITIAL_SIZE) return QC_ERR_TPARAM;
        tp->max_udp_payload_size = x;
        return 0;
    case QC_TP_INITIAL_MAX_DATA:
        return get_int(v, len, &tp->initial_max_data);
    case QC_TP_INITIAL_MAX_STREAM_DATA_BIDI_LOCAL:
        return get_int(v, len, &tp->initial_max_stream_data_bidi_local);
    case QC_TP_INITIAL_MAX_STREAM_DATA_BIDI_REMOTE:
        return get_int(v, len, &tp->initial_max_stream_data_bidi_remote);
    case QC_TP_INITIAL_MAX_STREAM_DATA_UNI:
        return get_int(v, len, &tp->initial_max_stream_data_uni);
    case QC_TP_INITIAL_MAX_STREAMS_BIDI:
    case QC_TP_INITIAL_MAX_STREAMS_UNI:
        if ((rv = get_int(v, len, &x)) != 0) return rv;
        if (x > TP_MAX_STREAMS) return QC_ERR_TPARAM;
        if (id == QC_TP_INITIAL_MAX_STREAMS_BIDI)
            tp->initial_max_streams_bidi = x;
        else
            tp->initial_max_streams_uni = x;
        return 0;
    case QC_TP_ACK_DELAY_EXPONENT:
        if ((rv = get_int(v, len, &x)) != 0) return rv;
        if (x > 20) return QC_ERR_TPARAM;
        tp->ack_delay_exponent = x;
        return 0;
    case QC_TP_MAX_ACK_DELAY:
        if ((rv = get_int(v, len, &x)) != 0) return rv;
        if (x >= (1u << 14)) return QC_ERR_TPARAM;
        tp->max_ack_delay_ms = x;
        return 0;
    case QC_TP_DISABLE_ACTIVE_MIGRATION:
        if (len != 0) return QC_ERR_TPARAM;
        tp->disable_active_migration = true;
        return 0;
    case QC_TP_PREFERRED_ADDRESS:
        if (!is_server) return QC_ERR_TPARAM;
        return get_preferred_address(v, len, tp);
    case QC_TP_ACTIVE_CONNECTION_ID_LIMIT:
        if ((rv = get_int(v, len, &x)) != 0) return rv;
        if (x < 2) return QC_ERR_TPARAM;
        tp->active_connection_id_limit = x;
        return 0;
    case QC_TP_INITIAL_SCID:
        tp->has_initial_scid = true;
        return get_cid(v, len, &tp->initial_scid);
    case QC_TP_RETRY_SCID:
        if (!is_server) return QC_ERR_TPARAM;
        tp->has_retry_scid = true;
        return get_cid(v, len, &tp->retry_scid);
    case QC_TP_MAX_DATAGRAM_FRAME_SIZE:
        return get_int(v, len, &tp->max_datagram_frame_size);
    case QC_TP_GREASE_QUIC_BIT:
        if (len != 0) return QC_ERR_TPARAM; /* RFC 9287 §3: a zero-length value */
        tp->grease_quic_bit = true;
        return 0;
    case QC_TP_VERSION_INFORMATION:
        return get_version_info(v, len, is_server, false, tp);
    case QC_TP_VERSION_INFORMATION_DRAFT: {
        /* Parsed the same way; the RFC's parameter wins when both came. */
        qc_tparams d;
        rv = get_version_info(v, len, is_server, true, &d);
        if (rv) return rv;
        bool rfc_seen = tp->has_version_info;
        tp->version_info_draft = true; /* the peer speaks the draft: answer in it too */
        if (rfc_seen) return 0;
        tp->has_version_info = true;
        tp->chosen_version = d.chosen_version;
        tp->n_available = d.n_available;
        memcpy(tp->available_versions, d.available_versions, sizeof(d.available_versions));
        return 0;
    }
    }
    return 0;
}

/* Bit for a known id in the "seen" mask, or -1 for an id we do not know. */
static int known_bit(uint64_t id) {
    if (id <= QC_TP_RETRY_SCID) return (int)id;
    if (id == QC_TP_MAX_DATAGRAM_FRAME_SIZE) return 17;
    if (id == QC_TP_VERSION_INFORMATION) return 18;
    if (id == QC_TP_VERSION_INFORMATION_DRAFT) return 19;
    if (id == QC_TP_GREASE_QUIC_BIT) return 20;
    return -1;
}

int qc_tparams_decode(qc_tparams *tp, bool is_server, const uint8_t *buf, size_t len) {
    qc_tparams_default(tp);
    qc_rd r = qc_rd_init(buf, len);
    uint32_t seen = 0;
    uint64_t unknown[TP_UNKNOWN_TRACK];
    size_t nunknown = 0;
    while (qc_rd_left(&r) > 0) {
        uint64_t id, vlen;
        const uint8_t *v;
        if (qc_rd_varint(&r, &id) || qc_rd_varint(&r, &vlen) || vlen > qc_rd_left(&r) ||
            qc_rd_bytes(&r, (size_t)vlen, &v))
            return QC_ERR_TPARAM;
        int bit = known_bit(id);
        if (bit < 0) {
            for (size_t i = 0; i < nunknown; i++)
                if (unknown[i] == id) return QC_ERR_TPARAM;
            if (nunknown < TP_UNKNOWN_TRACK) unknown[nunknown++] = id;
            continue;
        }
        if (seen & (1u << bit)) return QC_ERR_TPARAM;
        seen |= 1u << bit;
        int rv = decode_one(tp, is_server, id, v, (size_t)vlen);
        if (rv) return rv;
    }
    return 0;
}

/* --- connection-ID authentication (RFC 9000 §7.3) --- */

int qc_tparams_check_cids(const qc_tparams *peer, bool peer_is_server, const qc_cid *odcid,
                          const qc_cid *scid, const qc_cid *retry_scid) {
    if (!scid || (peer_is_server && !odcid)) return QC_ERR_INVAL;
    if (!peer->has_initial_scid || !qc_cid_eq(&peer->initial_scid, scid)) return QC_ERR_TPARAM;
    if (!peer_is_server) {
        if (peer->has_original_dcid || peer->has_retry_scid) return QC_ERR_TPARAM;
        return 0;
    }
    if (!peer->has_original_dcid || !qc_cid_eq(&peer->original_dcid, odcid)) return QC_ERR_TPARAM;
    if (retry_scid) {
        if (!peer->has_retry_scid || !qc_cid_eq(&peer->retry_scid, retry_scid))
            return QC_ERR_TPARAM;
    } else if (peer->has_retry_scid) {
        return QC_ERR_TPARAM;
    }
    return 0;
}
