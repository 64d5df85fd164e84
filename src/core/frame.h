/*
 * frame.h: every RFC 9000 frame type (plus RFC 9221 DATAGRAM), encoded and
 * decoded with full validation, and the table of which packet types may
 * carry which frame (RFC 9000 §12.4, Table 3).
 *
 * Decoders are pure: they read one frame from the cursor into a qc_frame
 * whose pointers point into the input, and change nothing else.
 */
#ifndef QC_FRAME_H
#define QC_FRAME_H

#include "core/common.h"
#include "core/packet.h"
#include "core/varint.h"

enum qc_frame_type {
    QC_FT_PADDING = 0x00,
    QC_FT_PING = 0x01,
    QC_FT_ACK = 0x02,
    QC_FT_ACK_ECN = 0x03,
    QC_FT_RESET_STREAM = 0x04,
    QC_FT_STOP_SENDING = 0x05,
    QC_FT_CRYPTO = 0x06,
    QC_FT_NEW_TOKEN = 0x07,
    QC_FT_STREAM = 0x08, /* 0x08..0x0f: bit 0x04 OFF, 0x02 LEN, 0x01 FIN */
    QC_FT_MAX_DATA = 0x10,
    QC_FT_MAX_STREAM_DATA = 0x11,
    QC_FT_MAX_STREAMS_BIDI = 0x12,
    QC_FT_MAX_STREAMS_UNI = 0x13,
    QC_FT_DATA_BLOCKED = 0x14,
    QC_FT_STREAM_DATA_BLOCKED = 0x15,
    QC_FT_STREAMS_BLOCKED_BIDI = 0x16,
    QC_FT_STREAMS_BLOCKED_UNI = 0x17,
    QC_FT_NEW_CONNECTION_ID = 0x18,
    QC_FT_RETIRE_CONNECTION_ID = 0x19,
    QC_FT_PATH_CHALLENGE = 0x1a,
    QC_FT_PATH_RESPONSE = 0x1b,
    QC_FT_CONNECTION_CLOSE = 0x1c,
    QC_FT_CONNECTION_CLOSE_APP = 0x1d,
    QC_FT_HANDSHAKE_DONE = 0x1e,
    QC_FT_DATAGRAM = 0x30,     /* RFC 9221, no length */
    QC_FT_DATAGRAM_LEN = 0x31, /* RFC 9221, with length */
};

#define QC_STREAM_BIT_OFF 0x04
#define QC_STREAM_BIT_LEN 0x02
#define QC_STREAM_BIT_FIN 0x01

typedef struct qc_frame {
    uint64_t type; /* wire type as decoded (STREAM: 0x08..0x0f) */
    union {
        struct {
            size_t count; /* bytes of padding (a run of 0x00 is one frame) */
        } padding;
        struct {
            uint64_t largest, ack_delay, first_range, range_count;
            const uint8_t *ranges; /* raw (gap, length) varint pairs, validated */
            size_t ranges_len;
            bool ecn;
            uint64_t ect0, ect1, ce;
        } ack;
        struct {
            uint64_t stream_id, app_error, final_size;
        } reset_stream;
        struct {
            uint64_t stream_id, app_error;
        } stop_sending;
        struct {
            uint64_t offset;
            const uint8_t *data;
            size_t len;
        } crypto;
        struct {
            const uint8_t *token;
            size_t len;
        } new_token;
        struct {
            uint64_t stream_id, offset;
            const uint8_t *data;
            size_t len;
            bool fin;
        } stream;
        struct {
            uint64_t max; /* MAX_DATA, MAX_STREAMS_*, DATA_BLOCKED, STREAMS_BLOCKED_* */
        } max;
        struct {
            uint64_t stream_id, max; /* MAX_STREAM_DATA, STREAM_DATA_BLOCKED */
        } stream_max;
        struct {
            uint64_t seq, retire_prior_to;
            qc_cid cid;
            uint8_t reset_token[QC_RESET_TOKEN_LEN];
        } new_cid;
        struct {
            uint64_t seq;
        } retire_cid;
        struct {
            uint8_t data[8]; /* PATH_CHALLENGE, PATH_RESPONSE */
        } path;
        struct {
            uint64_t error_code, frame_type; /* frame_type: transport close only */
            const uint8_t *reason;
            size_t reason_len;
        } close;
        struct {
            const uint8_t *data;
            size_t len;
        } datagram;
    } u;
} qc_frame;

/*
 * Decodes one frame. Returns 0, or QC_ERR_FRAME_ENCODING (truncated,
 * unknown type, a value out of range such as a stream offset + length
 * beyond 2^62-1, an ACK range below zero, a NEW_CONNECTION_ID with a length
 * outside 1..20 or retire_prior_to > seq, MAX_STREAMS > 2^60), or
 * QC_ERR_PROTO for a frame type not minimally encoded (RFC 9000 §12.4).
 * The cursor is advanced past the frame on success only.
 */
int qc_frame_decode(qc_rd *r, qc_frame *f);

/* Encodes f (any type but ACK, see below). Returns 0 or QC_ERR_NOBUF (nothing written). */
int qc_frame_encode(qc_wr *w, const qc_frame *f);

/* Iterates the ranges of a decoded ACK frame, largest first. */
typedef struct qc_ack_iter {
    qc_rd rd;
    uint64_t remaining;
    uint64_t next_hi; /* UINT64_MAX once done */
    uint64_t lo_prev;
} qc_ack_iter;
void qc_ack_iter_init(qc_ack_iter *it, const qc_frame *ack);
/* Returns true and sets *r to the next range, or false when done. */
bool qc_ack_iter_next(qc_ack_iter *it, qc_range *r);

/*
 * Encodes an ACK (or ACK_ECN when ecn != NULL, as {ect0, ect1, ce}) frame
 * from ranges sorted in descending order, non-overlapping and non-adjacent.
 * ack_delay is the already-scaled field value. When the buffer cannot hold
 * all ranges, as many as fit are written (the oldest are dropped); returns
 * 0, or QC_ERR_NOBUF if not even the first range fits.
 */
int qc_frame_encode_ack(qc_wr *w, const qc_range *ranges, size_t n, uint64_t ack_delay,
                        const uint64_t *ecn);

/* Length of a STREAM frame header (type, id, offset if nonzero, length if with_len). */
size_t qc_frame_stream_hdr_len(uint64_t stream_id, uint64_t offset, size_t len, bool with_len);
/* Writes a STREAM frame header; the caller copies the len data bytes after it. */
uint8_t *qc_frame_stream_hdr_put(uint8_t *p, uint64_t stream_id, uint64_t offset, size_t len,
                                 bool with_len, bool fin);

/* Permission table: may a frame of this wire type appear in a packet of type pt? */
bool qc_frame_allowed(uint64_t type, enum qc_pkt_type pt);
/* RFC 9002 ack-eliciting (everything but ACK, PADDING, CONNECTION_CLOSE). */
bool qc_frame_ack_eliciting(uint64_t type);
/* RFC 9000 §9.1 probing frames (PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID, PADDING). */
bool qc_frame_probing(uint64_t type);
/* Short name for logs ("STREAM", "ACK"...). */
const char *qc_frame_name(uint64_t type);

#endif
