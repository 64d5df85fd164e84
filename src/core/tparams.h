/*
 * tparams.h: QUIC transport parameters (RFC 9000 §18): encode, decode and
 * validate, including the connection-ID authentication parameters (§7.3).
 */
#ifndef QC_TPARAMS_H
#define QC_TPARAMS_H

#include "core/common.h"

enum qc_tp_id {
    QC_TP_ORIGINAL_DCID = 0x00,
    QC_TP_MAX_IDLE_TIMEOUT = 0x01,
    QC_TP_STATELESS_RESET_TOKEN = 0x02,
    QC_TP_MAX_UDP_PAYLOAD_SIZE = 0x03,
    QC_TP_INITIAL_MAX_DATA = 0x04,
    QC_TP_INITIAL_MAX_STREAM_DATA_BIDI_LOCAL = 0x05,
    QC_TP_INITIAL_MAX_STREAM_DATA_BIDI_REMOTE = 0x06,
    QC_TP_INITIAL_MAX_STREAM_DATA_UNI = 0x07,
    QC_TP_INITIAL_MAX_STREAMS_BIDI = 0x08,
    QC_TP_INITIAL_MAX_STREAMS_UNI = 0x09,
    QC_TP_ACK_DELAY_EXPONENT = 0x0a,
    QC_TP_MAX_ACK_DELAY = 0x0b,
    QC_TP_DISABLE_ACTIVE_MIGRATION = 0x0c,
    QC_TP_PREFERRED_ADDRESS = 0x0d,
    QC_TP_ACTIVE_CONNECTION_ID_LIMIT = 0x0e,
    QC_TP_INITIAL_SCID = 0x0f,
    QC_TP_RETRY_SCID = 0x10,
    QC_TP_VERSION_INFORMATION = 0x11, /* RFC 9368 §3 */
    /* The same in draft-ietf-quic-version-negotiation, still used with the v2 draft */
    QC_TP_VERSION_INFORMATION_DRAFT = 0xff73db,
    QC_TP_MAX_DATAGRAM_FRAME_SIZE = 0x20,
    QC_TP_GREASE_QUIC_BIT = 0x2ab2, /* RFC 9287 */
};

#define QC_TP_MAX_VERSIONS 16 /* Available Versions kept from a peer's list */

typedef struct qc_tparams {
    /* Presence flags for the optional connection-ID parameters. */
    bool has_original_dcid, has_initial_scid, has_retry_scid, has_reset_token;
    bool has_preferred_address;
    qc_cid original_dcid, initial_scid, retry_scid;
    uint8_t reset_token[QC_RESET_TOKEN_LEN];
    uint64_t max_idle_timeout_ms;  /* 0 = none */
    uint64_t max_udp_payload_size; /* default 65527 */
    uint64_t initial_max_data;
    uint64_t initial_max_stream_data_bidi_local;
    uint64_t initial_max_stream_data_bidi_remote;
    uint64_t initial_max_stream_data_uni;
    uint64_t initial_max_streams_bidi;
    uint64_t initial_max_streams_uni;
    uint64_t ack_delay_exponent; /* default 3 */
    uint64_t max_ack_delay_ms;   /* default 25 */
    bool disable_active_migration;
    uint64_t active_connection_id_limit; /* default 2 */
    uint64_t max_datagram_frame_size;    /* 0 = not supported */
    bool grease_quic_bit;                /* RFC 9287: packets with the QUIC bit clear welcome */
    struct {
        uint8_t ipv4[4];
        uint16_t ipv4_port;
        uint8_t ipv6[16];
        uint16_t ipv6_port;
        qc_cid cid;
        uint8_t reset_token[QC_RESET_TOKEN_LEN];
    } preferred_address;
    /* version_information (RFC 9368 §3): the Chosen Version and the first
     * QC_TP_MAX_VERSIONS Available Versions (all of them were checked). */
    bool has_version_info;
    bool version_info_draft; /* encode: also under the draft's id; decode: the draft's came */
    uint32_t chosen_version;
    uint32_t available_versions[QC_TP_MAX_VERSIONS];
    size_t n_available;
} qc_tparams;

/* Fills tp with the RFC defaults (all limits zero, defaults where the RFC gives one). */
void qc_tparams_default(qc_tparams *tp);

/* Encodes tp as sent by a client (is_server false) or server. Server-only
 * parameters are written only for a server. Returns the length or QC_ERR_NOBUF. */
int qc_tparams_encode(const qc_tparams *tp, bool is_server, uint8_t *buf, size_t cap);

/*
 * Decodes parameters sent by the peer; is_server is true when the sender
 * is a server. Unknown parameters are skipped; duplicates, bad lengths,
 * values out of range (max_udp_payload_size < 1200, ack_delay_exponent >
 * 20, max_ack_delay >= 2^14, active_connection_id_limit < 2, streams >
 * 2^60), server-only parameters from a client and a version_information that
 * does not parse (RFC 9368 §4: a length not a multiple of 4, a zero version, a
 * client's Chosen Version missing from its Available Versions) give
 * QC_ERR_TPARAM.
 */
int qc_tparams_decode(qc_tparams *tp, bool is_server, const uint8_t *buf, size_t len);

/*
 * Checks the connection-ID authentication parameters (RFC 9000 §7.3) of
 * the peer's parameters. For a client checking a server: odcid is the DCID
 * of its first Initial, scid the SCID the server used, retry_scid the SCID of
 * a Retry it accepted (NULL if none). For a server checking a client: only
 * initial_scid against scid. Returns 0 or QC_ERR_TPARAM (a missing or
 * mismatched value; retry_scid present without a Retry).
 */
int qc_tparams_check_cids(const qc_tparams *peer, bool peer_is_server, const qc_cid *odcid,
                          const qc_cid *scid, const qc_cid *retry_scid);

#endif
