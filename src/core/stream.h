/*
 * stream.h: one QUIC stream's data and states (RFC 9000 §2-3): the send
 * buffer with retransmission of lost ranges, the receive reassembly buffer
 * (out of order, duplicates, overlaps), FIN and final size, RESET_STREAM
 * and STOP_SENDING, and the two explicit state machines of §3.
 *
 * Memory: the send buffer copies what the application writes and frees it
 * as the peer acknowledges; the receive buffer grows on demand up to the
 * flow-control window and shrinks as the application reads. A stream with
 * no data buffered holds no heap memory.
 */
#ifndef QC_STREAM_H
#define QC_STREAM_H

#include "core/common.h"
#include "core/rangeset.h"

/* Stream ID helpers (RFC 9000 §2.1). */
static inline bool qc_sid_is_uni(uint64_t id) {
    return (id & 2) != 0;
}
static inline bool qc_sid_is_server(uint64_t id) {
    return (id & 1) != 0;
}
static inline bool qc_sid_is_local(uint64_t id, bool is_server) {
    return qc_sid_is_server(id) == is_server;
}

/* Sending part states (RFC 9000 §3.1). */
enum qc_send_state {
    QC_SEND_NONE = 0, /* receive-only stream: no sending part */
    QC_SEND_READY,
    QC_SEND_SEND,
    QC_SEND_DATA_SENT,
    QC_SEND_DATA_RECVD,
    QC_SEND_RESET_SENT,
    QC_SEND_RESET_RECVD,
};

/* Receiving part states (RFC 9000 §3.2). */
enum qc_recv_state {
    QC_RECV_NONE = 0, /* send-only stream: no receiving part */
    QC_RECV_RECV,
    QC_RECV_SIZE_KNOWN,
    QC_RECV_DATA_RECVD,
    QC_RECV_DATA_READ,
    QC_RECV_RESET_RECVD,
    QC_RECV_RESET_READ,
};

/* A ring buffer of bytes covering stream offsets [base, base + len). */
typedef struct qc_bytering {
    uint8_t *buf;
    size_t cap; /* power of two, or 0 */
    uint64_t base;
} qc_bytering;

typedef struct qc_send_buf {
    qc_bytering ring;
    uint64_t acked_floor; /* everything below is acknowledged and freed */
    uint64_t written;     /* end of application data (next write offset) */
    uint64_t sent;        /* next never-sent offset */
    qc_rangeset acked;    /* acknowledged ranges above acked_floor */
    qc_rangeset lost;     /* ranges to retransmit, below sent */
    bool fin;             /* application concluded: final size = written */
    bool fin_sent, fin_acked, fin_lost;
    uint64_t max_buffered; /* write buffer size limit (WANT_WRITE beyond) */
} qc_send_buf;

typedef struct qc_recv_buf {
    qc_bytering ring;
    uint64_t read;        /* next offset the application reads */
    qc_rangeset received; /* received ranges at or above read */
    uint64_t highest;     /* highest offset + 1 received */
    uint64_t final_size;  /* UINT64_MAX until known */
} qc_recv_buf;

typedef struct qc_stream {
    uint64_t id;
    enum qc_send_state send_state;
    enum qc_recv_state recv_state;
    qc_send_buf snd;
    qc_recv_buf rcv;
    /* Error codes: of a RESET_STREAM sent or received, of a STOP_SENDING. */
    uint64_t reset_code_sent, reset_code_recvd, stop_code_sent, stop_code_recvd;
    bool stop_sending_recvd;
} qc_stream;

/*
 * Initialises a stream for id as seen by an endpoint (is_server): sets
 * the states that exist (a peer's uni stream has no sending part, a local
 * uni stream no receiving part).
 */
void qc_stream_init(qc_stream *s, uint64_t id, bool is_server, uint64_t max_buffered);
void qc_stream_free(qc_stream *s);

/* --- sending part --- */

/* Copies up to len bytes into the send buffer (bounded by max_buffered); returns bytes taken
 * (0 when full), or QC_ERR_STREAM_STATE if the send side is concluded or reset. */
int64_t qc_stream_write(qc_stream *s, const uint8_t *data, size_t len);
/* Marks FIN after the buffered data. Idempotent. QC_ERR_STREAM_STATE after a reset. */
int qc_stream_conclude(qc_stream *s);
/* Bytes the buffer will take now. */
size_t qc_stream_write_avail(const qc_stream *s);

/*
 * Picks the next chunk to send: lost data first, then new data below
 * limit (the flow-control limit, as an absolute offset). Sets *off, *len
 * (at most max_len) and *fin (true if this chunk carries the FIN, which
 * may be with len 0). Returns false if nothing is ready.
 */
bool qc_stream_next_chunk(const qc_stream *s, uint64_t limit, size_t max_len, uint64_t *off,
                          size_t *len, bool *fin);
/* Copies stream bytes [off, off+len) (still buffered) into dst. */
void qc_stream_copy_out(const qc_stream *s, uint64_t off, size_t len, uint8_t *dst);
/* Records that [off, off+len) (and FIN if fin) went into a packet. */
int qc_stream_on_sent(qc_stream *s, uint64_t off, size_t len, bool fin);
/* The packet carrying [off, off+len)(+fin) was acknowledged / declared lost. */
int qc_stream_on_acked(qc_stream *s, uint64_t off, size_t len, bool fin);
int qc_stream_on_lost(qc_stream *s, uint64_t off, size_t len, bool fin);

/* Application resets the sending part (RESET_STREAM to send). QC_ERR_STREAM_STATE if
 * the send side is already all acknowledged or reset. */
int qc_stream_reset(qc_stream *s, uint64_t app_error);
/* Peer sent STOP_SENDING: records it (the engine then resets with the same code). */
int qc_stream_on_stop_sending(qc_stream *s, uint64_t app_error);
/* Our RESET_STREAM was acknowledged. */
void qc_stream_on_reset_acked(qc_stream *s);

/* --- receiving part --- */

/* Separate pieces of out-of-order data one stream holds at most (RFC 9000 §21.6: a peer
 * sending every other byte of its window would otherwise make the receiver keep a range
 * per byte). A frame that would make one more is QC_ERR_RECV_PIECES. */
#define QC_STREAM_MAX_PIECES 1024

/*
 * A STREAM frame arrived. Checks final-size rules (QC_ERR_FINAL_SIZE) and
 * stores new bytes (duplicates and overlaps ignored). Flow control is the
 * caller's job: it checks off+len against the window before calling.
 * *new_bytes is the growth of the highest received offset (for the
 * connection-level window). Returns 0 or a QC_ERR_*.
 */
int qc_stream_on_data(qc_stream *s, uint64_t off, const uint8_t *data, size_t len, bool fin,
                      uint64_t *new_bytes);
/* A RESET_STREAM arrived. Returns 0, QC_ERR_FINAL_SIZE; *new_bytes as above. Buffered data is
 * discarded. Both receive calls return QC_ERR_STREAM_STATE on a send-only stream and
 * QC_ERR_FLOW_CONTROL for an end offset beyond 2^62-1. */
int qc_stream_on_reset(qc_stream *s, uint64_t app_error, uint64_t final_size, uint64_t *new_bytes);
/* Contiguous bytes ready to read. */
size_t qc_stream_readable(const qc_stream *s);
/* Reads up to len contiguous bytes; *fin true when the read reached the final size.
 * In RESET_RECVD it returns 0 (fin false) and moves to RESET_READ: the caller reports the
 * reset (reset_code_recvd) to the application before calling it. */
size_t qc_stream_read(qc_stream *s, uint8_t *dst, size_t len, bool *fin);
/* Copies up to len contiguous bytes without consuming them (a later read returns them). */
size_t qc_stream_peek(const qc_stream *s, uint8_t *dst, size_t len);

/* Send part has nothing left to do (all data and FIN acked, or reset acked). */
bool qc_stream_send_done(const qc_stream *s);
/* Receive part finished (all read, or reset seen by the application). */
bool qc_stream_recv_done(const qc_stream *s);

#endif
