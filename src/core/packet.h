/*
 * packet.h: QUIC packet headers (RFC 9000 §17, RFC 8999), packet-number
 * encoding (RFC 9000 §17.1, Appendix A), coalesced packets, Version
 * Negotiation and Retry packet layout.
 *
 * Parsing is pure: bytes in, struct out. Header protection is NOT removed
 * here (see protect.h): the parser stops at the packet-number field and
 * reports where it starts.
 */
#ifndef QC_PACKET_H
#define QC_PACKET_H

#include "core/common.h"

enum qc_pkt_type {
    QC_PT_INITIAL = 0,
    QC_PT_0RTT = 1,
    QC_PT_HANDSHAKE = 2,
    QC_PT_RETRY = 3,
    QC_PT_1RTT = 4,
    QC_PT_VN = 5,
    QC_PT_COUNT = 6
};

/* A parsed (still header-protected) packet header. Pointers point into the input. */
typedef struct qc_pkt_hdr {
    enum qc_pkt_type type;
    uint8_t first;        /* first byte as received (protected bits included) */
    uint32_t version;     /* long header version; 0 for VN and for short headers */
    qc_cid dcid, scid;    /* scid unset (len 0) for short headers */
    const uint8_t *token; /* Initial: token; Retry: retry token */
    size_t token_len;
    const uint8_t *vn_versions; /* VN: raw list of 4-byte versions */
    size_t vn_count;
    const uint8_t *retry_tag; /* Retry: the 16-byte integrity tag */
    size_t pn_offset;         /* offset of the packet-number field (not for VN or Retry) */
    size_t pkt_len; /* this packet's bytes in the datagram: long header = pn_offset + Length,
                       short header, VN and Retry = all remaining bytes */
} qc_pkt_hdr;

/*
 * Parses the header of the packet at buf. short_dcid_len is the length of
 * the connection IDs this endpoint issued (for short headers). The Type bits
 * are read as the version says (core/version.h). For a long header of a
 * version quicc does not speak, only the invariant fields (version,
 * dcid, scid) are filled, type is QC_PT_INITIAL and QC_ERR_VERSION is
 * returned, so that a server can answer with Version Negotiation.
 * Returns 0, QC_ERR_VERSION, or QC_ERR_DECODE (truncated, cid > 20 bytes,
 * Length beyond the datagram). The QUIC bit (0x40 of hdr->first) is not judged here: a
 * clear one is valid from a peer we told we accept it (RFC 9287; QC_PKT_QUIC_BIT_OK).
 */
int qc_pkt_parse(const uint8_t *buf, size_t len, size_t short_dcid_len, qc_pkt_hdr *hdr);
/* Whether a parsed packet's QUIC bit is acceptable: set, or clear when we advertised
 * grease_quic_bit (Version Negotiation ignores it). */
static inline bool qc_pkt_quic_bit_ok(const qc_pkt_hdr *hdr, bool grease_ok) {
    return (hdr->first & 0x40) || grease_ok || hdr->type == QC_PT_VN;
}

/* What to write in an outgoing header. */
typedef struct qc_pkt_out {
    enum qc_pkt_type type; /* INITIAL, 0RTT, HANDSHAKE or 1RTT */
    uint32_t version;
    const qc_cid *dcid, *scid;
    const uint8_t *token; /* Initial only */
    size_t token_len;
    uint64_t pn;
    size_t pn_len;       /* 1..4, from qc_pn_encode_len() */
    bool key_phase;      /* 1RTT */
    bool spin;           /* 1RTT */
    bool clear_quic_bit; /* the QUIC bit (0x40) left clear: the peer greases (RFC 9287) */
} qc_pkt_out;

/*
 * Writes a header. Long headers get a 2-byte Length placeholder, filled by
 * qc_pkt_set_length() once the payload size is known. Sets *pn_offset.
 * Returns the header length (pn included) or 0 if cap is too small.
 */
size_t qc_pkt_write_hdr(uint8_t *buf, size_t cap, const qc_pkt_out *out, size_t *pn_offset);

/* Fills the 2-byte Length field (pn_len + payload + AEAD tag) of a long header. */
void qc_pkt_set_length(uint8_t *pkt, size_t pn_offset, size_t length);

/* Full packet number from a truncated one (RFC 9000 Appendix A.3). largest_pn is
 * UINT64_MAX when nothing has been received yet in the space. */
uint64_t qc_pn_decode(uint64_t largest_pn, uint64_t truncated, size_t pn_len);

/* Bytes needed to send pn given the largest acknowledged (UINT64_MAX: none), 1..4. */
size_t qc_pn_encode_len(uint64_t pn, uint64_t largest_acked);

/* Writes a Version Negotiation packet listing versions; returns its length or 0. */
size_t qc_pkt_write_vn(uint8_t *buf, size_t cap, const qc_cid *dcid, const qc_cid *scid,
                       const uint32_t *versions, size_t n, uint8_t unused_bits);

/* Writes a Retry packet without its integrity tag (see qc_retry_tag() in protect.h);
 * returns its length or 0. */
size_t qc_pkt_write_retry_body(uint8_t *buf, size_t cap, uint32_t version, const qc_cid *dcid,
                               const qc_cid *scid, const uint8_t *token, size_t token_len,
                               uint8_t unused_bits);

/* True if a packet of this type is long-header. */
static inline bool qc_pkt_is_long(enum qc_pkt_type t) {
    return t != QC_PT_1RTT;
}

/* Packet number space of a packet type. */
static inline enum qc_pn_space qc_pkt_space(enum qc_pkt_type t) {
    return t == QC_PT_INITIAL ? QC_PNS_INITIAL
                              : (t == QC_PT_HANDSHAKE ? QC_PNS_HANDSHAKE : QC_PNS_APP);
}

#endif
