/*
 * flowctl.h: flow control accounting (RFC 9000 §4) for one stream or one
 * connection, both directions, with receive-window auto-tuning: when the
 * peer consumes a window within a few RTTs, the window doubles up to a cap.
 */
#ifndef QC_FLOWCTL_H
#define QC_FLOWCTL_H

#include "core/common.h"

/* Receive side: what we allow the peer to send. */
typedef struct qc_fc_recv {
    uint64_t max;        /* limit advertised to the peer (absolute offset) */
    uint64_t highest;    /* highest offset received (sum over streams for the connection) */
    uint64_t consumed;   /* bytes the application consumed */
    uint64_t window;     /* current window size */
    uint64_t max_window; /* auto-tuning cap */
    qc_ts last_update;   /* when max was last raised (QC_TS_NONE: never) */
    bool update_pending; /* a MAX_DATA / MAX_STREAM_DATA should be sent */
} qc_fc_recv;

void qc_fc_recv_init(qc_fc_recv *fc, uint64_t window, uint64_t max_window);
/* Data up to end_offset (for the connection: highest grew by delta) arrived.
 * Returns 0 or QC_ERR_FLOW_CONTROL when it exceeds max. */
int qc_fc_recv_on_data(qc_fc_recv *fc, uint64_t new_highest);
/* The application consumed n more bytes; may set update_pending (when less
 * than half the window remains). */
void qc_fc_recv_consume(qc_fc_recv *fc, uint64_t n);
/* Computes the new limit to advertise (auto-tuned with srtt), stores it and clears
 * update_pending; returns the new max. */
uint64_t qc_fc_recv_update(qc_fc_recv *fc, qc_ts now, qc_ts srtt);

/* Send side: what the peer allows us to send. */
typedef struct qc_fc_send {
    uint64_t max;        /* peer's limit */
    uint64_t used;       /* bytes sent (highest offset) */
    uint64_t blocked_at; /* limit at which we last sent *_BLOCKED (UINT64_MAX: never) */
} qc_fc_send;

void qc_fc_send_init(qc_fc_send *fc, uint64_t max);
/* Peer raised the limit (ignored if not larger). */
void qc_fc_send_on_max(qc_fc_send *fc, uint64_t max);
static inline uint64_t qc_fc_send_avail(const qc_fc_send *fc) {
    return fc->max > fc->used ? fc->max - fc->used : 0;
}
/* True if a *_BLOCKED frame should be sent now (blocked, and not yet reported at this limit). */
bool qc_fc_send_should_report_blocked(const qc_fc_send *fc);
/* A *_BLOCKED frame was sent at the current limit (sets blocked_at = max). */
void qc_fc_send_blocked_reported(qc_fc_send *fc);

#endif
