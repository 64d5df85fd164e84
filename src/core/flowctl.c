/*
 * flowctl.c: flow-control accounting (see flowctl.h).
 *
 * Receive side: the advertised limit is consumed + window. An update is
 * wanted once less than half of the window remains unconsumed. The window
 * auto-tunes: if the previous update was less than 4 * srtt before the one
 * now needed, the peer is limited by us, so the window doubles (capped at
 * max_window).
 */
#include "core/flowctl.h"

void qc_fc_recv_init(qc_fc_recv *fc, uint64_t window, uint64_t max_window) {
    if (window > QC_MAX_VARINT) window = QC_MAX_VARINT;
    fc->max = window;
    fc->highest = 0;
    fc->consumed = 0;
    fc->window = window;
    fc->max_window = QC_MIN(QC_MAX(max_window, window), QC_MAX_VARINT);
    fc->last_update = QC_TS_NONE;
    fc->update_pending = false;
}

/* new_highest is an absolute offset; for the connection, the caller passes the
 * previous highest plus the growth reported by the stream. */
int qc_fc_recv_on_data(qc_fc_recv *fc, uint64_t new_highest) {
    if (new_highest > fc->max) return QC_ERR_FLOW_CONTROL;
    if (new_highest > fc->highest) fc->highest = new_highest;
    return 0;
}

void qc_fc_recv_consume(qc_fc_recv *fc, uint64_t n) {
    fc->consumed += n;
    uint64_t left = fc->max > fc->consumed ? fc->max - fc->consumed : 0;
    if (left < fc->window / 2 && fc->max < QC_MAX_VARINT) fc->update_pending = true;
}

uint64_t qc_fc_recv_update(qc_fc_recv *fc, qc_ts now, qc_ts srtt) {
    if (fc->last_update != QC_TS_NONE && now >= fc->last_update && srtt != QC_TS_NONE &&
        srtt <= UINT64_MAX / 4 && now - fc->last_update < 4 * srtt) {
        uint64_t w = fc->window > fc->max_window / 2 ? fc->max_window : fc->window * 2;
        fc->window = QC_MAX(w, fc->window);
    }
    uint64_t m = fc->consumed + fc->window;
    if (m < fc->consumed || m > QC_MAX_VARINT) m = QC_MAX_VARINT;
    if (m > fc->max) fc->max = m;
    fc->last_update = now;
    fc->update_pending = false;
    return fc->max;
}

void qc_fc_send_init(qc_fc_send *fc, uint64_t max) {
    fc->max = max;
    fc->used = 0;
    fc->blocked_at = UINT64_MAX;
}

void qc_fc_send_on_max(qc_fc_send *fc, uint64_t max) {
    if (max > fc->max) fc->max = max;
}

bool qc_fc_send_should_report_blocked(const qc_fc_send *fc) {
    return fc->used >= fc->max && fc->blocked_at != fc->max;
}

void qc_fc_send_blocked_reported(qc_fc_send *fc) {
    fc->blocked_at = fc->max;
}
