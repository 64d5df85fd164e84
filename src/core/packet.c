/*
 * packet.c: QUIC packet headers (RFC 9000 §17, RFC 8999): pure parsing of
 * every packet type, header writing, packet-number encoding and decoding,
 * Version Negotiation and Retry layout.
 */
#include "core/packet.h"

#include "core/varint.h"
#include "core/version.h"

static int read_cid(qc_rd *r, qc_cid *cid, size_t max) {
    uint8_t len;
    if (qc_rd_u8(r, &len) || len > max || qc_rd_left(r) < len) return QC_ERR_DECODE;
    cid->len = len;
    return qc_rd_copy(r, cid->id, len);
}

int qc_pkt_parse(const uint8_t *buf, size_t len, size_t short_dcid_len, qc_pkt_hdr *hdr) {
    memset(hdr, 0, sizeof(*hdr));
    qc_rd r = qc_rd_init(buf, len);
    uint8_t first;
    if (qc_rd_u8(&r, &first)) return QC_ERR_DECODE;
    hdr->first = first;
    if (!(first & 0x80)) {
        /* Short header: the QUIC bit (its value is the caller's to judge: RFC 9287 lets a
         * peer clear it), DCID of our length, then the protected packet number. */
        if (short_dcid_len > QC_MAX_CID_LEN) return QC_ERR_DECODE;
        hdr->type = QC_PT_1RTT;
        hdr->version = 0; /* short headers carry none: the connection knows */
        hdr->dcid.len = (uint8_t)short_dcid_len;
        if (qc_rd_copy(&r, hdr->dcid.id, short_dcid_len)) return QC_ERR_DECODE;
        hdr->pn_offset = (size_t)(r.p - buf);
        hdr->pkt_len = len;
        /* At least a 1-byte packet number and a 16-byte tag must follow. */
        if (hdr->pkt_len < hdr->pn_offset + 1 + 16) return QC_ERR_DECODE;
        return 0;
    }
    uint32_t version;
    if (qc_rd_u32(&r, &version)) return QC_ERR_DECODE;
    hdr->version = version;
    /* Invariants (RFC 8999): connection IDs of up to 255 bytes. */
    const qc_version *ver = qc_version_find(version);
    size_t max_cid = ver ? QC_MAX_CID_LEN : 255;
    if (max_cid > QC_MAX_CID_LEN) {
        /* Other versions: keep what fits in a qc_cid; longer IDs cannot be answered. */
        uint8_t l;
        const uint8_t *p;
        if (qc_rd_u8(&r, &l) || qc_rd_bytes(&r, l, &p) || l > QC_MAX_CID_LEN) return QC_ERR_DECODE;
        hdr->dcid.len = l;
        memcpy(hdr->dcid.id, p, l);
        if (qc_rd_u8(&r, &l) || qc_rd_bytes(&r, l, &p) || l > QC_MAX_CID_LEN) return QC_ERR_DECODE;
        hdr->scid.len = l;
        memcpy(hdr->scid.id, p, l);
    } else if (read_cid(&r, &hdr->dcid, max_cid) || read_cid(&r, &hdr->scid, max_cid)) {
        return QC_ERR_DECODE;
    }
    if (version == 0) {
        hdr->type = QC_PT_VN;
        size_t rest = qc_rd_left(&r);
        if (rest == 0 || rest % 4 != 0) return QC_ERR_DECODE;
        hdr->vn_versions = r.p;
        hdr->vn_count = rest / 4;
        hdr->pkt_len = len;
        return 0;
    }
    if (!ver) {
        hdr->type = QC_PT_INITIAL;
        hdr->pkt_len = len;
        return QC_ERR_VERSION;
    }
    /* The Type bits mean different packet types in v1 and v2 (RFC 9369 §3.2). */
    unsigned bits = (first >> 4) & 3;
    for (int t = QC_PT_INITIAL; t <= QC_PT_RETRY; t++)
        if (ver->type_bits[t] == bits) hdr->type = (enum qc_pkt_type)t;
    if (hdr->type == QC_PT_RETRY) {
        size_t rest = qc_rd_left(&r);
        if (rest < 16 + 1) /* a non-empty token and the tag */
            return QC_ERR_DECODE;
        hdr->token = r.p;
        hdr->token_len = rest - 16;
        hdr->retry_tag = r.p + rest - 16;
        hdr->pkt_len = len;
        return 0;
    }
    if (hdr->type == QC_PT_INITIAL) {
        uint64_t tl;
        if (qc_rd_varint(&r, &tl) || tl > qc_rd_left(&r)) return QC_ERR_DECODE;
        hdr->token = r.p;
        hdr->token_len = (size_t)tl;
        r.p += tl;
    }
    uint64_t length;
    if (qc_rd_varint(&r, &length)) return QC_ERR_DECODE;
    hdr->pn_offset = (size_t)(r.p - buf);
    if (length > qc_rd_left(&r) || length < 1 + 16) return QC_ERR_DECODE;
    hdr->pkt_len = hdr->pn_offset + (size_t)length;
    return 0;
}

size_t qc_pkt_write_hdr(uint8_t *buf, size_t cap, const qc_pkt_out *out, size_t *pn_offset) {
    if (out->pn_len < 1 || out->pn_len > 4) return 0;
    qc_wr w = qc_wr_init(buf, cap);
    uint8_t pnbits = (uint8_t)(out->pn_len - 1);
    if (out->type == QC_PT_1RTT) {
        uint8_t first = (out->clear_quic_bit ? 0 : 0x40) | pnbits | (out->key_phase ? 0x04 : 0) |
                        (out->spin ? 0x20 : 0);
        if (qc_wr_u8(&w, first) || qc_wr_bytes(&w, out->dcid->id, out->dcid->len)) return 0;
    } else {
        const qc_version *ver = qc_version_find(out->version);
        if (!ver ||
            (out->type != QC_PT_INITIAL && out->type != QC_PT_0RTT && out->type != QC_PT_HANDSHAKE))
            return 0;
        uint8_t first = (out->clear_quic_bit ? 0x80 : 0xc0) |
                        (uint8_t)(ver->type_bits[out->type] << 4) | pnbits;
        if (qc_wr_u8(&w, first) || qc_wr_u32(&w, out->version) || qc_wr_u8(&w, out->dcid->len) ||
            qc_wr_bytes(&w, out->dcid->id, out->dcid->len) || qc_wr_u8(&w, out->scid->len) ||
            qc_wr_bytes(&w, out->scid->id, out->scid->len))
            return 0;
        if (out->type == QC_PT_INITIAL &&
            (qc_wr_varint(&w, out->token_len) || qc_wr_bytes(&w, out->token, out->token_len)))
            return 0;
        if (qc_wr_u16(&w, 0x4000)) /* 2-byte Length placeholder */
            return 0;
    }
    *pn_offset = (size_t)(w.p - buf);
    if (qc_wr_left(&w) < out->pn_len) return 0;
    for (size_t i = out->pn_len; i-- > 0;)
        *w.p++ = (uint8_t)(out->pn >> (8 * i));
    return (size_t)(w.p - buf);
}

void qc_pkt_set_length(uint8_t *pkt, size_t pn_offset, size_t length) {
    pkt[pn_offset - 2] = (uint8_t)(0x40 | ((length >> 8) & 0x3f));
    pkt[pn_offset - 1] = (uint8_t)length;
}

uint64_t qc_pn_decode(uint64_t largest_pn, uint64_t truncated, size_t pn_len) {
    uint64_t expected = largest_pn == UINT64_MAX ? 0 : largest_pn + 1;
    uint64_t win = 1ull << (pn_len * 8), hwin = win / 2, mask = win - 1;
    uint64_t candidate = (expected & ~mask) | truncated;
    if (candidate + hwin <= expected && candidate < (1ull << 62) - win) return candidate + win;
    if (candidate > expected + hwin && candidate >= win) return candidate - win;
    return candidate;
}

size_t qc_pn_encode_len(uint64_t pn, uint64_t largest_acked) {
    uint64_t unacked = largest_acked == UINT64_MAX ? pn + 1 : pn - largest_acked;
    /* Enough bits to represent more than twice the unacknowledged range. */
    if (unacked < (1u << 7)) return 1;
    if (unacked < (1u << 15)) return 2;
    if (unacked < (1u << 23)) return 3;
    return 4;
}

size_t qc_pkt_write_vn(uint8_t *buf, size_t cap, const qc_cid *dcid, const qc_cid *scid,
                       const uint32_t *versions, size_t n, uint8_t unused_bits) {
    qc_wr w = qc_wr_init(buf, cap);
    if (qc_wr_u8(&w, 0x80 | (unused_bits & 0x7f)) || qc_wr_u32(&w, 0) || qc_wr_u8(&w, dcid->len) ||
        qc_wr_bytes(&w, dcid->id, dcid->len) || qc_wr_u8(&w, scid->len) ||
        qc_wr_bytes(&w, scid->id, scid->len))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (qc_wr_u32(&w, versions[i])) return 0;
    return (size_t)(w.p - buf);
}

size_t qc_pkt_write_retry_body(uint8_t *buf, size_t cap, uint32_t version, const qc_cid *dcid,
                               const qc_cid *scid, const uint8_t *token, size_t token_len,
                               uint8_t unused_bits) {
    qc_wr w = qc_wr_init(buf, cap);
    const qc_version *ver = qc_version_find(version);
    if (!ver || token_len == 0) return 0;
    uint8_t first = (uint8_t)(0xc0 | (ver->type_bits[QC_PT_RETRY] << 4) | (unused_bits & 0x0f));
    if (qc_wr_u8(&w, first) || qc_wr_u32(&w, version) || qc_wr_u8(&w, dcid->len) ||
        qc_wr_bytes(&w, dcid->id, dcid->len) || qc_wr_u8(&w, scid->len) ||
        qc_wr_bytes(&w, scid->id, scid->len) || qc_wr_bytes(&w, token, token_len) ||
        qc_wr_left(&w) < 16)
        return 0;
    return (size_t)(w.p - buf);
}
