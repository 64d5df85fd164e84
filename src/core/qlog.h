/*
 * qlog.h: the engine's qlog events (draft-ietf-quic-qlog-main-schema and
 * -quic-events): packets sent, received and lost, recovery metrics, key
 * updates, the negotiated version and the close, each as a name and the JSON
 * text of its "data" member, handed to a sink the caller provides (the API
 * writes them as JSON-SEQ records to a file). The engine formats nothing when
 * no sink is set.
 */
#ifndef QC_QLOG_H
#define QC_QLOG_H

#include "core/common.h"
#include "core/packet.h"

typedef void (*qc_qlog_fn)(void *user, qc_ts now, const char *name, const char *data);

/* A bounded JSON builder: what does not fit is cut at a clean point (the event stays
 * valid JSON: callers close what they opened only if it fitted). */
typedef struct qc_qlog_buf {
    char s[2048];
    size_t n;
    bool full;
} qc_qlog_buf;

void qc_qlog_init(qc_qlog_buf *b);
/* Appends printf-formatted text unless it would not fit (then full is set). */
void qc_qlog_add(qc_qlog_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* qlog's name of a packet type ("initial", "0RTT", "handshake", "1RTT", ...). */
const char *qc_qlog_packet_type(enum qc_pkt_type t);
/* A frame type's qlog name (lowercase: "stream", "ack", "max_data", ...). */
void qc_qlog_frame_type(qc_qlog_buf *b, const char *wire_name);

#endif
